import { checksumOfListing, NftApplyError, type NftKernel } from "../agent/kernel.js";
import { NftSession } from "./nft-session.js";

// The agent's kernel boundary for a lab host: the same contract as the agent's NftCommandKernel
// with a namespace, but served by one long-lived nft per namespace, so that a policy change to many
// hosts costs a kernel transaction each rather than a process start each.

const TABLE = "inet ringfence";

export class NamespaceNftKernel implements NftKernel {
  private session: NftSession;

  constructor(readonly namespace: string) {
    this.session = new NftSession(namespace);
  }

  private live(): NftSession {
    if (!this.session.alive) this.session = new NftSession(this.namespace);
    return this.session;
  }

  async apply(script: string): Promise<void> {
    try {
      await this.live().run(script);
    } catch (error) {
      throw new NftApplyError(error instanceof Error ? error.message : String(error), script);
    }
  }

  async listTable(): Promise<string | undefined> {
    return this.listing(await this.live().query(`list table ${TABLE}`));
  }

  private listing(text: string): string | undefined {
    const out = text.trim();
    if (out.includes("Error:")) {
      if (/No such file or directory/.test(out)) return undefined;
      throw new Error(`nft list table in ${this.namespace}: ${out}`);
    }
    return out;
  }

  async tableChecksum(): Promise<string | undefined> {
    const listing = await this.listTable();
    return listing === undefined ? undefined : checksumOfListing(listing);
  }

  async deleteTable(): Promise<void> {
    await this.apply(`add table ${TABLE}\ndelete table ${TABLE}\n`);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
