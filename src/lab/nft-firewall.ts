import { tableDelta } from "../compile/delta.js";
import type { HostPolicy } from "../compile/host-policy.js";
import { fullScript } from "../compile/nft-script.js";
import type { NftTable } from "../compile/nft-table.js";
import { compileHostPolicy } from "../compile/nftables.js";
import { execInNamespace } from "./iproute.js";
import type { HostFirewall } from "./lab.js";

// A lab host's firewall: the compiler's table for the host's policy, applied with `nft -f` inside
// the host's namespace, as a full replacement the first time and as the compiler's minimal delta
// after that. It stands in for the agent's HostEnforcer until that is available to the lab.

export class NamespaceNftFirewall implements HostFirewall {
  private table: NftTable | undefined;

  constructor(readonly namespace: string) {}

  async apply(policy: HostPolicy): Promise<void> {
    const next = compileHostPolicy(policy);
    const script = this.table ? tableDelta(this.table, next).script : fullScript(next);
    if (script.length > 0) {
      const result = await execInNamespace(this.namespace, ["nft", "-f", "-"], script);
      if (result.code !== 0) {
        // The kernel may hold something other than what we think: start over next time.
        this.table = undefined;
        throw new Error(`nft in ${this.namespace} failed: ${result.stderr.trim()}`);
      }
    }
    this.table = next;
  }
}

export const namespaceNftFirewall = (namespace: string): HostFirewall => new NamespaceNftFirewall(namespace);
