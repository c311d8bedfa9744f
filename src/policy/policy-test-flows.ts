// The exhaustive part of a policy test: for one source/destination pair and one application set,
// which applications the evaluator allows. Instead of trying every port, the application space is
// cut at every boundary of the rules and ACL entries on the path; inside one piece every rule
// matches all of it or none of it, so one representative flow per piece decides the whole piece.

import { type Family, formatIp, parseIp } from "../net/address.js";
import { parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { type Endpoint, evaluateFlow, type FlowVerdict, isFlowAllowed } from "./evaluate.js";
import { naclEntrySpace } from "./lint-nacls.js";
import { APP_BLOCK, appSegments, ruleApps, type TrafficSpace } from "./lint-space.js";
import { cidrInterval, type PolicyIndex, type Traffic } from "./policy-index.js";
import { distinguishable, sidesOf } from "./reachability.js";

export interface FlowPair {
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly family: Family;
}

export interface PairDecision {
  readonly allowed: IntervalSet;
  readonly denied: IntervalSet;
  /** A representative flow of each outcome, for explanations. */
  readonly firstAllowed?: Traffic;
  readonly firstDenied?: Traffic;
}

/** The flow that stands for application key `key` (see lint-space for the encoding). */
export function trafficAt(key: bigint): Traffic {
  const protocol = Number(key / APP_BLOCK);
  const sub = Number(key % APP_BLOCK);
  if (protocol === 6 || protocol === 17) return { protocol, port: sub };
  if (protocol === 1 || protocol === 58) return { protocol, icmpType: sub >> 8, icmpCode: sub & 255 };
  return { protocol };
}

/**
 * What a selector stands for in a test: interfaces, or a set of addresses of one family outside
 * them (`internet`, a CIDR). A space is expanded into representative addresses only when paired,
 * since which addresses behave alike depends on the rules of the interface at the other end.
 */
export type TestEndpoint =
  | Endpoint
  | { readonly kind: "space"; readonly label: string; readonly family: Family; readonly space: IntervalSet };

export function endpointFamilies(index: PolicyIndex, endpoint: TestEndpoint): Family[] {
  if (endpoint.kind === "space") return [endpoint.family];
  if (endpoint.kind === "address" || endpoint.address !== undefined) {
    const a = parseIp(endpoint.address ?? "");
    return a ? [a.family] : [];
  }
  const iface = index.interfaces.get(endpoint.interfaceId);
  return [...new Set(iface?.addresses.map((a) => a.family) ?? [])].sort();
}

export function endpointLabel(endpoint: TestEndpoint): string {
  if (endpoint.kind === "space") return endpoint.label;
  if (endpoint.kind === "address") return endpoint.address;
  return endpoint.address === undefined
    ? endpoint.interfaceId
    : `${endpoint.interfaceId} ${endpoint.address}`;
}

function sameInterface(a: TestEndpoint, b: TestEndpoint): boolean {
  return a.kind === "interface" && b.kind === "interface" && a.interfaceId === b.interfaceId;
}

export const FAMILY_SPACE: Record<Family, IntervalSet> = {
  4: IntervalSet.range(0n, (1n << 32n) - 1n),
  6: IntervalSet.range(0n, (1n << 128n) - 1n),
};

const pieceCache = new WeakMap<IntervalSet, Map<string, string[]>>();

/**
 * One address of `space` per piece on which the interface's rules of one direction and its
 * subnet's ACL decide alike: the pieces are cut at every remote set of those rules and every ACL
 * CIDR, so a representative stands for all addresses of its piece.
 */
export function representativesFor(
  index: PolicyIndex,
  family: Family,
  space: IntervalSet,
  interfaceId: string,
  direction: "ingress" | "egress",
): string[] {
  const iface = index.interfaces.get(interfaceId);
  if (!iface) return [];
  const acl = index.networkAclOf(iface.subnetId);
  const key = `${direction}|${iface.groupKey}|${acl?.id ?? ""}|${family}`;
  let cache = pieceCache.get(space);
  if (!cache) {
    cache = new Map();
    pieceCache.set(space, cache);
  }
  const hit = cache.get(key);
  if (hit) return hit;
  const cuts: TrafficSpace[] = [];
  for (const e of direction === "ingress" ? iface.ingress : iface.egress) {
    if (e.family === family) cuts.push({ apps: e.remote, peers: IntervalSet.EMPTY });
  }
  for (const entry of acl?.entries ?? []) {
    const c = parseCidr(entry.cidr);
    if (c && c.cidr.family === family) cuts.push({ apps: cidrInterval(c.cidr), peers: IntervalSet.EMPTY });
  }
  const out: string[] = [];
  for (const piece of appSegments(cuts, FAMILY_SPACE[family])) {
    const lo = piece.apps.intersect(space).intervals[0]?.lo;
    if (lo !== undefined) out.push(formatIp({ family, value: lo }));
  }
  cache.set(key, out);
  return out;
}

/**
 * Every (source, destination, family) to check: the cross product, without an interface talking to
 * itself (groups do not filter that), in each family both ends have; an address space paired with
 * an interface becomes its representative addresses for that interface.
 */
export function flowPairs(
  index: PolicyIndex,
  sources: readonly TestEndpoint[],
  destinations: readonly TestEndpoint[],
  families?: readonly Family[],
): FlowPair[] {
  const out: FlowPair[] = [];
  for (const source of sources) {
    const sf = endpointFamilies(index, source);
    for (const destination of destinations) {
      if (sameInterface(source, destination)) continue;
      const df = endpointFamilies(index, destination);
      for (const family of sf) {
        if (!df.includes(family) || (families && !families.includes(family))) continue;
        for (const [s, d] of expand(index, source, destination, family))
          out.push({ source: s, destination: d, family });
      }
    }
  }
  return out;
}

function expand(
  index: PolicyIndex,
  source: TestEndpoint,
  destination: TestEndpoint,
  family: Family,
): [Endpoint, Endpoint][] {
  const first = (e: { space: IntervalSet }): Endpoint[] => {
    const lo = e.space.intervals[0]?.lo;
    return lo === undefined ? [] : [{ kind: "address", address: formatIp({ family, value: lo }) }];
  };
  const sideOf = (e: TestEndpoint, other: TestEndpoint, direction: "ingress" | "egress"): Endpoint[] => {
    if (e.kind === "interface") return addressesOf(index, e, other, family, direction);
    if (e.kind !== "space") return [e];
    if (other.kind !== "interface") return first(e);
    return representativesFor(index, family, e.space, other.interfaceId, direction).map((address) => ({
      kind: "address",
      address,
    }));
  };
  const out: [Endpoint, Endpoint][] = [];
  for (const s of sideOf(source, destination, "ingress")) {
    for (const d of sideOf(destination, source, "egress")) out.push([s, d]);
  }
  return out;
}

/**
 * An interface as the sides of a flow: itself when one address of the family (the first) answers
 * for all of them, else one endpoint for each of its addresses that the interface at the other end
 * tells apart (a rule or an ACL entry may name a secondary address alone). `direction` is that
 * other interface's, whose rules look at this side.
 */
function addressesOf(
  index: PolicyIndex,
  endpoint: Endpoint & { kind: "interface" },
  other: TestEndpoint,
  family: Family,
  direction: "ingress" | "egress",
): Endpoint[] {
  const iface = index.interfaces.get(endpoint.interfaceId);
  // outside the estate nothing looks at which address an interface sends from
  if (endpoint.address !== undefined || !iface || other.kind !== "interface") return [endpoint];
  const peer = index.interfaces.get(other.interfaceId);
  const sides = sidesOf(iface, family);
  if (!peer || sides.length < 2) return [endpoint];
  const classes = distinguishable(index, sides, peer, direction === "ingress" ? peer.ingress : peer.egress);
  if (classes.length < 2) return [endpoint];
  return classes.map((side) => ({ ...endpoint, address: formatIp(side.address) }));
}

/** What decides the cut points of a path: the rule sets and ACLs of its interfaces. */
function sideKey(index: PolicyIndex, endpoint: Endpoint): string {
  if (endpoint.kind !== "interface") return "-";
  const iface = index.interfaces.get(endpoint.interfaceId);
  return iface ? `${iface.groupKey}|${index.networkAclOf(iface.subnetId)?.id ?? ""}` : "-";
}

/** Application keys at which some rule or ACL entry on the path starts or stops matching. */
function pathCuts(index: PolicyIndex, pair: FlowPair): bigint[] {
  const cuts = new Set<bigint>();
  const add = (apps: IntervalSet) => {
    for (const i of apps.intervals) cuts.add(i.lo).add(i.hi + 1n);
  };
  const sides: [Endpoint, "egress" | "ingress"][] = [
    [pair.source, "egress"],
    [pair.destination, "ingress"],
  ];
  for (const [endpoint, direction] of sides) {
    if (endpoint.kind !== "interface") continue;
    const iface = index.interfaces.get(endpoint.interfaceId);
    if (!iface) continue;
    for (const e of direction === "egress" ? iface.egress : iface.ingress) {
      add(ruleApps(String(e.protocol), e.from, e.to));
    }
    for (const entry of index.networkAclOf(iface.subnetId)?.entries ?? []) add(naclEntrySpace(entry).apps);
  }
  return [...cuts];
}

/** The pieces of `apps` between consecutive cuts. */
function pieces(apps: IntervalSet, cuts: readonly bigint[]): IntervalSet[] {
  const points = [...new Set([...cuts, ...apps.intervals.flatMap((i) => [i.lo, i.hi + 1n])])].sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const out: IntervalSet[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const lo = points[k] as bigint;
    if (apps.has(lo)) out.push(IntervalSet.range(lo, (points[k + 1] as bigint) - 1n));
  }
  return out;
}

/**
 * Pieces per path shape, for one application set: pairs whose interfaces carry the same groups
 * behind the same ACLs share them (the cache belongs to one caller and one `apps`).
 */
export type PieceCache = Map<string, IntervalSet[]>;

/**
 * Pairs with the same key have the same decision. When one end is an address, the evaluator looks
 * at the other end only through its groups' rules and its subnet's ACL (the same-subnet shortcut
 * needs two interfaces), so interfaces with the same group set behind the same ACL are
 * interchangeable. Undefined when both ends are interfaces: their addresses then matter.
 */
export function sharedDecisionKey(index: PolicyIndex, pair: FlowPair): string | undefined {
  const { source, destination } = pair;
  if (source.kind === "address" && destination.kind === "interface") {
    return `${source.address}>${sideKey(index, destination)}|${pair.family}`;
  }
  if (source.kind === "interface" && destination.kind === "address") {
    return `${sideKey(index, source)}>${destination.address}|${pair.family}`;
  }
  return undefined;
}

/** Which of `apps` the evaluator allows from the pair's source to its destination. */
export function decidePair(
  index: PolicyIndex,
  pair: FlowPair,
  apps: IntervalSet,
  cache: PieceCache = new Map(),
): PairDecision {
  const key = `${sideKey(index, pair.source)}>${sideKey(index, pair.destination)}`;
  let parts = cache.get(key);
  if (!parts) {
    parts = pieces(apps, pathCuts(index, pair));
    cache.set(key, parts);
  }
  const allowedParts: IntervalSet[] = [];
  const deniedParts: IntervalSet[] = [];
  let firstAllowed: Traffic | undefined;
  let firstDenied: Traffic | undefined;
  for (const part of parts) {
    const lo = part.intervals[0]?.lo;
    if (lo === undefined) continue;
    const traffic = trafficAt(lo);
    if (isFlowAllowed(index, { ...pair, traffic })) {
      allowedParts.push(part);
      firstAllowed ??= traffic;
    } else {
      deniedParts.push(part);
      firstDenied ??= traffic;
    }
  }
  const union = (sets: IntervalSet[]) => IntervalSet.of(sets.flatMap((x) => x.intervals));
  return {
    allowed: union(allowedParts),
    denied: union(deniedParts),
    ...(firstAllowed ? { firstAllowed } : {}),
    ...(firstDenied ? { firstDenied } : {}),
  };
}

export function explainPair(index: PolicyIndex, pair: FlowPair, traffic: Traffic): FlowVerdict {
  return evaluateFlow(index, { ...pair, traffic });
}
