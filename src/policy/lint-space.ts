// The traffic a rule matches, as two interval sets: which applications (protocol + port or ICMP
// type/code) and which peers. Lint asks set questions of whole rule tables ("is this rule covered by
// the others", "which ports does this table open to the internet"), and a rule table is a union of
// such products, so everything here reduces to IntervalSet algebra over two flat key spaces.

import type { Family } from "../net/address.js";
import { type Cidr, parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { protocolNumber } from "../net/protocol.js";
import { internetSpace } from "./address-space.js";
import { NO_ADDRESSES } from "./policy-index.js";

/**
 * Application keys: protocol * 65536 + sub-key, where the sub-key is the port for tcp/udp,
 * type * 256 + code for icmp/icmpv6, and the whole block for other protocols (they have no ports).
 */
export const APP_BLOCK = 65536n;
export const ALL_APPS = IntervalSet.range(0n, 256n * APP_BLOCK - 1n);

export function protocolApps(protocol: number): IntervalSet {
  const base = BigInt(protocol) * APP_BLOCK;
  return IntervalSet.range(base, base + APP_BLOCK - 1n);
}

export function portApps(protocol: number, from: number, to: number): IntervalSet {
  const base = BigInt(protocol) * APP_BLOCK;
  return IntervalSet.range(base + BigInt(from), base + BigInt(to));
}

export function icmpApps(protocol: number, type: number, code: number): IntervalSet {
  if (type < 0) return protocolApps(protocol);
  const base = BigInt(protocol) * APP_BLOCK + BigInt(type) * 256n;
  return code < 0
    ? IntervalSet.range(base, base + 255n)
    : IntervalSet.range(base + BigInt(code), base + BigInt(code));
}

/** Applications of a security-group rule (protocol as EC2 stores it; see net/protocol). */
export function ruleApps(protocol: string, fromPort: number, toPort: number): IntervalSet {
  const n = protocolNumber(protocol);
  if (Number.isNaN(n)) return IntervalSet.EMPTY; // unreadable: matches nothing, as everywhere
  if (n < 0) return ALL_APPS;
  if (n === 6 || n === 17) return portApps(n, fromPort, toPort);
  if (n === 1 || n === 58) return icmpApps(n, fromPort, toPort);
  return protocolApps(n);
}

/**
 * Peer keys: IPv4 addresses as themselves, IPv6 addresses above them, and symbolic peers (group
 * references, prefix lists whose entries are unknown) as single keys above both, so that a group
 * reference is only ever covered by the same group reference.
 */
const V6_OFFSET = 1n << 32n;
const SYMBOL_OFFSET = V6_OFFSET + (1n << 128n);
export const IPV4_SPACE = IntervalSet.range(0n, V6_OFFSET - 1n);
export const IPV6_SPACE = IntervalSet.range(V6_OFFSET, SYMBOL_OFFSET - 1n);
/** Every address of both families. */
export const ADDRESS_SPACE = IPV4_SPACE.union(IPV6_SPACE);

export function cidrPeers(cidr: Cidr): IntervalSet {
  const offset = cidr.family === 4 ? 0n : V6_OFFSET;
  const bits = cidr.family === 4 ? 32n : 128n;
  const size = 1n << (bits - BigInt(cidr.prefix));
  return IntervalSet.range(offset + cidr.base, offset + cidr.base + size - 1n);
}

/** Peers of CIDR text; an unparsable CIDR matches nothing. */
export function cidrTextPeers(text: string): IntervalSet {
  const parsed = parseCidr(text);
  return parsed ? cidrPeers(parsed.cidr) : IntervalSet.EMPTY;
}

/** Interns symbolic peers (by a string key) to distinct single keys. */
export class SymbolicPeers {
  private readonly keys = new Map<string, bigint>();

  of(name: string): IntervalSet {
    let key = this.keys.get(name);
    if (key === undefined) {
      key = SYMBOL_OFFSET + BigInt(this.keys.size);
      this.keys.set(name, key);
    }
    return IntervalSet.range(key, key);
  }
}

/** Addresses of one family (raw values) as peer keys. */
export function familyPeers(family: Family, set: IntervalSet): IntervalSet {
  const offset = family === 4 ? 0n : V6_OFFSET;
  return IntervalSet.of(set.intervals.map((i) => ({ lo: i.lo + offset, hi: i.hi + offset })));
}

// Public space is "the internet" as the queries define it (address-space.ts), with no VPC taken out.
const INTERNET = internetSpace(NO_ADDRESSES);
export const PUBLIC_V4 = familyPeers(4, INTERNET[4]);
export const PUBLIC_V6 = familyPeers(6, INTERNET[6]);

/**
 * The share of a family's public space that counts as "the internet": a peer set covering at
 * least this much of it is as good as 0.0.0.0/0 to an attacker (0.0.0.0/1 + 128.0.0.0/1, or a
 * public /2, are both the internet).
 */
export const INTERNET_SHARE_DENOMINATOR = 4n;

export interface InternetCoverage {
  readonly ipv4: boolean;
  readonly ipv6: boolean;
}

export function internetCoverage(peers: IntervalSet): InternetCoverage {
  const share = (publicSpace: IntervalSet) =>
    peers.intersect(publicSpace).size() * INTERNET_SHARE_DENOMINATOR >= publicSpace.size();
  return { ipv4: share(PUBLIC_V4), ipv6: share(PUBLIC_V6) };
}

export function isInternet(peers: IntervalSet): boolean {
  const c = internetCoverage(peers);
  return c.ipv4 || c.ipv6;
}

export function touchesPublic(peers: IntervalSet): boolean {
  return !peers.intersect(PUBLIC_V4).isEmpty || !peers.intersect(PUBLIC_V6).isEmpty;
}

/** One rule's matched traffic: every application in `apps` from/to every peer in `peers`. */
export interface TrafficSpace {
  readonly apps: IntervalSet;
  readonly peers: IntervalSet;
}

/** A piece of application space on which the same spaces apply. */
export interface AppSegment {
  readonly apps: IntervalSet;
  /** Indexes (into the input) of the spaces whose applications contain this segment. */
  readonly members: readonly number[];
}

/**
 * Cuts the application space at every boundary of the given spaces, so that on each piece the set
 * of matching spaces is constant: a union of products becomes a list of (apps, union of peers).
 */
export function appSegments(spaces: readonly TrafficSpace[], within: IntervalSet = ALL_APPS): AppSegment[] {
  const cuts = new Set<bigint>();
  for (const i of within.intervals) cuts.add(i.lo).add(i.hi + 1n);
  for (const s of spaces) for (const i of s.apps.intervals) cuts.add(i.lo).add(i.hi + 1n);
  const points = [...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: AppSegment[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const lo = points[k] as bigint;
    const hi = (points[k + 1] as bigint) - 1n;
    if (!within.has(lo)) continue;
    const members: number[] = [];
    spaces.forEach((s, index) => {
      if (s.apps.has(lo)) members.push(index);
    });
    out.push({ apps: IntervalSet.range(lo, hi), members });
  }
  return out;
}

/** The indexes of `others` needed to cover `target`, or undefined when they do not cover it. */
export function coveringSpaces(target: TrafficSpace, others: readonly TrafficSpace[]): number[] | undefined {
  if (target.apps.isEmpty || target.peers.isEmpty) return undefined;
  const used = new Set<number>();
  for (const segment of appSegments(others, target.apps)) {
    let peers = IntervalSet.EMPTY;
    for (const m of segment.members) {
      const other = others[m] as TrafficSpace;
      if (!other.peers.intersect(target.peers).isEmpty) {
        peers = peers.union(other.peers);
        used.add(m);
      }
    }
    if (!peers.covers(target.peers)) return undefined;
  }
  return [...used].sort((a, b) => a - b);
}
