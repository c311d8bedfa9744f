// The single definition of "allowed" (spec 3.11): a new flow from a source to a destination passes
// the source's security-group egress, the source subnet's network ACL outbound, the destination
// subnet's network ACL inbound and the destination's security-group ingress, in that order. ACLs
// apply only where the flow crosses a subnet boundary. An address outside every VPC has no groups
// and no ACL: the side that is inside governs. Replies of an allowed flow are allowed (stateful).
//
//   const index = PolicyIndex.build(estate);
//   const verdict = evaluateFlow(index, {
//     source: { kind: "interface", interfaceId: "eni-app" },
//     destination: { kind: "interface", interfaceId: "eni-db" },
//     traffic: { protocol: 6, port: 3306 },
//   });
//   verdict.allowed;            // boolean
//   verdict.blockedAt;          // "source-egress" | "source-nacl-out" | "destination-nacl-in" | "destination-ingress"
//   renderVerdict(verdict);     // plain-text explanation; the verdict itself is plain JSON
//
// `isFlowAllowed` answers the same question without the explanation, for hot loops.

import type { Direction } from "../model/estate.js";
import { type Family, formatIp, type IpAddress, parseIp } from "../net/address.js";
import { ALL_PROTOCOLS, PROTOCOL_NUMBERS, protocolName } from "../net/protocol.js";
import { type AclDecision, decideAcl } from "./network-acl.js";
import {
  entryAdmits,
  type IndexedInterface,
  isCodelessIcmp,
  type PolicyEntry,
  type PolicyIndex,
  type Traffic,
} from "./policy-index.js";

export type Endpoint =
  | {
      readonly kind: "interface";
      readonly interfaceId: string;
      /** Which of the interface's private addresses; default: the first of the flow's family. */
      readonly address?: string;
    }
  | { readonly kind: "address"; readonly address: string };

export interface Flow {
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly traffic: Traffic;
  /** Needed only when neither endpoint is an address (then default 4). */
  readonly family?: Family;
}

export type FlowStep = "source-egress" | "source-nacl-out" | "destination-nacl-in" | "destination-ingress";

export interface RuleMatch {
  readonly groupId: string;
  readonly ruleId: string;
  readonly direction: Direction;
}

export type GroupDecision =
  | { readonly kind: "outside-vpc" }
  | { readonly kind: "allowed"; readonly matches: readonly RuleMatch[] }
  | {
      readonly kind: "denied";
      readonly groupIds: readonly string[];
      /** Of those, the ones the estate does not list (a partial dump): their rules are unknown. */
      readonly unknownGroupIds?: readonly string[];
    };

export type AclStep =
  | { readonly kind: "skipped"; readonly reason: "same-subnet" | "outside-vpc" | "no-acl-known" }
  | ({ readonly kind: "decided" } & AclDecision);

export interface VerdictEndpoint {
  readonly address: string;
  readonly interfaceId?: string;
  readonly instanceId?: string;
  readonly subnetId?: string;
  readonly publicIp?: string;
  readonly elasticIp?: string;
}

export interface FlowVerdict {
  readonly allowed: boolean;
  /** The first step, in path order, that denied the flow. */
  readonly blockedAt?: FlowStep;
  readonly source: VerdictEndpoint;
  readonly destination: VerdictEndpoint;
  readonly family: Family;
  readonly protocol: string;
  readonly traffic: Traffic;
  readonly steps: {
    readonly sourceEgress: GroupDecision;
    readonly sourceNaclOut: AclStep;
    readonly destinationNaclIn: AclStep;
    readonly destinationIngress: GroupDecision;
  };
  /**
   * Untracked on a side (spec 3.11): a tcp/udp flow allowed there by a 0.0.0.0/0 or ::/0 rule while
   * an all-open rule allows everything the other way; such traffic is re-evaluated per packet.
   */
  readonly untracked: { readonly source: boolean; readonly destination: boolean };
  readonly notes: readonly string[];
}

export class FlowError extends Error {}

