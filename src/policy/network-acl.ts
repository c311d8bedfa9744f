// Network ACLs are stateless and ordered (spec 3.11, 3.13): within one direction the entry with the
// lowest rule number whose protocol, ports/ICMP and CIDR match decides; nothing matching means the
// catch-all deny. IPv4 entries never match IPv6 traffic and the other way round.

import type { NetworkAcl, NetworkAclAction, NetworkAclEntry } from "../model/estate.js";
import type { Family, IpAddress } from "../net/address.js";
import { cidrContains, parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { ALL_PROTOCOLS, PROTOCOL_NUMBERS } from "../net/protocol.js";
import { cidrInterval, type Traffic } from "./policy-index.js";

export interface AclDecision {
  readonly aclId: string;
  readonly subnetId: string;
  readonly action: NetworkAclAction;
  /** The deciding entry; undefined when the catch-all (`*`) entry denied. */
  readonly ruleNumber?: number;
}

interface PreparedEntry {
  readonly entry: NetworkAclEntry;
  readonly family: Family;
  readonly base: bigint;
  readonly prefix: number;
  readonly interval: IntervalSet;
}

const prepared = new WeakMap<NetworkAcl, { out: PreparedEntry[]; in: PreparedEntry[] }>();

function entriesOf(acl: NetworkAcl, egress: boolean): readonly PreparedEntry[] {
  let p = prepared.get(acl);
  if (!p) {
    const all: PreparedEntry[] = [];
    for (const entry of acl.entries) {
      // 32767/32768 are the catch-all entries dumps show; the catch-all is implicit here.
      if (entry.ruleNumber >= 32767) continue;
      const c = parseCidr(entry.cidr);
      if (!c) continue;
      all.push({
        entry,
        family: c.cidr.family,
        base: c.cidr.base,
        prefix: c.cidr.prefix,
        interval: cidrInterval(c.cidr),
      });
    }
    all.sort((a, b) => a.entry.ruleNumber - b.entry.ruleNumber);
    p = { out: all.filter((e) => e.entry.egress), in: all.filter((e) => !e.entry.egress) };
    prepared.set(acl, p);
  }
  return egress ? p.out : p.in;
}

/**
 * Whether an entry's protocol part matches. For "all traffic" queries an entry that covers only
 * some protocols decides only when it denies: part of the traffic is then blocked.
 */
function protocolMatches(entry: NetworkAclEntry, traffic: Traffic): boolean {
  const proto = Number(entry.protocol);
  if (proto === ALL_PROTOCOLS) return true;
  if (traffic.protocol === ALL_PROTOCOLS) return entry.action === "deny";
  if (proto !== traffic.protocol) return false;
  if (proto === PROTOCOL_NUMBERS.tcp || proto === PROTOCOL_NUMBERS.udp) {
    const r = entry.portRange;
    return !r || (traffic.port !== undefined && r.from <= traffic.port && traffic.port <= r.to);
  }
  if (proto === PROTOCOL_NUMBERS.icmp || proto === PROTOCOL_NUMBERS.icmpv6) {
    const icmp = entry.icmp;
    if (!icmp || icmp.type === -1) return true;
    if (icmp.type !== traffic.icmpType) return false;
    return icmp.code === -1 || traffic.icmpCode === undefined || icmp.code === traffic.icmpCode;
  }
  return true;
}

/** Decide one packet: `remote` is the destination of outbound traffic, the source of inbound. */
export function decideAcl(
  acl: NetworkAcl,
  subnetId: string,
  egress: boolean,
  remote: IpAddress,
  traffic: Traffic,
): AclDecision {
  for (const p of entriesOf(acl, egress)) {
    if (p.family !== remote.family) continue;
    if (!cidrContains({ family: p.family, base: p.base, prefix: p.prefix }, remote)) continue;
    if (!protocolMatches(p.entry, traffic)) continue;
    return { aclId: acl.id, subnetId, action: p.entry.action, ruleNumber: p.entry.ruleNumber };
  }
  return { aclId: acl.id, subnetId, action: "deny" };
}

/** Every remote address of one family for which the ACL allows the traffic in that direction. */
export function aclAllowedRemotes(
  acl: NetworkAcl,
  egress: boolean,
  family: Family,
  traffic: Traffic,
): IntervalSet {
  let decided = IntervalSet.EMPTY;
  let allowed = IntervalSet.EMPTY;
  for (const p of entriesOf(acl, egress)) {
    if (p.family !== family || !protocolMatches(p.entry, traffic)) continue;
    if (p.entry.action === "allow") allowed = allowed.union(p.interval.subtract(decided));
    decided = decided.union(p.interval);
  }
  return allowed;
}
