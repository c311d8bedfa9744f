// The exhaustive part of a policy test: for one source/destination pair and one application set,
// which applications the evaluator allows. Instead of trying every port, the application space is
// cut at every boundary of the rules and ACL entries on the path; inside one piece every rule
// matches all of it or none of it, so one representative flow per piece decides the whole piece.

import type { Family } from "../net/address.js";
import { parseIp } from "../net/address.js";
import { IntervalSet } from "../net/interval-set.js";
import { type Endpoint, evaluateFlow, type FlowVerdict, isFlowAllowed } from "./evaluate.js";
import { naclEntrySpace } from "./lint-nacls.js";
import { APP_BLOCK, appSegments, ruleApps, type TrafficSpace } from "./lint-space.js";
import type { PolicyIndex, Traffic } from "./policy-index.js";

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

export function endpointFamilies(index: PolicyIndex, endpoint: Endpoint): Family[] {
  if (endpoint.kind === "address") {
    const a = parseIp(endpoint.address);
    return a ? [a.family] : [];
  }
  if (endpoint.address !== undefined) {
    const a = parseIp(endpoint.address);
    return a ? [a.family] : [];
  }
  const iface = index.interfaces.get(endpoint.interfaceId);
  return [...new Set(iface?.addresses.map((a) => a.family) ?? [])].sort();
}

export function endpointLabel(endpoint: Endpoint): string {
  if (endpoint.kind === "address") return endpoint.address;
  return endpoint.address === undefined
    ? endpoint.interfaceId
    : `${endpoint.interfaceId} ${endpoint.address}`;
}

function sameInterface(a: Endpoint, b: Endpoint): boolean {
  return a.kind === "interface" && b.kind === "interface" && a.interfaceId === b.interfaceId;
}

/**
 * Every (source, destination, family) to check: the cross product, without an interface talking to
 * itself (groups do not filter that), in each family both ends have.
 */
export function flowPairs(
  index: PolicyIndex,
  sources: readonly Endpoint[],
  destinations: readonly Endpoint[],
  families?: readonly Family[],
): FlowPair[] {
  const out: FlowPair[] = [];
  for (const source of sources) {
    const sf = endpointFamilies(index, source);
    for (const destination of destinations) {
      if (sameInterface(source, destination)) continue;
      const df = endpointFamilies(index, destination);
      for (const family of sf) {
        if (df.includes(family) && (!families || families.includes(family))) {
          out.push({ source, destination, family });
        }
      }
    }
  }
  return out;
}

function pathSpaces(index: PolicyIndex, pair: FlowPair): TrafficSpace[] {
  const spaces: TrafficSpace[] = [];
  const add = (apps: IntervalSet) => spaces.push({ apps, peers: IntervalSet.EMPTY });
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
    const acl = index.networkAclOf(iface.subnetId);
    for (const entry of acl?.entries ?? []) add(naclEntrySpace(entry).apps);
  }
  return spaces;
}

/** Which of `apps` the evaluator allows from the pair's source to its destination. */
export function decidePair(index: PolicyIndex, pair: FlowPair, apps: IntervalSet): PairDecision {
  let allowed = IntervalSet.EMPTY;
  let denied = IntervalSet.EMPTY;
  let firstAllowed: Traffic | undefined;
  let firstDenied: Traffic | undefined;
  for (const segment of appSegments(pathSpaces(index, pair), apps)) {
    const lo = segment.apps.intervals[0]?.lo;
    if (lo === undefined) continue;
    const traffic = trafficAt(lo);
    const ok = isFlowAllowed(index, { ...pair, traffic });
    if (ok) {
      allowed = allowed.union(segment.apps);
      firstAllowed ??= traffic;
    } else {
      denied = denied.union(segment.apps);
      firstDenied ??= traffic;
    }
  }
  return {
    allowed,
    denied,
    ...(firstAllowed ? { firstAllowed } : {}),
    ...(firstDenied ? { firstDenied } : {}),
  };
}

export function explainPair(index: PolicyIndex, pair: FlowPair, traffic: Traffic): FlowVerdict {
  return evaluateFlow(index, { ...pair, traffic });
}