interface Side {
  readonly iface?: IndexedInterface;
  readonly address: IpAddress;
}

function resolve(index: PolicyIndex, endpoint: Endpoint, family: Family | undefined, role: string): Side {
  if (endpoint.kind === "address") {
    const address = parseIp(endpoint.address);
    if (!address) throw new FlowError(`${role} '${endpoint.address}' is not an IP address`);
    return { address };
  }
  const iface = index.interfaces.get(endpoint.interfaceId);
  if (!iface) throw new FlowError(`${role} interface '${endpoint.interfaceId}' is not in the estate`);
  if (endpoint.address !== undefined) {
    const address = parseIp(endpoint.address);
    if (!address || !iface.addresses.some((a) => a.family === address.family && a.value === address.value)) {
      throw new FlowError(
        `${role} address '${endpoint.address}' is not a private address of ${iface.eni.id}`,
      );
    }
    return { iface, address };
  }
  const want = family ?? 4;
  const address = iface.addresses.find((a) => a.family === want);
  if (!address) throw new FlowError(`${role} ${iface.eni.id} has no IPv${want} address`);
  return { iface, address };
}

function resolveFlow(index: PolicyIndex, flow: Flow): { source: Side; destination: Side; family: Family } {
  const hint =
    flow.family ??
    (flow.source.kind === "address" ? parseIp(flow.source.address)?.family : undefined) ??
    (flow.destination.kind === "address" ? parseIp(flow.destination.address)?.family : undefined) ??
    (flow.source.kind === "interface" && flow.source.address
      ? parseIp(flow.source.address)?.family
      : undefined) ??
    (flow.destination.kind === "interface" && flow.destination.address
      ? parseIp(flow.destination.address)?.family
      : undefined);
  const source = resolve(index, flow.source, hint, "source");
  const destination = resolve(index, flow.destination, hint ?? source.address.family, "destination");
  if (source.address.family !== destination.address.family) {
    throw new FlowError(
      `source ${formatIp(source.address)} and destination ${formatIp(destination.address)} are of different IP families`,
    );
  }
  return { source, destination, family: source.address.family };
}

function matchingEntries(
  entries: readonly PolicyEntry[],
  remote: IpAddress,
  traffic: Traffic,
): PolicyEntry[] {
  const out: PolicyEntry[] = [];
  for (const e of entries) {
    if (e.family === remote.family && entryAdmits(e, traffic) && e.remote.has(remote.value)) out.push(e);
  }
  return out;
}

function anyMatch(entries: readonly PolicyEntry[], remote: IpAddress, traffic: Traffic): boolean {
  for (const e of entries) {
    if (e.family === remote.family && entryAdmits(e, traffic) && e.remote.has(remote.value)) return true;
  }
  return false;
}

/** An all-open rule for replies: every protocol (or every port of the flow's protocol) to /0. */
function hasAllOpen(entries: readonly PolicyEntry[], family: Family, protocol: number): boolean {
  return entries.some(
    (e) =>
      e.family === family &&
      e.openToAll &&
      (e.protocol === ALL_PROTOCOLS || (e.protocol === protocol && e.from <= 0 && e.to >= 65535)),
  );
}

function untrackedAt(
  matches: readonly PolicyEntry[],
  opposite: readonly PolicyEntry[],
  family: Family,
  traffic: Traffic,
): boolean {
  const p = traffic.protocol;
  if (p !== PROTOCOL_NUMBERS.tcp && p !== PROTOCOL_NUMBERS.udp) return false;
  return matches.some((m) => m.openToAll) && hasAllOpen(opposite, family, p);
}

function groupDecision(
  index: PolicyIndex,
  iface: IndexedInterface | undefined,
  matches: readonly PolicyEntry[],
): GroupDecision {
  if (!iface) return { kind: "outside-vpc" };
  if (matches.length > 0) {
    return {
      kind: "allowed",
      matches: matches.map((m) => ({ groupId: m.groupId, ruleId: m.ruleId, direction: m.direction })),
    };
  }
  const groupIds = iface.groupKey === "" ? [] : iface.groupKey.split(",");
  const unknownGroupIds = groupIds.filter((id) => !index.groups.has(id));
  return { kind: "denied", groupIds, ...(unknownGroupIds.length > 0 ? { unknownGroupIds } : {}) };
}

