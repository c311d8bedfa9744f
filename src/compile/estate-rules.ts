// The one place where the compiler reads the model: which rules apply to an interface, and which
// addresses a group reference or a prefix list stands for. Addresses come from the policy
// evaluator's PolicyIndex (the single definition of "allowed"); rules are taken per security-group
// rule rather than per resolved entry, so that a group gaining its first member changes set
// elements, not rules. Protocol and port normalisation is PolicyIndex.resolveRule's.

import { effectiveTimeouts } from "../model/connection-tracking.js";
import { acrossDeletedPeering, type SecurityGroupRule } from "../model/estate.js";
import { formatIp } from "../net/address.js";
import { formatCidr, parseCidr } from "../net/cidr.js";
import { PROTOCOL_NUMBERS, protocolNumber } from "../net/protocol.js";
import type { IndexedInterface, PolicyIndex } from "../policy/policy-index.js";
import { intervalElements } from "./address-elements.js";
import type {
  GroupMembers,
  HostInterface,
  HostPeer,
  HostPolicy,
  HostRule,
  PrefixListEntries,
} from "./host-policy.js";
import { compareText } from "./text-order.js";

export class EstateRules {
  private readonly interfacesByInstance = new Map<string, IndexedInterface[]>();
  private readonly groupRules = new Map<string, { ingress: HostRule[]; egress: HostRule[] }>();
  // an index is immutable, so what is derived from it is computed once per group or list
  private readonly members = new Map<string, GroupMembers>();
  private readonly lists = new Map<string, PrefixListEntries>();

  constructor(readonly index: PolicyIndex) {
    for (const iface of index.interfaces.values()) {
      const instanceId = iface.eni.instanceId ?? iface.instance?.id;
      if (instanceId === undefined) continue;
      const list = this.interfacesByInstance.get(instanceId);
      if (list) list.push(iface);
      else this.interfacesByInstance.set(instanceId, [iface]);
    }
  }

  private rulesOf(groupId: string): { ingress: HostRule[]; egress: HostRule[] } {
    let rules = this.groupRules.get(groupId);
    if (!rules) {
      rules = { ingress: [], egress: [] };
      for (const rule of this.index.groups.get(groupId)?.rules ?? []) {
        const hostRule = toHostRule(rule, groupId);
        if (hostRule) (rule.direction === "ingress" ? rules.ingress : rules.egress).push(hostRule);
      }
      this.groupRules.set(groupId, rules);
    }
    return rules;
  }

  /** Ingress and egress rules of an interface: the union over its groups, sorted by rule id. */
  effectiveRules(groupIds: readonly string[]): { ingress: HostRule[]; egress: HostRule[] } {
    const ingress = new Map<string, HostRule>();
    const egress = new Map<string, HostRule>();
    for (const groupId of groupIds) {
      const rules = this.rulesOf(groupId);
      for (const r of rules.ingress) ingress.set(r.id, r);
      for (const r of rules.egress) egress.set(r.id, r);
    }
    const sorted = (m: Map<string, HostRule>) => [...m.values()].sort((a, b) => compareText(a.id, b.id));
    return { ingress: sorted(ingress), egress: sorted(egress) };
  }

  groupMembers(groupId: string): GroupMembers {
    let members = this.members.get(groupId);
    if (!members) {
      const sets = this.index.groupMembers(groupId);
      members = { groupId, ipv4: intervalElements(sets[4], 4), ipv6: intervalElements(sets[6], 6) };
      this.members.set(groupId, members);
    }
    return members;
  }

  prefixList(prefixListId: string): PrefixListEntries {
    let entries = this.lists.get(prefixListId);
    if (!entries) {
      const sets = this.index.prefixListEntries(prefixListId);
      entries = { prefixListId, ipv4: intervalElements(sets[4], 4), ipv6: intervalElements(sets[6], 6) };
      this.lists.set(prefixListId, entries);
    }
    return entries;
  }

  hostPolicy(instanceId: string): HostPolicy | undefined {
    const ifaces = this.interfacesByInstance.get(instanceId);
    const instance = this.index.instances.get(instanceId);
    if (!ifaces && !instance) return undefined;
    // a terminated instance has nothing left to enforce, and its host is not told to drop everything
    if (instance?.state === "terminated" || instance?.state === "shutting-down") return undefined;
    const interfaces: HostInterface[] = [];
    const groupIds = new Set<string>();
    const listIds = new Set<string>();
    for (const iface of [...(ifaces ?? [])].sort((a, b) => compareText(a.eni.id, b.eni.id))) {
      const attached = [...new Set(iface.eni.groupIds)].sort(compareText);
      const { ingress, egress } = this.effectiveRules(attached);
      for (const rule of [...ingress, ...egress]) {
        if (rule.peer.kind === "group") groupIds.add(rule.peer.groupId);
        if (rule.peer.kind === "prefix-list") listIds.add(rule.peer.prefixListId);
      }
      interfaces.push({
        id: iface.eni.id,
        ipv4: iface.addresses.filter((a) => a.family === 4).map(formatIp),
        ipv6: iface.addresses.filter((a) => a.family === 6).map(formatIp),
        groupIds: attached,
        ingress,
        egress,
        ...(iface.eni.connectionTracking
          ? { connectionTracking: effectiveTimeouts(iface.eni.connectionTracking) }
          : {}),
      });
    }
    return {
      instanceId,
      interfaces,
      groups: [...groupIds].sort(compareText).map((id) => this.groupMembers(id)),
      prefixLists: [...listIds].sort(compareText).map((id) => this.prefixList(id)),
    };
  }
}

function toHostRule(rule: SecurityGroupRule, groupId: string): HostRule | undefined {
  const protocol = protocolNumber(rule.protocol);
  // as the evaluator does: a protocol that cannot be read matches nothing, never all traffic, and
  // nor does a reference across a deleted peering
  if (Number.isNaN(protocol) || acrossDeletedPeering(rule.peer)) return undefined;
  const hasRange =
    protocol === PROTOCOL_NUMBERS.tcp ||
    protocol === PROTOCOL_NUMBERS.udp ||
    protocol === PROTOCOL_NUMBERS.icmp ||
    protocol === PROTOCOL_NUMBERS.icmpv6;
  let peer: HostPeer;
  switch (rule.peer.kind) {
    case "ipv4":
    case "ipv6": {
      const parsed = parseCidr(rule.peer.cidr);
      if (!parsed) return undefined;
      peer = { kind: "cidr", cidr: formatCidr(parsed.cidr) };
      break;
    }
    case "prefix-list":
      peer = { kind: "prefix-list", prefixListId: rule.peer.prefixListId };
      break;
    case "group":
      peer = { kind: "group", groupId: rule.peer.groupId };
      break;
  }
  return {
    id: rule.id,
    groupId,
    protocol,
    fromPort: hasRange ? rule.fromPort : -1,
    toPort: hasRange ? rule.toPort : -1,
    peer,
  };
}
