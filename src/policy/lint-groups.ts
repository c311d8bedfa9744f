// Lint checks over security groups: internet exposure, dead and overlapping rules, the default
// group, unused groups, stale references, quotas and descriptions.

import type {
  Direction,
  Estate,
  PrefixList,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
} from "../model/estate.js";
import { acrossDeletedPeering } from "../model/estate.js";
import { cidrsOverlap, parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { protocolNumber } from "../net/protocol.js";
import type { LintFinding, LintOptions } from "./lint.js";
import { formatApps } from "./lint-apps.js";
import {
  ADDRESS_SPACE,
  ALL_APPS,
  appSegments,
  cidrTextPeers,
  coveringSpaces,
  internetCoverage,
  isInternet,
  portApps,
  protocolApps,
  ruleApps,
  SymbolicPeers,
  type TrafficSpace,
  touchesPublic,
} from "./lint-space.js";

const DIRECTIONS: readonly Direction[] = ["ingress", "egress"];
const ICMP_APPS = protocolApps(1).union(protocolApps(58));
const MAX_LISTED = 8;

export function lintSecurityGroups(estate: Estate, options: LintOptions): LintFinding[] {
  const groupIds = new Set(estate.securityGroups.map((g) => g.id));
  const prefixLists = new Map(estate.prefixLists.map((p) => [p.id, p]));
  const users = new Map<string, string[]>();
  for (const eni of estate.networkInterfaces) {
    for (const id of eni.groupIds) users.set(id, [...(users.get(id) ?? []), eni.id]);
  }
  const symbols = new SymbolicPeers();
  const findings: LintFinding[] = [];
  for (const group of estate.securityGroups) {
    const at = { vpcId: group.vpcId, groupId: group.id };
    for (const direction of DIRECTIONS) {
      const rules = group.rules.filter((r) => r.direction === direction);
      const reachable = rules.map((r) => ({
        apps: ruleApps(r.protocol, r.fromPort, r.toPort),
        peers: addressPeers(r.peer, prefixLists),
      }));
      if (direction === "ingress") findings.push(...internetIngress(group, rules, reachable, options));
      else findings.push(...unrestrictedEgress(group, rules, reachable));
      const identity = rules.map((r) => ({
        apps: ruleApps(r.protocol, r.fromPort, r.toPort),
        peers: identityPeers(r.peer, symbols),
      }));
      findings.push(...redundantRules(group, direction, rules, identity));
      findings.push(...overlappingCidrs(group, direction, rules));
      findings.push(...ruleQuota(group, direction, rules, prefixLists, options));
    }
    findings.push(...wideCidrs(group, options));
    findings.push(...staleReferences(group, groupIds, users));
    findings.push(...descriptions(group));
    const usedBy = users.get(group.id) ?? [];
    if (group.name === "default") {
      const extra = group.rules.filter((r) => !isDefaultGroupRule(group, r));
      if (extra.length > 0) {
        findings.push({
          check: "default-group-rules",
          severity: "medium",
          resource: ruleResource(group.id, extra),
          reason: `default group has ${extra.length} rule(s) beyond the defaults: ${list(extra.map((r) => describeRule(r)))}`,
          ...at,
          ruleIds: extra.map((r) => r.id),
        });
      }
      if (usedBy.length > 0) {
        findings.push({
          check: "default-group-in-use",
          severity: "medium",
          resource: group.id,
          reason: `default group is attached to ${usedBy.length} interface(s): ${list(usedBy)}`,
          ...at,
        });
      }
    } else if (usedBy.length === 0) {
      // without any interface the dump most likely lacks describe-network-interfaces
      const blind = estate.networkInterfaces.length === 0;
      findings.push({
        check: "unused-group",
        severity: blind ? "info" : "low",
        resource: group.id,
        reason: blind
          ? `group '${group.name}' is attached to no network interface (the estate has no interfaces at all)`
          : `group '${group.name}' is attached to no network interface`,
        ...at,
      });
    }
  }
  for (const [groupId, carriers] of users) {
    if (groupIds.has(groupId)) continue;
    findings.push({
      check: "unknown-group",
      severity: "medium",
      resource: groupId,
      reason: `${groupId} is attached to ${carriers.length} interface(s) (${list(carriers)}) but is not in the snapshot: its rules are unknown, and the analysis takes it to have none`,
      groupId,
    });
  }
  return findings;
}

/** The addresses a peer stands for, as far as the internet is concerned (group members never are). */
function addressPeers(peer: RulePeer, prefixLists: ReadonlyMap<string, PrefixList>): IntervalSet {
  if (peer.kind === "ipv4" || peer.kind === "ipv6") return cidrTextPeers(peer.cidr);
  if (peer.kind === "prefix-list") {
    const entries = prefixLists.get(peer.prefixListId)?.entries ?? [];
    return entries.reduce((set, e) => set.union(cidrTextPeers(e.cidr)), IntervalSet.EMPTY);
  }
  return IntervalSet.EMPTY;
}

/**
 * Peers for redundancy: CIDRs by address, group references and prefix lists as symbols, since their
 * members change without the rule changing (a rule is dead only if it is dead whatever they hold).
 */
function identityPeers(peer: RulePeer, symbols: SymbolicPeers): IntervalSet {
  if (peer.kind === "ipv4" || peer.kind === "ipv6") return cidrTextPeers(peer.cidr);
  if (peer.kind === "prefix-list") return symbols.of(`pl:${peer.prefixListId}`);
  return symbols.of(`sg:${peer.groupId}`);
}

interface InternetApps {
  readonly ipv4: IntervalSet;
  readonly ipv6: IntervalSet;
  readonly any: IntervalSet;
}

/** The applications that the union of the rules opens to the internet, per IP family. */
function internetApps(spaces: readonly TrafficSpace[]): InternetApps {
  let ipv4 = IntervalSet.EMPTY;
  let ipv6 = IntervalSet.EMPTY;
  for (const segment of appSegments(spaces)) {
    let peers = IntervalSet.EMPTY;
    for (const m of segment.members) peers = peers.union((spaces[m] as TrafficSpace).peers);
    const coverage = internetCoverage(peers);
    if (coverage.ipv4) ipv4 = ipv4.union(segment.apps);
    if (coverage.ipv6) ipv6 = ipv6.union(segment.apps);
  }
  return { ipv4, ipv6, any: ipv4.union(ipv6) };
}

/**
 * The rules that let the internet in on any of `apps`: those open to the internet on their own,
 * or, when only a union of narrower rules is, every rule with public peers.
 */
function contributors(
  rules: readonly SecurityGroupRule[],
  spaces: readonly TrafficSpace[],
  apps: IntervalSet,
) {
  const candidates = rules.flatMap((rule, k) => {
    const s = spaces[k] as TrafficSpace;
    return !s.apps.intersect(apps).isEmpty && touchesPublic(s.peers)
      ? [{ rule, alone: isInternet(s.peers) }]
      : [];
  });
  const alone = candidates.filter((c) => c.alone);
  return (alone.length > 0 ? alone : candidates).map((c) => c.rule);
}

function families(exposed: InternetApps, apps: IntervalSet): string {
  const v4 = !exposed.ipv4.intersect(apps).isEmpty;
  const v6 = !exposed.ipv6.intersect(apps).isEmpty;
  return v4 && v6 ? "IPv4 and IPv6" : v4 ? "IPv4" : "IPv6";
}

/** `sg-1/sgr-a,sgr-b`; long lists are cut (the finding's ruleIds has them all). */
function ruleResource(groupId: string, rules: readonly SecurityGroupRule[]): string {
  if (rules.length === 0) return groupId;
  const ids = rules.slice(0, 3).map((r) => r.id);
  return `${groupId}/${ids.join(",")}${rules.length > 3 ? `,+${rules.length - 3}` : ""}`;
}

function internetIngress(
  group: SecurityGroup,
  rules: readonly SecurityGroupRule[],
  spaces: readonly TrafficSpace[],
  options: LintOptions,
): LintFinding[] {
  const exposed = internetApps(spaces);
  if (exposed.any.isEmpty) return [];
  const at = { vpcId: group.vpcId, groupId: group.id };
  const findings: LintFinding[] = [];
  // Whole protocols are reported once, as critical; the allow-list check then skips them.
  let whole = IntervalSet.EMPTY;
  const wholeNames: string[] = [];
  if (exposed.any.covers(ALL_APPS)) whole = ALL_APPS;
  else {
    for (const [p, name] of [
      [6, "tcp"],
      [17, "udp"],
    ] as const) {
      if (!exposed.any.covers(protocolApps(p))) continue;
      whole = whole.union(protocolApps(p));
      wholeNames.push(name);
    }
  }
  if (!whole.isEmpty) {
    const by = contributors(rules, spaces, whole);
    const what = whole === ALL_APPS ? "all traffic" : `all ports of ${wholeNames.join(" and ")}`;
    findings.push({
      check: "internet-all-traffic",
      severity: "critical",
      resource: ruleResource(group.id, by),
      reason: `${what} open to the internet over ${families(exposed, whole)}`,
      ...at,
      ruleIds: by.map((r) => r.id),
    });
  }
  for (const [port, service] of options.sensitivePorts) {
    const protocols = [6, 17].filter((p) => exposed.any.covers(portApps(p, port, port)));
    if (protocols.length === 0) continue;
    const apps = protocols.reduce((set, p) => set.union(portApps(p, port, port)), IntervalSet.EMPTY);
    const by = contributors(rules, spaces, apps);
    findings.push({
      check: "internet-sensitive-port",
      severity: "high",
      resource: ruleResource(group.id, by),
      reason: `${formatApps(apps).join(", ")} (${service}) open to the internet over ${families(exposed, apps)}`,
      ...at,
      ruleIds: by.map((r) => r.id),
    });
  }
  const beyond = exposed.any.subtract(options.allowedApps).subtract(ICMP_APPS).subtract(whole);
  if (!beyond.isEmpty) {
    const by = contributors(rules, spaces, beyond);
    findings.push({
      check: "internet-port-not-allowed",
      severity: "medium",
      resource: ruleResource(group.id, by),
      reason: `open to the internet beyond the allowed ports: ${list(formatApps(beyond))}`,
      ...at,
      ruleIds: by.map((r) => r.id),
    });
  }
  return findings;
}

function unrestrictedEgress(
  group: SecurityGroup,
  rules: readonly SecurityGroupRule[],
  spaces: readonly TrafficSpace[],
): LintFinding[] {
  const exposed = internetApps(spaces);
  if (!exposed.any.covers(ALL_APPS)) return [];
  const by = contributors(rules, spaces, ALL_APPS);
  return [
    {
      check: "unrestricted-egress",
      severity: "low",
      resource: ruleResource(group.id, by),
      reason: `all traffic to the internet allowed over ${families(exposed, ALL_APPS)}`,
      vpcId: group.vpcId,
      groupId: group.id,
      ruleIds: by.map((r) => r.id),
    },
  ];
}

function sameSpace(a: TrafficSpace, b: TrafficSpace): boolean {
  return a.apps.equals(b.apps) && a.peers.equals(b.peers);
}

function redundantRules(
  group: SecurityGroup,
  direction: Direction,
  rules: readonly SecurityGroupRule[],
  spaces: readonly TrafficSpace[],
): LintFinding[] {
  const findings: LintFinding[] = [];
  spaces.forEach((space, i) => {
    // Of two identical rules only the later one is reported, so that one of them survives.
    const others = spaces
      .map((s, j) => ({ s, j }))
      .filter(({ s, j }) => j !== i && !(j > i && sameSpace(s, space)));
    const otherSpaces = others.map((o) => o.s);
    // whatever a group or prefix list holds lies inside "every address of both families"
    const cover =
      coveringSpaces(space, otherSpaces) ??
      (space.peers.intersect(ADDRESS_SPACE).isEmpty
        ? coveringSpaces({ apps: space.apps, peers: ADDRESS_SPACE }, otherSpaces)
        : undefined);
    if (!cover) return;
    const rule = rules[i] as SecurityGroupRule;
    const by = cover.map((k) => rules[(others[k] as { j: number }).j] as SecurityGroupRule);
    findings.push({
      check: "redundant-rule",
      severity: "low",
      resource: `${group.id}/${rule.id}`,
      reason: `${direction} ${describeRule(rule)} is already allowed by ${list(by.map((r) => r.id))}`,
      vpcId: group.vpcId,
      groupId: group.id,
      ruleIds: [rule.id, ...by.map((r) => r.id)],
    });
  });
  return findings;
}

function overlappingCidrs(
  group: SecurityGroup,
  direction: Direction,
  rules: readonly SecurityGroupRule[],
): LintFinding[] {
  const findings: LintFinding[] = [];
  const withCidr = rules.flatMap((r) => {
    const parsed = r.peer.kind === "ipv4" || r.peer.kind === "ipv6" ? parseCidr(r.peer.cidr) : undefined;
    return parsed ? [{ rule: r, cidr: parsed.cidr }] : [];
  });
  for (let i = 0; i < withCidr.length; i++) {
    for (let j = i + 1; j < withCidr.length; j++) {
      const a = withCidr[i] as (typeof withCidr)[number];
      const b = withCidr[j] as (typeof withCidr)[number];
      const sameApps =
        protocolNumber(a.rule.protocol) === protocolNumber(b.rule.protocol) &&
        a.rule.fromPort === b.rule.fromPort &&
        a.rule.toPort === b.rule.toPort;
      const identical = a.cidr.prefix === b.cidr.prefix && a.cidr.base === b.cidr.base;
      if (!sameApps || identical || !cidrsOverlap(a.cidr, b.cidr)) continue;
      findings.push({
        check: "overlapping-cidrs",
        severity: "info",
        resource: `${group.id}/${a.rule.id},${b.rule.id}`,
        reason: `${direction} ${formatApps(ruleApps(a.rule.protocol, a.rule.fromPort, a.rule.toPort)).join(" ")}: ${peerText(a.rule.peer)} and ${peerText(b.rule.peer)} overlap`,
        vpcId: group.vpcId,
        groupId: group.id,
        ruleIds: [a.rule.id, b.rule.id],
      });
    }
  }
  return findings;
}

/** Rule slots used per spec 3.9: prefix-list weight + group references + max(IPv4, IPv6 CIDRs). */
export function ruleSlots(
  rules: readonly SecurityGroupRule[],
  prefixLists: ReadonlyMap<string, PrefixList>,
): { total: number; ipv4: number; ipv6: number; groupRefs: number; prefixListWeight: number } {
  let ipv4 = 0;
  let ipv6 = 0;
  let groupRefs = 0;
  let prefixListWeight = 0;
  for (const r of rules) {
    if (r.peer.kind === "ipv4") ipv4++;
    else if (r.peer.kind === "ipv6") ipv6++;
    else if (r.peer.kind === "group") groupRefs++;
    // an AWS-managed list is not in the estate; its weight is unknown, so count it as one entry
    else prefixListWeight += prefixLists.get(r.peer.prefixListId)?.maxEntries ?? 1;
  }
  return {
    total: prefixListWeight + groupRefs + Math.max(ipv4, ipv6),
    ipv4,
    ipv6,
    groupRefs,
    prefixListWeight,
  };
}

function ruleQuota(
  group: SecurityGroup,
  direction: Direction,
  rules: readonly SecurityGroupRule[],
  prefixLists: ReadonlyMap<string, PrefixList>,
  options: LintOptions,
): LintFinding[] {
  const slots = ruleSlots(rules, prefixLists);
  if (slots.total < options.ruleQuota * options.quotaWarnShare) return [];
  const over = slots.total > options.ruleQuota;
  return [
    {
      check: "rule-quota",
      severity: over ? "high" : "medium",
      resource: group.id,
      reason:
        `${direction} uses ${slots.total} of ${options.ruleQuota} rule slots${over ? " (over the quota)" : ""}: ` +
        `${slots.ipv4} IPv4, ${slots.ipv6} IPv6, ${slots.groupRefs} group reference(s), ` +
        `${slots.prefixListWeight} prefix-list entries`,
      vpcId: group.vpcId,
      groupId: group.id,
    },
  ];
}

function wideCidrs(group: SecurityGroup, options: LintOptions): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const rule of group.rules) {
    if (rule.peer.kind !== "ipv4" && rule.peer.kind !== "ipv6") continue;
    const parsed = parseCidr(rule.peer.cidr);
    if (!parsed) continue;
    const limit = parsed.cidr.family === 4 ? options.widePrefixIpv4 : options.widePrefixIpv6;
    const peers = cidrTextPeers(rule.peer.cidr);
    // as wide as the internet itself is the internet checks' business
    if (parsed.cidr.prefix > limit || !touchesPublic(peers) || isInternet(peers)) continue;
    findings.push({
      check: "wide-public-cidr",
      severity: "medium",
      resource: `${group.id}/${rule.id}`,
      reason: `${rule.direction} ${describeRule(rule)}: /${parsed.cidr.prefix} of public address space`,
      vpcId: group.vpcId,
      groupId: group.id,
      ruleIds: [rule.id],
    });
  }
  return findings;
}

