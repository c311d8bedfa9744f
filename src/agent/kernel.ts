// The agent's one interface to the kernel's firewall: run a transaction, read the table back, remove
// it. NftSessionKernel (nft-session.ts) keeps one `nft` running (optionally inside a network
// namespace); FakeKernel keeps a model in memory for tests without root. Everything above this
// boundary is kernel-independent.

import { createHash } from "node:crypto";

export interface NftKernel {
  /** Runs an `nft -f` script as one transaction; throws NftApplyError and changes nothing on failure. */
  apply(script: string): Promise<void>;
  /** The `inet ringfence` table as the kernel lists it, or undefined when there is none. */
  listTable(): Promise<string | undefined>;
  /** A digest of the table's content that ignores counter values; undefined if absent. */
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
 * The digest of an `nft list table` listing: counter values change without anyone editing the
 * table, so they are left out.
 */
export function checksumOfListing(listing: string): string {
  const digest = new ListingDigest();
  digest.update(listing);
  return digest.digest();
}

/**
 * checksumOfListing over a listing that arrives in pieces (nft's output), so that the agent never
 * holds a large table's listing, nor its normalised copy, as a whole. Pieces are normalised a run
 * of complete lines at a time: no pattern spans a line, so the digest is the same as that of the
 * whole listing.
 */
export class ListingDigest {
  private readonly hash = createHash("sha256");
  /** The start of a line whose end has not arrived yet. */
  private partial: string[] = [];

  update(piece: string): void {
    const end = piece.lastIndexOf("\n") + 1;
    if (end === 0) {
      this.partial.push(piece);
      return;
    }
    const lines =
      this.partial.length > 0 ? `${this.partial.join("")}${piece.slice(0, end)}` : piece.slice(0, end);
    this.partial = end < piece.length ? [piece.slice(end)] : [];
    this.hash.update(normalise(lines));
  }

  digest(): string {
    this.hash.update(normalise(this.partial.join("")));
    this.partial = [];
    return this.hash.digest("hex");
  }
}

function normalise(text: string): string {
  return text.replace(/counter packets \d+ bytes \d+/g, "counter");
}
