// The building blocks of "allowed", computed once per Estate so that every question after that
// (one flow, a whole matrix, one host's firewall) is a lookup. The evaluator (evaluate.ts), the
// matrix and the nftables compiler all read these and nothing else, so they cannot disagree.
//
//   const index = PolicyIndex.build(estate, { dynamicSubnets: ["subnet-0abc"] });
//   index.effectiveRules("eni-0123", "ingress")   // PolicyEntry[]: remote addresses x protocol x ports, with rule ids
//   index.groupMembers("sg-0456")                 // { 4: IntervalSet, 6: IntervalSet } of member private IPs
//   index.prefixListEntries("pl-0789")            // { 4: IntervalSet, 6: IntervalSet }
//   index.networkAclOf("subnet-0abc")             // the subnet's NetworkAcl, if known
//
// Semantics (spec 3.11): an interface's effective ingress (egress) is the union of the ingress
// (egress) rules of every group attached to it. A group-reference peer stands for the private IPv4
// and IPv6 addresses (primary and secondary, never public or Elastic) of every interface that
// carries the referenced group, whatever its account; a reference to a group no interface carries
// matches nothing (a stale or unused reference). A prefix-list peer stands for the list's current
// entries; an unknown list matches nothing. A rule whose peer has no address of one family yields
// no entry of that family.