function aclStep(
  index: PolicyIndex,
  inside: IndexedInterface | undefined,
  other: IndexedInterface | undefined,
  egress: boolean,
  remote: IpAddress,
  traffic: Traffic,
): AclStep {
  if (!inside) return { kind: "skipped", reason: "outside-vpc" };
  if (other && other.subnetId === inside.subnetId) return { kind: "skipped", reason: "same-subnet" };
  const acl = index.networkAclOf(inside.subnetId);
  if (!acl) return { kind: "skipped", reason: "no-acl-known" };
  return { kind: "decided", ...decideAcl(acl, inside.subnetId, egress, remote, traffic) };
}

function aclPasses(
  index: PolicyIndex,
  inside: IndexedInterface | undefined,
  other: IndexedInterface | undefined,
  egress: boolean,
  remote: IpAddress,
  traffic: Traffic,
): boolean {
  if (!inside || (other && other.subnetId === inside.subnetId)) return true;
  const acl = index.networkAclOf(inside.subnetId);
  return !acl || decideAcl(acl, inside.subnetId, egress, remote, traffic).action === "allow";
}

function describeEndpoint(side: Side): VerdictEndpoint {
  const i = side.iface;
  return {
    address: formatIp(side.address),
    ...(i ? { interfaceId: i.eni.id, subnetId: i.subnetId } : {}),
    ...(i?.instance ? { instanceId: i.instance.id } : {}),
    ...(i?.publicIp !== undefined ? { publicIp: i.publicIp } : {}),
    ...(i?.elasticIp !== undefined ? { elasticIp: i.elasticIp } : {}),
  };
}

export function trafficLabel(traffic: Traffic, family: Family): string {
  const p = traffic.protocol;
  if (p === ALL_PROTOCOLS) return "all";
  const name = protocolName(p);
  if (p === PROTOCOL_NUMBERS.tcp || p === PROTOCOL_NUMBERS.udp) return `${name}/${traffic.port}`;
  if (p === PROTOCOL_NUMBERS.icmp || p === PROTOCOL_NUMBERS.icmpv6) {
    const code = traffic.icmpCode === undefined ? "" : `:${traffic.icmpCode}`;
    return `${family === 6 && p === PROTOCOL_NUMBERS.icmpv6 ? "icmpv6" : name}/${traffic.icmpType ?? -1}${code}`;
  }
  return name;
}

/**
 * Evaluate one flow with its full explanation. Throws FlowError for flows that cannot exist. An
 * ICMP type without a code asks about some code of the type: it is allowed when one code passes
 * every step, which is not the same as every step passing some code (a group open to 8:0 behind an
 * ACL open to 8:5 passes neither). The verdict then is that code's.
 */
export function evaluateFlow(index: PolicyIndex, flow: Flow): FlowVerdict {
  const { source, destination } = resolveFlow(index, flow);
  const cases = index.pathCases(flow.traffic, [source.iface, destination.iface]);
  if (cases.length === 1) return evaluateExactFlow(index, { ...flow, traffic: cases[0] as Traffic });
  let first: FlowVerdict | undefined;
  for (const traffic of cases) {
    const verdict = evaluateExactFlow(index, { ...flow, traffic });
    if (verdict.allowed) return verdict;
    first ??= verdict;
  }
  return first ?? evaluateExactFlow(index, flow);
}