function staleReferences(
  group: SecurityGroup,
  groupIds: ReadonlySet<string>,
  users: ReadonlyMap<string, readonly string[]>,
): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const rule of group.rules) {
    if (rule.peer.kind !== "group") continue;
    if (acrossDeletedPeering(rule.peer)) {
      findings.push({
        check: "stale-reference",
        severity: "medium",
        resource: `${group.id}/${rule.id}`,
        reason: `${rule.direction} rule references ${rule.peer.groupId} across ${rule.peer.vpcPeeringConnectionId ?? "a peering connection"}, which is deleted (stale: it matches nothing)`,
        vpcId: group.vpcId,
        groupId: group.id,
        ruleIds: [rule.id],
      });
      continue;
    }
    // a group interfaces carry exists; the dump just leaves it out (unknown-group says so)
    if (groupIds.has(rule.peer.groupId) || users.has(rule.peer.groupId)) continue;
    const foreign = rule.peer.userId !== "" && rule.peer.userId !== group.ownerId;
    findings.push({
      check: "stale-reference",
      severity: foreign ? "low" : "medium",
      resource: `${group.id}/${rule.id}`,
      reason: foreign
        ? `${rule.direction} rule references ${rule.peer.groupId} of account ${rule.peer.userId}, which is not in this estate (stale unless it exists there)`
        : `${rule.direction} rule references ${rule.peer.groupId}, which does not exist (stale: it matches nothing)`,
      vpcId: group.vpcId,
      groupId: group.id,
      ruleIds: [rule.id],
    });
  }
  return findings;
}