import type {
  Direction,
  ElasticAddress,
  Estate,
  Instance,
  NetworkAcl,
  NetworkInterface,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
} from "../model/estate.js";
import { acrossDeletedPeering, subnetBlocks } from "../model/estate.js";
import { type Family, type IpAddress, parseIp } from "../net/address.js";
import { type Cidr, lastAddress, parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { ALL_PROTOCOLS, PROTOCOL_NUMBERS, protocolNumber } from "../net/protocol.js";

/** One set of addresses per IP family. */
export interface AddressSets {
  readonly 4: IntervalSet;
  readonly 6: IntervalSet;
}

export const NO_ADDRESSES: AddressSets = { 4: IntervalSet.EMPTY, 6: IntervalSet.EMPTY };

/** Path ids per key digit: a type (9 bits) and two ids stay within a double's exact integers. */
const PATH_IDS = 2 ** 21;

/**
 * One rule of one group, resolved for one address family: traffic of `protocol` on `from..to`
 * to (egress) or from (ingress) any address of `remote` is allowed.
 */
export interface PolicyEntry {
  readonly direction: Direction;
  readonly groupId: string;
  /** The `sgr-` id of the rule (synthetic for imported dumps). */
  readonly ruleId: string;
  readonly family: Family;
  /** Sources of an ingress entry, destinations of an egress entry. */
  readonly remote: IntervalSet;
  /** IP protocol number; -1 = every protocol. */
  readonly protocol: number;
  /** tcp/udp: destination port range. icmp/icmpv6: type (from) and code (to), -1 = any. Otherwise -1. */
  readonly from: number;
  readonly to: number;
  readonly peer: RulePeer;
  /** The peer is 0.0.0.0/0 or ::/0: what makes a tcp/udp flow untracked (spec 3.11). */
  readonly openToAll: boolean;
}

/** A flow's protocol part: what a rule or ACL entry is matched against. */
export interface Traffic {
  /** IP protocol number; -1 = all traffic (only all-protocol rules match it). */
  readonly protocol: number;
  /** tcp/udp destination port. */
  readonly port?: number;
  /** icmp/icmpv6 type and code; an absent code matches a rule for any code of the type. */
  readonly icmpType?: number;
  readonly icmpCode?: number;
}

export interface IndexedInterface {
  readonly eni: NetworkInterface;
  /** Private addresses (primary first), the ones group references match. */
  readonly addresses: readonly IpAddress[];
  readonly subnetId: string;
  readonly vpcId: string;
  /** Public or Elastic IPv4, if any: only matters for internet-facing paths. */
  readonly publicIp?: string;
  readonly elasticIp?: string;
  readonly instance?: Instance;
  /** Sorted attached group ids joined by ",": interfaces with equal keys have equal policy. */
  readonly groupKey: string;
  /**
   * The interface's effective rules, derived on first read and shared by its group set: accessors
   * of the interface object, so a copy of it by spread does not carry them.
   */
  readonly ingress: readonly PolicyEntry[];
  readonly egress: readonly PolicyEntry[];
}

interface EffectiveEntries {
  readonly ingress: PolicyEntry[];
  readonly egress: PolicyEntry[];
}

export interface PolicyIndexOptions {
  /**
   * Subnets (id or Name tag) of short-lived instances (fwunit's "dynamic subnet"): every group
   * carried by an interface there is taken to cover the whole subnet CIDR, so the analysis
   * holds for whichever address the next instance gets.
   */
  readonly dynamicSubnets?: readonly string[];
}

export function cidrInterval(cidr: Cidr): IntervalSet {
  return IntervalSet.range(cidr.base, lastAddress(cidr));
}

/** Whether an entry's protocol and ports/ICMP admit the traffic (addresses not considered). */
export function entryAdmits(entry: PolicyEntry, traffic: Traffic): boolean {
  if (entry.protocol === ALL_PROTOCOLS) return true;
  if (entry.protocol !== traffic.protocol) return false;
  const p = entry.protocol;
  if (p === PROTOCOL_NUMBERS.tcp || p === PROTOCOL_NUMBERS.udp) {
    return traffic.port !== undefined && entry.from <= traffic.port && traffic.port <= entry.to;
  }
  if (p === PROTOCOL_NUMBERS.icmp || p === PROTOCOL_NUMBERS.icmpv6) {
    if (entry.from !== -1 && entry.from !== traffic.icmpType) return false;
    if (entry.to !== -1 && traffic.icmpCode !== undefined && entry.to !== traffic.icmpCode) return false;
    return true;
  }
  return true;
}

/** The remote addresses a list of entries allows for the traffic, per family. */
export function allowedRemotes(
  entries: readonly PolicyEntry[],
  family: Family,
  traffic: Traffic,
): IntervalSet {
  const parts: IntervalSet[] = [];
  for (const e of entries) if (e.family === family && entryAdmits(e, traffic)) parts.push(e.remote);
  if (parts.length === 0) return IntervalSet.EMPTY;
  if (parts.length === 1) return parts[0] as IntervalSet;
  return IntervalSet.of(parts.flatMap((s) => s.intervals));
}

/**
 * An interface of the index. Its effective entries are derived from its group set on first read
 * and shared by every interface of that set: the compiler reads rules per group and never needs
 * them, the evaluator needs them only for the interfaces a question is about.
 */
class IndexedEntry implements IndexedInterface {
  readonly subnetId: string;
  readonly vpcId: string;
  readonly publicIp: string | undefined;
  private effective: EffectiveEntries | undefined;

  constructor(
    readonly eni: NetworkInterface,
    readonly addresses: readonly IpAddress[],
    readonly groupKey: string,
    readonly elasticIp: string | undefined,
    readonly instance: Instance | undefined,
    private readonly entriesOf: (groupKey: string) => EffectiveEntries,
  ) {
    this.subnetId = eni.subnetId;
    this.vpcId = eni.vpcId;
    this.publicIp = eni.publicIp;
  }

  get ingress(): readonly PolicyEntry[] {
    this.effective ??= this.entriesOf(this.groupKey);
    return this.effective.ingress;
  }

  get egress(): readonly PolicyEntry[] {
    this.effective ??= this.entriesOf(this.groupKey);
    return this.effective.egress;
  }
}

export class PolicyIndex {
  readonly interfaces = new Map<string, IndexedInterface>();
  readonly groups = new Map<string, SecurityGroup>();
  readonly subnets = new Map<string, Subnet>();
  readonly instances = new Map<string, Instance>();
  private readonly members = new Map<string, AddressSets>();
  private readonly membersById = new Map<string, IndexedInterface[]>();
  private readonly prefixLists = new Map<string, AddressSets>();
  private readonly aclBySubnet = new Map<string, NetworkAcl>();
  private readonly byAddress = new Map<string | number, IndexedInterface>();
  private readonly byPublicAddress = new Map<string | number, IndexedInterface>();
  private readonly byGroup = new Map<string, EffectiveEntries>();
  private readonly bySet = new Map<string, EffectiveEntries>();
  /**
   * Every VPC and subnet CIDR, and every interface's own private address (a dump of groups and
   * interfaces alone knows no VPC): addresses outside them are "outside every VPC".
   */
  readonly vpcSpace: AddressSets;

  private constructor(readonly estate: Estate) {
    const space = { 4: [] as IntervalSet[], 6: [] as IntervalSet[] };
    for (const vpc of estate.vpcs) {
      for (const text of [...vpc.cidrs, ...vpc.ipv6Cidrs]) {
        const c = parseCidr(text);
        if (c) space[c.cidr.family].push(cidrInterval(c.cidr));
      }
    }
    for (const subnet of estate.subnets) {
      for (const text of subnetBlocks(subnet)) {
        const c = parseCidr(text);
        if (c) space[c.cidr.family].push(cidrInterval(c.cidr));
      }
    }
    for (const eni of estate.networkInterfaces) {
      for (const text of [...eni.privateIpv4, ...eni.ipv6]) {
        const a = parseIp(text);
        if (a) space[a.family].push(IntervalSet.range(a.value, a.value));
      }
    }
    this.vpcSpace = {
      4: IntervalSet.of(space[4].flatMap((s) => s.intervals)),
      6: IntervalSet.of(space[6].flatMap((s) => s.intervals)),
    };
  }

  static build(estate: Estate, options: PolicyIndexOptions = {}): PolicyIndex {
    const index = new PolicyIndex(estate);
    index.load(options);
    return index;
  }

  private load(options: PolicyIndexOptions): void {
    const estate = this.estate;
    for (const g of estate.securityGroups) this.groups.set(g.id, g);
    for (const s of estate.subnets) this.subnets.set(s.id, s);
    for (const i of estate.instances) this.instances.set(i.id, i);
    for (const acl of estate.networkAcls) for (const s of acl.subnetIds) this.aclBySubnet.set(s, acl);
    // A subnet without an explicit association uses its VPC's default ACL, as on EC2.
    const defaultAcl = new Map(estate.networkAcls.filter((a) => a.isDefault).map((a) => [a.vpcId, a]));
    for (const subnet of estate.subnets) {
      const fallback = defaultAcl.get(subnet.vpcId);
      if (!this.aclBySubnet.has(subnet.id) && fallback) this.aclBySubnet.set(subnet.id, fallback);
    }
    for (const pl of estate.prefixLists) {
      const sets = { 4: [] as IntervalSet[], 6: [] as IntervalSet[] };
      for (const entry of pl.entries) {
        const c = parseCidr(entry.cidr);
        if (c) sets[c.cidr.family].push(cidrInterval(c.cidr));
      }
      this.prefixLists.set(pl.id, {
        4: IntervalSet.of(sets[4].flatMap((s) => s.intervals)),
        6: IntervalSet.of(sets[6].flatMap((s) => s.intervals)),
      });
    }

    // an interface may hold an Elastic IP on each of its private addresses
    const elasticByEni = new Map<string, ElasticAddress[]>();
    for (const a of estate.addresses) {
      if (!a.networkInterfaceId) continue;
      const list = elasticByEni.get(a.networkInterfaceId);
      if (list) list.push(a);
      else elasticByEni.set(a.networkInterfaceId, [a]);
    }
    const instanceByEni = new Map<string, Instance>();
    for (const i of estate.instances) for (const eni of i.interfaceIds) instanceByEni.set(eni, i);

    // Membership first: every rule's group reference resolves against it.
    const memberParts = new Map<string, { 4: bigint[]; 6: bigint[]; cidrs: IntervalSet[][] }>();
    const partsOf = (groupId: string) => {
      let parts = memberParts.get(groupId);
      if (!parts) {
        parts = { 4: [], 6: [], cidrs: [[], []] };
        memberParts.set(groupId, parts);
      }
      return parts;
    };
    const dynamic = new Set(
      (options.dynamicSubnets ?? []).map((name) => {
        const subnet = estate.subnets.find((s) => s.id === name || s.tags.Name === name);
        if (!subnet) throw new Error(`dynamic subnet '${name}' is neither a subnet id nor a subnet Name tag`);
        return subnet.id;
      }),
    );
    const prepared: { eni: NetworkInterface; addresses: IpAddress[]; groupIds: string[] }[] = [];
    for (const eni of estate.networkInterfaces) {
      const addresses: IpAddress[] = [];
      for (const list of [eni.privateIpv4, eni.ipv6]) {
        for (const text of list) {
          const a = parseIp(text);
          if (a) addresses.push(a);
        }
      }
      const groupIds = sortedUnique(eni.groupIds);
      for (const g of groupIds) {
        const parts = partsOf(g);
        for (const a of addresses) parts[a.family].push(a.value);
      }
      if (dynamic.has(eni.subnetId)) {
        const subnet = this.subnets.get(eni.subnetId);
        for (const text of subnet ? subnetBlocks(subnet) : []) {
          const c = parseCidr(text);
          if (!c) continue;
          for (const g of groupIds) partsOf(g).cidrs[c.cidr.family === 4 ? 0 : 1]?.push(cidrInterval(c.cidr));
        }
      }
      prepared.push({ eni, addresses, groupIds });
    }
    for (const [groupId, parts] of memberParts) {
      const build = (values: bigint[], cidrs: IntervalSet[]) =>
        IntervalSet.of([...values.map((v) => ({ lo: v, hi: v })), ...cidrs.flatMap((s) => s.intervals)]);
      this.members.set(groupId, {
        4: build(parts[4], parts.cidrs[0] ?? []),
        6: build(parts[6], parts.cidrs[1] ?? []),
      });
    }

    const entriesOf = (groupKey: string) => this.effectiveOfGroups(groupKey);
    for (const { eni, addresses, groupIds } of prepared) {
      const instance =
        (eni.instanceId ? this.instances.get(eni.instanceId) : undefined) ?? instanceByEni.get(eni.id);
      const elastic = elasticByEni.get(eni.id) ?? [];
      // the interface's own is the one on its primary address; any other still reaches it
      const own = elastic.find((a) => a.privateIp === eni.privateIpv4[0]) ?? elastic[0];
      const indexed = new IndexedEntry(
        eni,
        addresses,
        groupIds.join(","),
        own?.publicIp,
        instance,
        entriesOf,
      );
      this.interfaces.set(eni.id, indexed);
      for (const a of addresses) this.byAddress.set(addressKey(a), indexed);
      for (const p of [indexed.publicIp, ...elastic.map((a) => a.publicIp)]) {
        const a = p === undefined ? undefined : parseIp(p);
        if (a) this.byPublicAddress.set(addressKey(a), indexed);
      }
      for (const g of groupIds) {
        const list = this.membersById.get(g);
        if (list) list.push(indexed);
        else this.membersById.set(g, [indexed]);
      }
    }
  }

  /**
   * The effective entries of every interface whose sorted attached groups are `groupKey`.
   */
  private effectiveOfGroups(groupKey: string): EffectiveEntries {
    let effective = this.bySet.get(groupKey);
    if (!effective) {
      effective = { ingress: [], egress: [] };
      for (const g of groupKey === "" ? [] : groupKey.split(",")) {
        const own = this.entriesOfGroup(g);
        effective.ingress.push(...own.ingress);
        effective.egress.push(...own.egress);
      }
      this.bySet.set(groupKey, effective);
    }
    return effective;
  }

  private entriesOfGroup(groupId: string): EffectiveEntries {
    let entries = this.byGroup.get(groupId);
    if (!entries) {
      entries = { ingress: [], egress: [] };
      for (const rule of this.groups.get(groupId)?.rules ?? [])
        (rule.direction === "ingress" ? entries.ingress : entries.egress).push(...this.resolveRule(rule));
      this.byGroup.set(groupId, entries);
    }
    return entries;
  }

  private resolveRule(rule: SecurityGroupRule): PolicyEntry[] {
    const protocol = protocolNumber(rule.protocol);
    const hasRange =
      protocol === PROTOCOL_NUMBERS.tcp ||
      protocol === PROTOCOL_NUMBERS.udp ||
      protocol === PROTOCOL_NUMBERS.icmp ||
      protocol === PROTOCOL_NUMBERS.icmpv6;
    // A protocol that cannot be read matches nothing: never widen a rule to all traffic.
    if (!Number.isInteger(protocol) || protocol < ALL_PROTOCOLS || protocol > 255) return [];
    const ruleProtocol = protocol;
    const from = hasRange ? rule.fromPort : -1;
    const to = hasRange ? rule.toPort : -1;
    const peer = rule.peer;
    const make = (family: Family, remote: IntervalSet, openToAll: boolean): PolicyEntry => ({
      direction: rule.direction,
      groupId: rule.groupId,
      ruleId: rule.id,
      family,
      remote,
      protocol: ruleProtocol,
      from,
      to,
      peer: rule.peer,
      openToAll,
    });
    switch (peer.kind) {
      case "ipv4":
      case "ipv6": {
        const c = parseCidr(peer.cidr);
        if (!c) return [];
        return [make(c.cidr.family, cidrInterval(c.cidr), c.cidr.prefix === 0)];
      }
      case "prefix-list":
      case "group": {
        if (acrossDeletedPeering(peer)) return [];
        const sets =
          peer.kind === "group" ? this.groupMembers(peer.groupId) : this.prefixListEntries(peer.prefixListId);
        const out: PolicyEntry[] = [];
        if (!sets[4].isEmpty) out.push(make(4, sets[4], false));
        if (!sets[6].isEmpty) out.push(make(6, sets[6], false));
        return out;
      }
    }
  }

  /** Private addresses of every interface carrying the group (plus dynamic subnets). */
  groupMembers(groupId: string): AddressSets {
    return this.members.get(groupId) ?? NO_ADDRESSES;
  }

  /** Interfaces that carry the group. */
  memberInterfaces(groupId: string): readonly IndexedInterface[] {
    return this.membersById.get(groupId) ?? [];
  }

  prefixListEntries(prefixListId: string): AddressSets {
    return this.prefixLists.get(prefixListId) ?? NO_ADDRESSES;
  }

  effectiveRules(interfaceId: string, direction: Direction): readonly PolicyEntry[] {
    const i = this.interfaces.get(interfaceId);
    if (!i) return [];
    return direction === "ingress" ? i.ingress : i.egress;
  }

  networkAclOf(subnetId: string): NetworkAcl | undefined {
    return this.aclBySubnet.get(subnetId);
  }

  /**
   * The traffic as flows the rules decide alike: an ICMP type without a code is one flow per code
   * that the estate's rules and ACL entries name for it, and one for the rest ("some code" of the
   * type is one of them); any other traffic is itself.
   */
  trafficCases(t: Traffic): readonly Traffic[] {
    if (!isCodelessIcmp(t)) return [t];
    const key = `${t.protocol}/${t.icmpType}`;
    let cases = this.casesByType.get(key);
    if (!cases) {
      cases = icmpCases(t, (add) => {
        for (const group of this.groups.values()) {
          for (const rule of group.rules) {
            if (protocolNumber(rule.protocol) === t.protocol) add(rule.fromPort, rule.toPort);
          }
        }
        for (const acl of this.estate.networkAcls) {
          for (const entry of acl.entries) {
            if (Number(entry.protocol) === t.protocol && entry.icmp) add(entry.icmp.type, entry.icmp.code);
          }
        }
      });
      this.casesByType.set(key, cases);
    }
    return cases;
  }

  /**
   * The same for the flows of one path: only codes that the rules of its interfaces and the entries
   * of their subnets' ACLs name can decide them, so a path that names none is the traffic itself.
   */
  pathCases(t: Traffic, ifaces: readonly (IndexedInterface | undefined)[]): readonly Traffic[] {
    if (!isCodelessIcmp(t)) return [t];
    if (ifaces.length > 2) throw new Error("a path has one or two interfaces");
    // the same pairs of group sets and subnets are asked about again and again (a diff, a matrix):
    // the key is a number, built from small ids of those, not a string of their group ids
    let key = (t.protocol === PROTOCOL_NUMBERS.icmp ? 0 : 256) + (t.icmpType as number);
    for (const iface of ifaces) key = key * PATH_IDS + (iface ? this.pathId(iface) : 0);
    let cases = this.casesByPath.get(key);
    if (!cases) {
      cases = icmpCases(t, (add) => {
        for (const iface of ifaces) {
          if (!iface) continue;
          for (const e of iface.ingress) if (e.protocol === t.protocol) add(e.from, e.to);
          for (const e of iface.egress) if (e.protocol === t.protocol) add(e.from, e.to);
          for (const entry of this.networkAclOf(iface.subnetId)?.entries ?? []) {
            if (Number(entry.protocol) === t.protocol && entry.icmp) add(entry.icmp.type, entry.icmp.code);
          }
        }
      });
      // bounded: an estate of many group sets asked about every pair would fill it without end
      if (this.casesByPath.size >= 65536) this.casesByPath.clear();
      this.casesByPath.set(key, cases);
    }
    return cases;
  }

  private readonly casesByType = new Map<string, readonly Traffic[]>();
  private readonly casesByPath = new Map<number, readonly Traffic[]>();
  private readonly pathIds = new WeakMap<IndexedInterface, number>();
  private readonly pathIdsByKey = new Map<string, number>();

  /** A small number for the interface's group set and subnet, 1 up (0 is "no interface"). */
  private pathId(iface: IndexedInterface): number {
    let id = this.pathIds.get(iface);
    if (id === undefined) {
      const key = `${iface.groupKey}@${iface.subnetId}`;
      id = this.pathIdsByKey.get(key);
      if (id === undefined) {
        id = this.pathIdsByKey.size + 1;
        if (id >= PATH_IDS) throw new Error(`more than ${PATH_IDS - 1} group sets and subnets`);
        this.pathIdsByKey.set(key, id);
      }
      this.pathIds.set(iface, id);
    }
    return id;
  }

  /** Whether the estate has any network ACL at all (dumps without NetworkAcls skip the step). */
  get knowsNetworkAcls(): boolean {
    return this.estate.networkAcls.length > 0;
  }

  /** The interface whose private address this is. */
  interfaceAt(address: IpAddress): IndexedInterface | undefined {
    return this.byAddress.get(addressKey(address));
  }

  /** The interface a public or Elastic IP is associated with. */
  interfaceAtPublic(address: IpAddress): IndexedInterface | undefined {
    return this.byPublicAddress.get(addressKey(address));
  }

  isInsideVpc(address: IpAddress): boolean {
    return this.vpcSpace[address.family].has(address.value);
  }
}

/** A Map key for an address: IPv4 as a number (cheap to make and hash), IPv6 as text. */
export function addressKey(a: IpAddress): string | number {
  return a.family === 4 ? Number(a.value) : a.value.toString(16);
}

/** The distinct ids, sorted; most interfaces carry one group or two. */
function sortedUnique(ids: readonly string[]): string[] {
  if (ids.length < 2) return [...ids];
  const sorted = [...ids].sort();
  return sorted.filter((id, k) => k === 0 || id !== sorted[k - 1]);
}

/** An ICMP type asked about without a code: "some code" of it. */
export function isCodelessIcmp(t: Traffic): boolean {
  return (
    (t.protocol === PROTOCOL_NUMBERS.icmp || t.protocol === PROTOCOL_NUMBERS.icmpv6) &&
    t.icmpType !== undefined &&
    t.icmpCode === undefined
  );
}

/**
 * The cases of a code-less ICMP type from the (type, code) pairs that `each` hands to `add` (a
 * type of -1 is every type, a code of -1 any): one per code named for the type, and the first
 * code none names, which stands for all the others; the traffic itself when none is named.
 */
function icmpCases(
  t: Traffic,
  each: (add: (type: number, code: number) => void) => void,
): readonly Traffic[] {
  const named = new Set<number>();
  each((type, code) => {
    if ((type === t.icmpType || type === -1) && code >= 0) named.add(code);
  });
  if (named.size === 0) return [t];
  let other = 0;
  while (named.has(other)) other++;
  return [...named, ...(other <= 255 ? [other] : [])]
    .sort((x, y) => x - y)
    .map((icmpCode) => ({ protocol: t.protocol, icmpType: t.icmpType, icmpCode }));
}