function evaluateExactFlow(index: PolicyIndex, flow: Flow): FlowVerdict {
  const { source, destination, family } = resolveFlow(index, flow);
  const traffic = flow.traffic;
  const notes: string[] = [];
  const egressMatches = source.iface
    ? matchingEntries(source.iface.egress, destination.address, traffic)
    : [];
  const ingressMatches = destination.iface
    ? matchingEntries(destination.iface.ingress, source.address, traffic)
    : [];
  const sourceEgress = groupDecision(index, source.iface, egressMatches);
  const destinationIngress = groupDecision(index, destination.iface, ingressMatches);
  const sourceNaclOut = aclStep(index, source.iface, destination.iface, true, destination.address, traffic);
  const destinationNaclIn = aclStep(index, destination.iface, source.iface, false, source.address, traffic);
  const order: [FlowStep, boolean][] = [
    ["source-egress", sourceEgress.kind !== "denied"],
    ["source-nacl-out", !(sourceNaclOut.kind === "decided" && sourceNaclOut.action === "deny")],
    ["destination-nacl-in", !(destinationNaclIn.kind === "decided" && destinationNaclIn.action === "deny")],
    ["destination-ingress", destinationIngress.kind !== "denied"],
  ];
  const blocked = order.find(([, ok]) => !ok)?.[0];

  if (!source.iface && !destination.iface) {
    notes.push("neither endpoint is a known interface: no security group or network ACL applies");
  }
  for (const [role, side] of [
    ["source", source],
    ["destination", destination],
  ] as const) {
    if (!side.iface && index.isInsideVpc(side.address)) {
      notes.push(`${role} ${formatIp(side.address)} lies inside a VPC but belongs to no known interface`);
    }
  }
  if (!source.iface && destination.iface && !index.isInsideVpc(source.address)) {
    const d = destination.iface;
    // over IPv6 an interface's own address is public unless it is a unique local one (fc00::/7)
    const pub =
      family === 6
        ? destination.address.value >> 121n !== 0x7en
          ? [formatIp(destination.address)]
          : []
        : [d.publicIp, d.elasticIp].filter((x): x is string => x !== undefined);
    notes.push(
      pub.length > 0
        ? `from outside every VPC: ${d.eni.id} is reachable from the internet at ${[...new Set(pub)].join(", ")} (route permitting)`
        : `from outside every VPC: ${d.eni.id} has no ${family === 6 ? "global IPv6 address" : "public or Elastic IP"}, so internet traffic cannot reach it directly`,
    );
  }
  if (
    source.iface &&
    destination.iface &&
    source.iface.vpcId !== destination.iface.vpcId &&
    source.iface.vpcId !== "" &&
    destination.iface.vpcId !== ""
  ) {
    notes.push(
      `crosses VPCs (${source.iface.vpcId} -> ${destination.iface.vpcId}): needs peering or a transit gateway`,
    );
  }
  if (
    (sourceNaclOut.kind === "skipped" && sourceNaclOut.reason === "no-acl-known") ||
    (destinationNaclIn.kind === "skipped" && destinationNaclIn.reason === "no-acl-known")
  ) {
    notes.push("no network ACL is known for a subnet on the path; that step was not checked");
  }
  if (traffic.protocol === PROTOCOL_NUMBERS.icmp && family === 6) {
    notes.push("icmp (protocol 1) is IPv4 only; IPv6 uses icmpv6 (protocol 58)");
  }

  const untracked = {
    source:
      blocked === undefined && source.iface !== undefined
        ? untrackedAt(egressMatches, source.iface.ingress, family, traffic)
        : false,
    destination:
      blocked === undefined && destination.iface !== undefined
        ? untrackedAt(ingressMatches, destination.iface.egress, family, traffic)
        : false,
  };

  return {
    allowed: blocked === undefined,
    ...(blocked !== undefined ? { blockedAt: blocked } : {}),
    source: describeEndpoint(source),
    destination: describeEndpoint(destination),
    family,
    protocol: trafficLabel(traffic, family),
    traffic,
    steps: { sourceEgress, sourceNaclOut, destinationNaclIn, destinationIngress },
    untracked,
    notes,
  };
}

/** The same answer as `evaluateFlow(...).allowed`, without building the explanation. */
export function isFlowAllowed(index: PolicyIndex, flow: Flow): boolean {
  const { source, destination } = resolveFlow(index, flow);
  return isAllowedBetween(index, source, destination, flow.traffic);
}