function isAnyCidr(peer: RulePeer): boolean {
  return (
    (peer.kind === "ipv4" && peer.cidr === "0.0.0.0/0") || (peer.kind === "ipv6" && peer.cidr === "::/0")
  );
}

/** Rules EC2 itself creates: the default egress of every group, the self-reference of a default group. */
function isAwsCreatedRule(group: SecurityGroup, rule: SecurityGroupRule): boolean {
  if (rule.protocol !== "-1") return false;
  if (rule.direction === "egress") return isAnyCidr(rule.peer);
  return group.name === "default" && rule.peer.kind === "group" && rule.peer.groupId === group.id;
}

function isDefaultGroupRule(group: SecurityGroup, rule: SecurityGroupRule): boolean {
  return isAwsCreatedRule(group, rule);
}

function descriptions(group: SecurityGroup): LintFinding[] {
  const findings: LintFinding[] = [];
  const at = { vpcId: group.vpcId, groupId: group.id };
  const text = group.description.trim();
  if (text === "" || text === group.name.trim()) {
    findings.push({
      check: "group-description",
      severity: "low",
      resource: group.id,
      reason:
        text === ""
          ? `group '${group.name}' has no description`
          : `group description only repeats its name '${group.name}'`,
      ...at,
    });
  }
  for (const rule of group.rules) {
    if ((rule.description ?? "").trim() !== "" || isAwsCreatedRule(group, rule)) continue;
    findings.push({
      check: "rule-description",
      severity: "low",
      resource: `${group.id}/${rule.id}`,
      reason: `${rule.direction} ${describeRule(rule)} has no description`,
      ...at,
      ruleIds: [rule.id],
    });
  }
  return findings;
}

function peerText(peer: RulePeer): string {
  if (peer.kind === "ipv4" || peer.kind === "ipv6") return peer.cidr;
  if (peer.kind === "prefix-list") return peer.prefixListId;
  return peer.groupId;
}

export function describeRule(rule: SecurityGroupRule): string {
  const apps = formatApps(ruleApps(rule.protocol, rule.fromPort, rule.toPort)).join(" ");
  return `${apps} ${rule.direction === "ingress" ? "from" : "to"} ${peerText(rule.peer)}`;
}

function list(items: readonly string[]): string {
  return items.length <= MAX_LISTED
    ? items.join(", ")
    : `${items.slice(0, MAX_LISTED).join(", ")} and ${items.length - MAX_LISTED} more`;
}
