// Questions over many flows, all answered through the one evaluator (evaluate.ts): can a selection
// reach another, who can reach a destination, what a source reaches and on which services, what is
// open to the internet, which groups nobody uses.

import type { NetworkAcl, NetworkAclEntry } from "../model/estate.js";
import { type Family, formatIp, type IpAddress } from "../net/address.js";
import { cidrContains, parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { ALL_PROTOCOLS, PROTOCOL_NUMBERS, protocolName } from "../net/protocol.js";
import { describeSet, internetSpace } from "./address-space.js";
import { evaluateFlow, type FlowVerdict, isAllowedBetween } from "./evaluate.js";
import { aclAllowedRemotes } from "./network-acl.js";
import {
  allowedRemotes,
  type IndexedInterface,
  type PolicyEntry,
  type PolicyIndex,
  type Traffic,
} from "./policy-index.js";
import type { Selection } from "./selectors.js";

export interface Side {
  readonly iface?: IndexedInterface;
  readonly address: IpAddress;
}

export function sideOf(i: IndexedInterface, family: Family): Side | undefined {
  const address = i.addresses.find((a) => a.family === family);
  return address ? { iface: i, address } : undefined;
}

/**
 * Of one side's addresses, one for each way the other side can tell them apart: the address sets
 * of its rules (towards this side) and the CIDRs of both subnets' ACL entries. Addresses that every
 * one of them holds alike get the same answers, so asking one of them is asking all.
 */
export function distinguishable(
  index: PolicyIndex,
  sides: readonly Side[],
  other: IndexedInterface,
  otherEntries: readonly PolicyEntry[],
): Side[] {
  if (sides.length < 2) return [...sides];
  const tests = addressTests(index, other, otherEntries, sides[0]?.iface?.subnetId ?? "");
  return onePerKind(sides, (side) => side.address, tests);
}

/** Of `items`, the first of each set of addresses that every test answers alike. */
export function onePerKind<T>(
  items: readonly T[],
  addressOf: (item: T) => IpAddress,
  tests: readonly ((address: IpAddress) => boolean)[],
): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const address = addressOf(item);
    const key = tests.map((test) => (test(address) ? "1" : "0")).join("");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What can tell one side's addresses apart (see `distinguishable`): one test for each. */
export function addressTests(
  index: PolicyIndex,
  other: IndexedInterface,
  otherEntries: readonly PolicyEntry[],
  ownSubnetId: string,
): ((address: IpAddress) => boolean)[] {
  const tests: ((address: IpAddress) => boolean)[] = otherEntries.map((e) => (a) => e.remote.has(a.value));
  for (const subnetId of new Set([other.subnetId, ownSubnetId])) {
    for (const entry of index.networkAclOf(subnetId)?.entries ?? []) {
      const parsed = parseCidr(entry.cidr);
      if (parsed) tests.push((a) => cidrContains(parsed.cidr, a));
    }
  }
  return tests;
}

/**
 * Every private address of the family an interface sends and receives on, as sides of a flow; only
 * `selected` when a selector asked for that one. A rule may name a secondary address alone.
 */
export function sidesOf(i: IndexedInterface, family: Family, selected?: string): Side[] {
  return i.addresses
    .filter((a) => a.family === family && (selected === undefined || formatIp(a) === selected))
    .map((address) => ({ iface: i, address }));
}

/** External addresses the destination interface admits for the traffic (SG ingress and ACL inbound). */
function admittedFrom(
  index: PolicyIndex,
  dst: IndexedInterface,
  family: Family,
  traffic: Traffic,
): IntervalSet {
  return admitted(index, dst, family, traffic, false);
}

function admittedTo(
  index: PolicyIndex,
  src: IndexedInterface,
  family: Family,
  traffic: Traffic,
): IntervalSet {
  return admitted(index, src, family, traffic, true);
}

/**
 * The remote addresses the interface's groups and its subnet's ACL both admit, in one direction,
 * over the traffic's cases (pathCases).
 */
export function admitted(
  index: PolicyIndex,
  iface: IndexedInterface,
  family: Family,
  traffic: Traffic,
  egress: boolean,
): IntervalSet {
  const acl = index.networkAclOf(iface.subnetId);
  let union = IntervalSet.EMPTY;
  for (const t of index.pathCases(traffic, [iface])) {
    let set = allowedRemotes(egress ? iface.egress : iface.ingress, family, t);
    if (acl) set = set.intersect(aclAllowedRemotes(acl, egress, family, t));
    union = union.union(set);
  }
  return union;
}

function firstAddress(space: IntervalSet, family: Family): IpAddress | undefined {
  const first = space.intervals[0];
  return first ? { family, value: first.lo } : undefined;
}

/**
 * Every verdict between two selections. An external set is represented by one address of it that
 * the other side admits when there is one (so "allowed" means "some address of the set"), else by
 * its first address, whose verdict then explains the denial.
 */
export function verdictsBetween(
  index: PolicyIndex,
  source: Selection,
  destination: Selection,
  traffic: Traffic,
  family: Family,
): FlowVerdict[] {
  const out: FlowVerdict[] = [];
  const ifaceEndpoint = (sel: Selection, i: IndexedInterface) =>
    sel.kind === "interfaces" && sel.address !== undefined
      ? { kind: "interface" as const, interfaceId: i.eni.id, address: sel.address }
      : { kind: "interface" as const, interfaceId: i.eni.id };
  // A documentation address (203.0.113.1, 2001:db8::1) reads better than 1.0.0.0 when it will do.
  const example = family === 4 ? 0xcb007101n : 0x20010db8000000000000000000000001n;
  const pickExternal = (space: IntervalSet, admitted: IntervalSet | undefined): string | undefined => {
    const candidates = admitted ? space.intersect(admitted) : space;
    if (candidates.has(example) || (candidates.isEmpty && space.has(example)))
      return formatIp({ family, value: example });
    const a = firstAddress(candidates, family) ?? firstAddress(space, family);
    return a ? formatIp(a) : undefined;
  };
  if (source.kind === "interfaces" && destination.kind === "interfaces") {
    for (const s of source.interfaces) {
      for (const d of destination.interfaces) {
        if (s === d || !sideOf(s, family) || !sideOf(d, family)) continue;
        out.push(
          evaluateFlow(index, {
            source: ifaceEndpoint(source, s),
            destination: ifaceEndpoint(destination, d),
            traffic,
            family,
          }),
        );
      }
    }
  } else if (source.kind === "external" && destination.kind === "interfaces") {
    for (const d of destination.interfaces) {
      if (!sideOf(d, family)) continue;
      const address = pickExternal(source.space[family], admittedFrom(index, d, family, traffic));
      if (address === undefined) continue;
      out.push(
        evaluateFlow(index, {
          source: { kind: "address", address },
          destination: ifaceEndpoint(destination, d),
          traffic,
          family,
        }),
      );
    }
  } else if (source.kind === "interfaces" && destination.kind === "external") {
    for (const s of source.interfaces) {
      if (!sideOf(s, family)) continue;
      const address = pickExternal(destination.space[family], admittedTo(index, s, family, traffic));
      if (address === undefined) continue;
      out.push(
        evaluateFlow(index, {
          source: ifaceEndpoint(source, s),
          destination: { kind: "address", address },
          traffic,
          family,
        }),
      );
    }
  } else if (source.kind === "external" && destination.kind === "external") {
    const a = pickExternal(source.space[family], undefined);
    const b = pickExternal(destination.space[family], undefined);
    if (a !== undefined && b !== undefined) {
      out.push(
        evaluateFlow(index, {
          source: { kind: "address", address: a },
          destination: { kind: "address", address: b },
          traffic,
          family,
        }),
      );
    }
  }
  return out;
}

/**
 * Of the ports of a range (tcp or udp, in order), the ones where some rule or ACL entry of the
 * estate starts or ends: every port after one of them is decided as it is, for every pair, so
 * asking these decides the whole range. Anything else is returned as it is.
 */
export function decidingPorts(index: PolicyIndex, traffics: readonly Traffic[]): readonly Traffic[] {
  const first = traffics[0];
  const last = traffics[traffics.length - 1];
  if (traffics.length < 2 || first?.port === undefined || last?.port === undefined) return traffics;
  const protocol = first.protocol;
  const entries = function* () {
    for (const i of index.interfaces.values()) {
      yield* i.ingress;
      yield* i.egress;
    }
  };
  const aclEntries = index.estate.networkAcls.flatMap((acl) => acl.entries);
  return portCuts(protocol, first.port, last.port, entries(), aclEntries).map((port) => ({ protocol, port }));
}

/**
 * The ports from `from` to `to` where a piece of a tcp or udp port space begins: `from`, and every
 * port where one of the rules or ACL entries of the protocol starts or ends. Every port up to the
 * next cut is decided as the cut is, by all of them.
 */
function portCuts(
  protocol: number,
  from: number,
  to: number,
  entries: Iterable<PolicyEntry>,
  aclEntries: Iterable<NetworkAclEntry>,
): number[] {
  const cuts = new Set<number>([from]);
  for (const e of entries) {
    if (e.protocol !== protocol) continue;
    cuts.add(e.from);
    cuts.add(e.to + 1);
  }
  for (const e of aclEntries) {
    if (Number(e.protocol) !== protocol || !e.portRange) continue;
    cuts.add(e.portRange.from);
    cuts.add(e.portRange.to + 1);
  }
  return [...cuts].filter((port) => port >= from && port <= to).sort((a, b) => a - b);
}

export interface WhoCanReach {
  readonly destination: IndexedInterface;
  /** Interfaces of the estate that may open the flow. */
  readonly interfaces: readonly IndexedInterface[];
  /** For each of them, in the same order, the address it may open it from. */
  readonly from: readonly IpAddress[];
  /** Addresses outside every VPC that may open it. */
  readonly external: IntervalSet;
}

export function whoCanReach(
  index: PolicyIndex,
  destination: Selection,
  traffic: Traffic,
  family: Family,
): WhoCanReach[] {
  if (destination.kind !== "interfaces") return [];
  const sources = [...index.interfaces.values()].map((i) => sidesOf(i, family)).filter((s) => s.length > 0);
  const out: WhoCanReach[] = [];
  for (const d of destination.interfaces) {
    const destinations = sidesOf(d, family, destination.address);
    if (destinations.length === 0) continue;
    // from any address of the source to any (or the selected) address of the destination
    const interfaces: IndexedInterface[] = [];
    const from: IpAddress[] = [];
    for (const sides of sources) {
      const s = sides[0]?.iface as IndexedInterface;
      if (s === d) continue;
      const to = distinguishable(index, destinations, s, s.egress);
      const passing = distinguishable(index, sides, d, d.ingress).find((from) =>
        to.some((dst) => isAllowedBetween(index, from, dst, traffic)),
      );
      if (!passing) continue;
      interfaces.push(passing.iface as IndexedInterface);
      from.push(passing.address);
    }
    const external = admittedFrom(index, d, family, traffic).subtract(index.vpcSpace[family]);
    out.push({ destination: d, interfaces, from, external });
  }
  return out;
}

/**
 * The services (protocol and port/type ranges) on which `a` may open flows to `b`, as text:
 * "all", "tcp/22", "tcp/1000-2000", "icmp/8", "udp/all", "proto 47", "other protocols".
 * Exact: the port space is cut at every boundary any rule or ACL entry on the path mentions, and
 * one port per piece is evaluated.
 */
export function servicesBetween(index: PolicyIndex, a: Side, b: Side): string[] {
  return servicesWhere(pathEntries(index, a, b), a.address.family, (t) => isAllowedBetween(index, a, b, t));
}

/** The rules and ACL entries on the path from a to b: where the port space may change verdict. */
export function pathEntries(
  index: PolicyIndex,
  a: Side,
  b: Side,
): { entries: readonly PolicyEntry[]; aclEntries: readonly NetworkAclEntry[] } {
  const entries = [...(a.iface?.egress ?? []), ...(b.iface?.ingress ?? [])];
  const aclEntries = [a.iface, b.iface]
    .map((i) => (i ? index.networkAclOf(i.subnetId) : undefined))
    .flatMap((acl) => acl?.entries ?? []);
  return { entries, aclEntries };
}

/**
 * The services for which `ok` holds, as text ("all", "tcp/22", "tcp/1000-2000", "icmp/8",
 * "udp/all", "proto 47", "other protocols"). Exact as long as every rule and ACL entry that `ok`
 * depends on is among `cuts`: the port space is cut at each of their boundaries and one port per
 * piece is asked.
 */
export function servicesWhere(
  cuts: { entries: readonly PolicyEntry[]; aclEntries: readonly NetworkAclEntry[] },
  family: Family,
  ok: (traffic: Traffic) => boolean,
): string[] {
  const { entries, aclEntries } = cuts;
  const out: string[] = [];
  // whether every piece passed: only then is "all" the whole answer (a piece that fails means
  // the answer is the pieces, whatever the all-protocols question says)
  let everything = true;
  const ask = (traffic: Traffic) => {
    const passed = ok(traffic);
    if (!passed) everything = false;
    return passed;
  };
  for (const protocol of [PROTOCOL_NUMBERS.tcp, PROTOCOL_NUMBERS.udp]) {
    const cuts = portCuts(protocol, 0, 65535, entries, aclEntries);
    const allowed: { lo: bigint; hi: bigint }[] = [];
    for (let k = 0; k < cuts.length; k++) {
      const lo = cuts[k] as number;
      const hi = (cuts[k + 1] ?? 65536) - 1;
      if (ask({ protocol, port: lo })) allowed.push({ lo: BigInt(lo), hi: BigInt(hi) });
    }
    for (const { lo, hi } of IntervalSet.of(allowed).intervals) {
      const name = protocolName(protocol);
      out.push(
        lo === 0n && hi === 65535n ? `${name}/all` : lo === hi ? `${name}/${lo}` : `${name}/${lo}-${hi}`,
      );
    }
  }
  const icmp = family === 4 ? PROTOCOL_NUMBERS.icmp : PROTOCOL_NUMBERS.icmpv6;
  const icmpName = protocolName(icmp);
  const types = new Set<number>();
  for (const e of entries) if (e.protocol === icmp && e.from >= 0) types.add(e.from);
  for (const e of aclEntries)
    if (Number(e.protocol) === icmp && e.icmp && e.icmp.type >= 0) types.add(e.icmp.type);
  let other = 0;
  while (types.has(other)) other++;
  const sortedTypes = [...types].sort((x, y) => x - y);
  const passing = sortedTypes.filter((t) => ask({ protocol: icmp, icmpType: t }));
  if (ask({ protocol: icmp, icmpType: other })) {
    const failing = sortedTypes.filter((t) => !passing.includes(t));
    out.push(failing.length === 0 ? `${icmpName}/all` : `${icmpName}/all except ${failing.join(",")}`);
  } else {
    for (const t of passing) out.push(`${icmpName}/${t}`);
  }
  const numbers = new Set<number>();
  for (const e of entries)
    if (e.protocol > 0 && ![1, 6, 17, 58].includes(e.protocol)) numbers.add(e.protocol);
  for (const e of aclEntries) {
    const p = Number(e.protocol);
    if (p > 0 && ![1, 6, 17, 58].includes(p)) numbers.add(p);
  }
  for (const n of [...numbers].sort((x, y) => x - y)) if (ask({ protocol: n })) out.push(`proto ${n}`);
  const spare = [47, 50, 51, 132, 253].find((n) => !numbers.has(n)) as number;
  if (ask({ protocol: spare })) out.push("other protocols");
  if (everything && ok({ protocol: ALL_PROTOCOLS })) return ["all"];
  return out;
}

export interface Reachable {
  readonly source: IndexedInterface;
  readonly destinations: readonly {
    readonly destination: IndexedInterface;
    readonly services: readonly string[];
  }[];
  /** Egress open towards addresses outside every VPC, per rule. */
  readonly internet: readonly string[];
}

export function reachableFrom(index: PolicyIndex, source: Selection, family: Family): Reachable[] {
  if (source.kind !== "interfaces") return [];
  const out: Reachable[] = [];
  const inet = internetSpace(index.vpcSpace)[family];
  for (const s of source.interfaces) {
    const from = sidesOf(s, family, source.address);
    if (from.length === 0) continue;
    const destinations: { destination: IndexedInterface; services: string[] }[] = [];
    for (const d of index.interfaces.values()) {
      if (d === s) continue;
      // the services between any address of one and any of the other, one of each kind
      const services = new Set<string>();
      const to = distinguishable(index, sidesOf(d, family), s, s.egress);
      for (const a of distinguishable(index, from, d, d.ingress))
        for (const b of to) for (const x of servicesBetween(index, a, b)) services.add(x);
      if (services.size > 0) destinations.push({ destination: d, services: [...services] });
    }
    const internet = s.egress
      .filter((e) => e.family === family && !e.remote.intersect(inet).isEmpty)
      .map(
        (e) =>
          `${entryService(e)} to ${e.openToAll ? (family === 4 ? "0.0.0.0/0" : "::/0") : describeSet(e.remote.intersect(inet), family, 3)} (${e.groupId} ${e.ruleId})`,
      );
    out.push({ source: s, destinations, internet });
  }
  return out;
}

export function entryService(e: PolicyEntry): string {
  if (e.protocol === ALL_PROTOCOLS) return "all";
  const name = protocolName(e.protocol);
  if (e.protocol === PROTOCOL_NUMBERS.tcp || e.protocol === PROTOCOL_NUMBERS.udp) {
    if (e.from === 0 && e.to === 65535) return `${name}/all`;
    return e.from === e.to ? `${name}/${e.from}` : `${name}/${e.from}-${e.to}`;
  }
  if (e.protocol === PROTOCOL_NUMBERS.icmp || e.protocol === PROTOCOL_NUMBERS.icmpv6) {
    if (e.from === -1) return `${name}/all`;
    return e.to === -1 ? `${name}/${e.from}` : `${name}/${e.from}:${e.to}`;
  }
  return `proto ${e.protocol}`;
}

export type ExposureGrade = "public" | "private-only";

export interface ExposureFinding {
  readonly interface: IndexedInterface;
  /** public: the interface has a public/Elastic IPv4 (or a global IPv6 for IPv6 rules). */
  readonly grade: ExposureGrade;
  /** Where the internet reaches it for this rule's family: its Elastic or public IPv4, or its first global IPv6. */
  readonly publicAddress?: string;
  readonly family: Family;
  readonly service: string;
  readonly groupId: string;
  readonly ruleId: string;
  /** Internet sources the rule admits, as CIDR text. */
  readonly sources: string;
  readonly worldOpen: boolean;
  /** The subnet's network ACL admits none of those sources for this service. */
  readonly blockedByNacl: boolean;
}

/**
 * Traffic an entry admits, one flow for each piece the ACL decides differently: the entry's first
 * port, type or code and every one where an ACL entry's range starts or ends inside the entry's.
 * For an entry of every protocol, also each protocol the ACL names on its own (an ACL open to
 * tcp/443 only lets part of an all-traffic rule in). Ports past 65535 and types past 255 none is.
 */
function aclProbes(e: PolicyEntry, acl: NetworkAcl): Traffic[] {
  const within = (from: number, to: number, cuts: number[]) =>
    [...new Set([from, ...cuts])].filter((v) => v >= from && v <= to);
  const entries = acl.entries.filter((x) => !x.egress);
  const portsOf = (protocol: number, from: number, to: number): Traffic[] =>
    portCuts(protocol, from, to, [], entries).map((port) => ({ protocol, port }));
  const icmpOf = (protocol: number, type: number, code: number): Traffic[] => {
    const named = entries.filter((x) => Number(x.protocol) === protocol && x.icmp);
    const types =
      type >= 0
        ? [type]
        : within(0, 255, [
            8,
            ...named.flatMap((x) => [x.icmp?.type as number, (x.icmp?.type as number) + 1]),
          ]);
    const codes =
      code >= 0
        ? [code]
        : within(0, 255, [
            0,
            ...named.flatMap((x) => [x.icmp?.code as number, (x.icmp?.code as number) + 1]),
          ]);
    return types.flatMap((icmpType) => codes.map((icmpCode) => ({ protocol, icmpType, icmpCode })));
  };
  if (e.protocol === 6 || e.protocol === 17)
    return portsOf(e.protocol, Math.max(0, e.from), Math.min(65535, e.to));
  if (e.protocol === 1 || e.protocol === 58) return icmpOf(e.protocol, e.from, e.to);
  if (e.protocol !== ALL_PROTOCOLS) return [{ protocol: e.protocol }];
  const named = [...new Set(entries.map((x) => Number(x.protocol)).filter((p) => p !== ALL_PROTOCOLS))];
  return [
    { protocol: ALL_PROTOCOLS },
    ...named.flatMap((p) =>
      p === 6 || p === 17
        ? portsOf(p, 0, 65535)
        : p === 1 || p === 58
          ? icmpOf(p, -1, -1)
          : [{ protocol: p }],
    ),
  ];
}

/** Ingress open to addresses on the internet, per interface and rule, graded by public address. */
export function exposure(index: PolicyIndex): ExposureFinding[] {
  const inet = internetSpace(index.vpcSpace);
  const out: ExposureFinding[] = [];
  for (const i of index.interfaces.values()) {
    for (const e of i.ingress) {
      // icmp (1) is IPv4's and icmpv6 (58) IPv6's: the rule of the other family matches nothing (spec 3.4)
      if ((e.protocol === 1 && e.family === 6) || (e.protocol === 58 && e.family === 4)) continue;
      const open = e.remote.intersect(inet[e.family]);
      if (open.isEmpty || !i.addresses.some((a) => a.family === e.family)) continue;
      const global6 =
        e.family === 6 ? i.addresses.find((a) => a.family === 6 && a.value >> 121n !== 0x7en) : undefined;
      const publicAddress = e.family === 4 ? (i.elasticIp ?? i.publicIp) : global6 && formatIp(global6);
      const hasPublic = publicAddress !== undefined;
      const acl = index.networkAclOf(i.subnetId);
      const blockedByNacl =
        acl !== undefined &&
        aclProbes(e, acl).every(
          (probe) => aclAllowedRemotes(acl, false, e.family, probe).intersect(open).isEmpty,
        );
      out.push({
        interface: i,
        grade: hasPublic ? "public" : "private-only",
        ...(publicAddress !== undefined ? { publicAddress } : {}),
        family: e.family,
        service: entryService(e),
        groupId: e.groupId,
        ruleId: e.ruleId,
        sources: e.openToAll ? (e.family === 4 ? "0.0.0.0/0" : "::/0") : describeSet(open, e.family),
        worldOpen: e.openToAll,
        blockedByNacl,
      });
    }
  }
  return out;
}

/** Groups no interface carries. */
export function unusedGroups(index: PolicyIndex): string[] {
  return [...index.groups.keys()].filter((g) => index.memberInterfaces(g).length === 0).sort();
}
