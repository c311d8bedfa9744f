// The agent's one interface to the kernel's firewall: run a transaction, read the table back, remove
// it. NftCommandKernel runs `nft` (optionally inside a network namespace); FakeKernel keeps a model
// in memory for tests without root. Everything above this boundary is kernel-independent.

import { createHash } from "node:crypto";

export interface NftKernel {
  /** Runs an `nft -f` script as one transaction; throws NftApplyError and changes nothing on failure. */
  apply(script: string): Promise<void>;
  /** The `inet ringfence` table as `nft -j list table` JSON text, or undefined when there is none. */
  listTable(): Promise<string | undefined>;
  /** A digest of the table's content that ignores handles and counter values; undefined if absent. */
  tableChecksum(): Promise<string | undefined>;
  /** Removes the table (and with it every rule); no error when there is none. */
  deleteTable(): Promise<void>;
}

export class NftApplyError extends Error {
  constructor(
    message: string,
    readonly script: string,
  ) {
    super(message);
    this.name = "NftApplyError";
  }
}

/**
 * The digest of a table listing, `nft -j list table` JSON or `nft list table` text: the metainfo,
 * object handles and counter values change without anyone editing the table, so they are left out.
 * Textual rather than JSON.parse: a large table lists as megabytes, checked every 30 s.
 */
export function checksumOfListing(listing: string): string {
  const normalised = listing
    .replace(/\{"metainfo": \{[^}]*\}\}, ?/, "")
    .replace(/"handle": \d+/g, '"handle": 0')
    .replace(/"counter": \{"packets": \d+, "bytes": \d+\}/g, '"counter": {}')
    .replace(/counter packets \d+ bytes \d+/g, "counter");
  return createHash("sha256").update(normalised).digest("hex");
}
