// The agent's one interface to the kernel's firewall: run a transaction, read the table back, remove
// it. NftSessionKernel (nft-session.ts) keeps one `nft` running (optionally inside a network
// namespace); FakeKernel keeps a model in memory for tests without root. Everything above this
// boundary is kernel-independent.

import { createHash, type Hash } from "node:crypto";

/**
 * The digest of each object of the table as the kernel lists it, by key: `set NAME`, `map NAME`,
 * `chain NAME` (with its rules), `ct timeout NAME`, and `table` for the table's own lines (flags).
 */
export type ObjectDigests = ReadonlyMap<string, string>;

export interface NftKernel {
  /** Runs an `nft -f` script as one transaction; throws NftApplyError and changes nothing on failure. */
  apply(script: string): Promise<void>;
  /** The `inet ringfence` table as the kernel lists it, or undefined when there is none. */
  listTable(): Promise<string | undefined>;
  /**
   * Digests that ignore counter values: of every object of the table when `objects` is absent
   * (undefined when there is no table), else of those of `objects` that exist, each listed alone
   * (which costs nft far less than listing the table when the objects are sets).
   */
  objectDigests(objects?: readonly string[]): Promise<ObjectDigests | undefined>;
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

/** Digests of the objects of an `nft list table` listing (see ObjectDigests). */
export function digestsOfListing(listing: string): ObjectDigests {
  const digests = new ListingDigests();
  digests.update(listing);
  return digests.result();
}

/**
 * digestsOfListing over a listing that arrives in pieces (nft's output), so that the agent never
 * holds a large table's listing, nor its normalised copy, as a whole. nft prints each object of
 * the table as a block from `\tKIND NAME {` to `\t}`, and lists an object alone exactly as it prints
 * it in the table; the counter values in rules are left out.
 */
export class ListingDigests {
  private readonly digests = new Map<string, string>();
  private readonly table = createHash("sha256");
  /** The object whose block is being read. */
  private block: { readonly key: string; readonly hash: Hash } | undefined;
  /** The start of a line whose end has not arrived yet. */
  private partial = "";

  update(piece: string): void {
    const text = this.partial + piece;
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      this.line(text.slice(start, end));
      start = end + 1;
    }
    this.partial = text.slice(start);
  }

  result(): ObjectDigests {
    if (this.partial !== "") this.line(this.partial);
    this.partial = "";
    this.digests.set("table", this.table.digest("hex"));
    return this.digests;
  }

  private line(line: string): void {
    if (this.block) {
      if (line === "\t}") {
        this.digests.set(this.block.key, this.block.hash.digest("hex"));
        this.block = undefined;
      } else {
        this.block.hash.update(`${line.replace(COUNTER, "counter")}\n`);
      }
      return;
    }
    const opened = OBJECT_START.exec(line);
    if (opened) this.block = { key: opened[1] as string, hash: createHash("sha256") };
    else if (line !== "") this.table.update(`${line}\n`);
  }
}

const OBJECT_START = /^\t(\S.*) \{$/;
const COUNTER = /counter packets \d+ bytes \d+/g;
