// The compiled form of a HostPolicy: one nftables table described as data (sets, verdict maps,
// chains of structured rules). The compiler produces it, nft-script renders it as `nft -f` text,
// delta compares two of them, and table-interpreter runs it on a packet in TypeScript, so the rules
// the kernel gets and the rules the tests check are the same object.

export const TABLE_FAMILY = "inet";
export const TABLE_NAME = "ringfence";

export type IpFamily = 4 | 6;

/** A named interval set of IPv4 or IPv6 addresses; elements are disjoint (see address-elements). */
export interface NftAddressSet {
  readonly name: string;
  readonly family: IpFamily;
  readonly elements: readonly string[];
}

/** A named verdict map from a local address to the chain of its interface. */
export interface NftAddressMap {
  readonly name: string;
  readonly family: IpFamily;
  readonly entries: readonly { readonly address: string; readonly chain: string }[];
}

/**
 * A conntrack timeout policy (`ct timeout`), named by its protocol, family and values, so that
 * interfaces with equal timeouts share one and a changed timeout is a new object, never an edit.
 */
export interface NftCtTimeout {
  readonly name: string;
  readonly protocol: "tcp" | "udp";
  readonly family: IpFamily;
  /** nft's state names (`established`; `unreplied`, `replied`) and seconds. */
  readonly policy: readonly (readonly [string, number])[];
}

export interface NftHook {
  readonly hook: "input" | "output";
  readonly priority: "filter";
  readonly policy: "accept" | "drop";
}

export type NftMatch =
  | { readonly m: "iif-lo" }
  | { readonly m: "oif-lo" }
  | { readonly m: "ct"; readonly states: readonly ("new" | "established" | "related" | "invalid")[] }
  /** An address against a named set. */
  | { readonly m: "addr-set"; readonly family: IpFamily; readonly field: AddressField; readonly set: string }
  /** An address against a literal list (the controller's, for the control channel). */
  | {
      readonly m: "addr-list";
      readonly family: IpFamily;
      readonly field: AddressField;
      readonly addresses: readonly string[];
    }
  /** The layer-4 protocol is one of these, or with `negate` none of them. */
  | { readonly m: "l4proto"; readonly protocols: readonly number[]; readonly negate?: true }
  | { readonly m: "nfproto"; readonly family: IpFamily }
  /** The connection's mark has some (`any`) or none of the bits of `mask`. */
  | { readonly m: "ct-mark"; readonly mask: number; readonly any: boolean }
  /** A TCP segment that cannot open a connection: anything but a SYN without ACK, FIN or RST. */
  | { readonly m: "tcp-not-syn" }
  | {
      readonly m: "port";
      readonly protocol: "tcp" | "udp";
      readonly field: "sport" | "dport";
      readonly from: number;
      readonly to: number;
    }
  /** ICMP (v4) or ICMPv6 type and/or code; also implies the protocol. */
  | { readonly m: "icmp"; readonly v6: boolean; readonly type?: number; readonly code?: number }
  | { readonly m: "icmpv6-types"; readonly types: readonly number[] };

export type AddressField = "saddr" | "daddr";

export type NftAction =
  | { readonly a: "accept" }
  | { readonly a: "drop" }
  /** Sets bits of the connection's mark, keeping the others, then goes on with the next rule. */
  | { readonly a: "ct-mark-or"; readonly bits: number }
  /** Attaches a timeout policy to the connection, then goes on with the next rule. */
  | { readonly a: "ct-timeout"; readonly timeout: string }
  /** Nothing but the counter (a tally before the chain policy). */
  | { readonly a: "continue" }
  /** Run the chain, and continue here if it does not decide. */
  | { readonly a: "jump"; readonly chain: string }
  | { readonly a: "addr-vmap"; readonly family: IpFamily; readonly field: AddressField; readonly map: string }
  | {
      readonly a: "l4proto-vmap";
      readonly entries: readonly { readonly protocol: number; readonly chain: string }[];
    }
  /** Jump by destination port; the ranges are disjoint. */
  | {
      readonly a: "port-vmap";
      readonly protocol: "tcp" | "udp";
      readonly entries: readonly { readonly from: number; readonly to: number; readonly chain: string }[];
    };

export interface NftRule {
  readonly match: readonly NftMatch[];
  readonly action: NftAction;
  readonly counter: boolean;
  /** The `sgr-` id of the security-group rule it enforces, or a word for the built-in rules. */
  readonly comment?: string;
}

export interface NftChain {
  readonly name: string;
  readonly hook?: NftHook;
  readonly rules: readonly NftRule[];
}

export interface NftTable {
  readonly sets: readonly NftAddressSet[];
  readonly maps: readonly NftAddressMap[];
  readonly chains: readonly NftChain[];
  /** Only where some interface sets connection-tracking timeouts. */
  readonly timeouts?: readonly NftCtTimeout[];
}

/** A comment nft accepts: printable, no quote, at most 128 bytes (synthetic ids can be anything). */
export function nftComment(text: string): string {
  return text.replace(/[^A-Za-z0-9_.:/@+=-]/g, "_").slice(0, 128);
}

/** nft identifiers: letters, digits, `_`, `-`, `.`; anything else in an id becomes `_`. */
export function nftName(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, "_");
}
