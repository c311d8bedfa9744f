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
  const digest = new ListingDigest();
  digest.update(listing);
  return digest.digest();
}

/**
 * checksumOfListing over a listing that arrives in pieces (nft's stdout), so that the agent never
 * holds a large table's listing, nor its normalised copy, as a whole. Pieces are normalised a run
 * of complete lines at a time: no pattern spans a line (nft -j prints its JSON on one line), so the
 * digest is the same as that of the whole listing.
 */
export class ListingDigest {
  private readonly hash = createHash("sha256");
  /** The start of a line whose end has not arrived yet. */
  private partial: string[] = [];
  private metainfoSeen = false;

  update(piece: string): void {
    const end = piece.lastIndexOf("\n") + 1;
    if (end === 0) {
      this.partial.push(piece);
      return;
    }
    const lines =
      this.partial.length > 0 ? `${this.partial.join("")}${piece.slice(0, end)}` : piece.slice(0, end);
    this.partial = end < piece.length ? [piece.slice(end)] : [];
    this.hash.update(this.normalise(lines));
  }

  digest(): string {
    this.hash.update(this.normalise(this.partial.join("")));
    this.partial = [];
    return this.hash.digest("hex");
  }

  private normalise(text: string): string {
    let out = text;
    // nft prints the metainfo once, at the start: only its first occurrence is dropped
    if (!this.metainfoSeen) {
      const without = out.replace(/\{"metainfo": \{[^}]*\}\}, ?/, "");
      this.metainfoSeen = without !== out;
      out = without;
    }
    return out
      .replace(/"handle": \d+/g, '"handle": 0')
      .replace(/"counter": \{"packets": \d+, "bytes": \d+\}/g, '"counter": {}')
      .replace(/counter packets \d+ bytes \d+/g, "counter");
  }
}
