import { tableDelta } from "../compile/delta.js";
import type { HostPolicy } from "../compile/host-policy.js";
import { fullScript } from "../compile/nft-script.js";
import type { NftTable } from "../compile/nft-table.js";
import { compileHostPolicy } from "../compile/nftables.js";
import type { HostFirewall } from "./lab.js";
import { NftSession } from "./nft-session.js";

// A lab host's firewall: the compiler's table for the host's policy, applied by a long-lived nft in
// the host's namespace, as a full replacement the first time and as the compiler's minimal delta
// after that. It stands in for the agent's HostEnforcer until that is available to the lab.

export class NamespaceNftFirewall implements HostFirewall {
  private table: NftTable | undefined;
  private session: NftSession;

  constructor(readonly namespace: string) {
    this.session = new NftSession(namespace);
  }

  async apply(policy: HostPolicy): Promise<void> {
    const next = compileHostPolicy(policy);
    const script = this.table ? tableDelta(this.table, next).script : fullScript(next);
    if (!this.session.alive) this.session = new NftSession(this.namespace);
    try {
      await this.session.run(script);
    } catch (error) {
      // The kernel may hold something other than what we think: replace it all next time.
      this.table = undefined;
      throw error;
    }
    this.table = next;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

export const namespaceNftFirewall = (namespace: string): HostFirewall => new NamespaceNftFirewall(namespace);
