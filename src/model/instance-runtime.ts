import type { Estate } from "./estate.js";

/**
 * Something that runs instances for the control plane (the lab's network namespaces). The server
 * calls `sync` after every committed write, serially and before it answers the request, with the
 * estate of the whole region (all accounts) at that revision. The runtime converges on it: launches
 * instances that are `pending`/`running` and not yet up, takes `stopping`/`stopped` ones down,
 * removes `shutting-down`/`terminated` ones, and enforces each running instance's current policy.
 */
export interface InstanceRuntime {
  sync(estate: Estate, revision: number): Promise<void>;
  close(): Promise<void>;
}