/** Hot path used by queries over many pairs: sides already resolved. */
export function isAllowedBetween(
  index: PolicyIndex,
  source: { readonly iface?: IndexedInterface; readonly address: IpAddress },
  destination: { readonly iface?: IndexedInterface; readonly address: IpAddress },
  traffic: Traffic,
): boolean {
  // most questions are no ICMP type without a code: they are their own one case
  if (!isCodelessIcmp(traffic)) return isExactlyAllowedBetween(index, source, destination, traffic);
  return index
    .pathCases(traffic, [source.iface, destination.iface])
    .some((t) => isExactlyAllowedBetween(index, source, destination, t));
}

function isExactlyAllowedBetween(
  index: PolicyIndex,
  source: { readonly iface?: IndexedInterface; readonly address: IpAddress },
  destination: { readonly iface?: IndexedInterface; readonly address: IpAddress },
  traffic: Traffic,
): boolean {
  if (source.iface && !anyMatch(source.iface.egress, destination.address, traffic)) return false;
  if (!aclPasses(index, source.iface, destination.iface, true, destination.address, traffic)) return false;
  if (!aclPasses(index, destination.iface, source.iface, false, source.address, traffic)) return false;
  if (destination.iface && !anyMatch(destination.iface.ingress, source.address, traffic)) return false;
  return true;
}

function renderEndpoint(e: VerdictEndpoint): string {
  if (!e.interfaceId) return `${e.address} (outside VPC)`;
  const who = e.instanceId ? `${e.instanceId}/${e.interfaceId}` : e.interfaceId;
  return `${who} ${e.address}`;
}

function renderGroup(d: GroupDecision, what: string): string {
  switch (d.kind) {
    case "outside-vpc":
      return `${what}: outside VPC (no security group)`;
    case "allowed":
      return `${what}: allowed by ${d.matches.map((m) => `${m.groupId} ${m.ruleId}`).join(", ")}`;
    case "denied": {
      const unknown = d.unknownGroupIds ?? [];
      const why =
        unknown.length === 0
          ? ""
          : ` (${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not in the snapshot: rules unknown)`;
      return `${what}: DENIED, no rule of ${d.groupIds.length > 0 ? d.groupIds.join(", ") : "(no groups)"} matches${why}`;
    }
  }
}

function renderAcl(s: AclStep, what: string): string {
  if (s.kind === "skipped") {
    const why = {
      "same-subnet": "same subnet",
      "outside-vpc": "outside VPC",
      "no-acl-known": "no ACL known",
    }[s.reason];
    return `${what}: skipped (${why})`;
  }
  const entry = s.ruleNumber === undefined ? "catch-all *" : `entry ${s.ruleNumber}`;
  return `${what}: ${s.action === "allow" ? "allowed" : "DENIED"} by ${s.aclId} ${entry} (${s.subnetId})`;
}

export function renderVerdict(v: FlowVerdict): string {
  const head = `${renderEndpoint(v.source)} -> ${renderEndpoint(v.destination)} ${v.protocol}: ${
    v.allowed ? "ALLOWED" : `DENIED at ${v.blockedAt}`
  }`;
  const lines = [
    head,
    `  ${renderGroup(v.steps.sourceEgress, "source egress")}`,
    `  ${renderAcl(v.steps.sourceNaclOut, "source subnet NACL out")}`,
    `  ${renderAcl(v.steps.destinationNaclIn, "destination subnet NACL in")}`,
    `  ${renderGroup(v.steps.destinationIngress, "destination ingress")}`,
  ];
  if (v.allowed) {
    const sides = [v.untracked.source ? "source" : "", v.untracked.destination ? "destination" : ""].filter(
      Boolean,
    );
    lines.push(
      sides.length > 0
        ? `  untracked at ${sides.join(" and ")}: allowed by a rule open to all addresses with an all-open rule the other way`
        : "  replies allowed (tracked connection)",
    );
  }
  for (const n of v.notes) lines.push(`  note: ${n}`);
  return lines.join("\n");
}
