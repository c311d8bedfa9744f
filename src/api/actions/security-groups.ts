// Security groups and their rules (spec 2.1-2.11, 3.3-3.7): one `sgr-` rule per peer element,
// canonical CIDRs, EC2's duplicate / not-found / quota behaviour, and the grouped presentation.

import { Ec2Error, invalidCombination, invalidValue, missingParameter } from "../../model/errors.js";
import type { RulePeer } from "../../model/estate.js";
import { checkId, newId, notFound } from "../../model/ids.js";
import type { GroupRecord, RuleRecord, Tags } from "../../model/resources.js";
import {
  checkGroupDescription,
  checkGroupName,
  checkRuleDescription,
  duplicateRule,
  normaliseProtocolPorts,
  type ProtocolPorts,
  quotaUsage,
  ruleKey,
} from "../../model/security-group-rules.js";
import { formatCidr, parseCidr4, parseCidr6 } from "../../net/cidr.js";
import { protocolHasPorts } from "../../net/protocol.js";
import { type Action, type ActionContext, arn, presentTags } from "../context.js";
import { applyFilters, byId, type FilterFields, paginate } from "../filters.js";
import { Params } from "../params.js";
import { type EncodedXml, encodeFragment } from "../wire/encode.js";
import { ec2Model, resolve, type Shape } from "../wire/shapes.js";
import {
  defaultVpc,
  groupByIdOrName,
  groupByNameInDefaultVpc,
  groupsOfVpc,
  requestedIds,
  requireDefaultVpc,
  requireGroup,
  requireVpc,
} from "./lookup.js";
import { visiblePrefixList } from "./prefix-lists.js";
import { tagsFromSpecifications } from "./tags.js";
import { initialRules } from "./vpcs.js";

/** A rule as requested, before it has an id. */
interface RuleSpec extends ProtocolPorts {
  egress: boolean;
  peer: RulePeer;
  description?: string;
}

const ACCOUNT_ID = /^\d{12}$/;

function findGroupAnywhere(ctx: ActionContext, id: string): GroupRecord | undefined {
  const group = ctx.tx.get("group", id);
  return group && group.region === ctx.region ? group : undefined;
}

/** The group a rule names (`UserIdGroupPair`), with EC2's checks on account and network. */
function referencedGroup(
  ctx: ActionContext,
  owner: GroupRecord,
  pair: Params,
  forMatching: boolean,
): RulePeer {
  const userId = pair.string("UserId");
  if (userId !== undefined && !ACCOUNT_ID.test(userId)) {
    throw new Ec2Error("InvalidUserID.Malformed", `Invalid user id: '${userId}'`);
  }
  const groupId = pair.string("GroupId");
  const groupName = pair.string("GroupName");
  if (groupId) {
    checkId("group", groupId);
    const target = findGroupAnywhere(ctx, groupId);
    // UserId defaults to the caller's account (spec 3.4): another account's group is found only by
    // whoever names that account, so an id alone tells nobody whether it exists elsewhere
    if (!target || target.account !== (userId ?? ctx.account)) {
      // A revoke may name a group that is gone: the stale rule still matches by id.
      if (forMatching) return { kind: "group", groupId, userId: userId ?? ctx.account };
      throw notFound("group", groupId);
    }
    if (target.account === ctx.account && target.vpcId !== owner.vpcId) {
      throw new Ec2Error(
        "InvalidGroup.NotFound",
        "You have specified two resources that belong to different networks.",
      );
    }
    if (target.account !== ctx.account) {
      return { kind: "group", groupId, userId: target.account, vpcId: target.vpcId };
    }
    return { kind: "group", groupId, userId: target.account };
  }
  if (groupName) {
    if (userId !== undefined && userId !== ctx.account) {
      throw invalidValue("A group of another account must be named by its group id.");
    }
    const target = groupByNameInDefaultVpc(ctx, groupName);
    if (target.vpcId !== owner.vpcId) {
      throw new Ec2Error(
        "InvalidGroup.NotFound",
        "You have specified two resources that belong to different networks.",
      );
    }
    return { kind: "group", groupId: target.id, userId: ctx.account };
  }
  throw invalidValue(
    "missing mandatory parameter: exactly one of remote-security-group, remote-ip-range, remote-ipv6-range, or prefix-list-id must be present",
  );
}

function prefixListPeer(ctx: ActionContext, id: string | undefined, forMatching: boolean): RulePeer {
  if (!id) throw missingParameter("PrefixListId");
  checkId("prefixList", id);
  if (!forMatching && !visiblePrefixList(ctx, id)) {
    throw new Ec2Error("InvalidPrefixListID.NotFound", `The prefix list ID '${id}' does not exist`);
  }
  return { kind: "prefix-list", prefixListId: id };
}

function cidrPeer(text: string | undefined, family: 4 | 6): RulePeer {
  const parsed = text === undefined ? undefined : family === 4 ? parseCidr4(text) : parseCidr6(text);
  if (!parsed) throw invalidValue(`CIDR block ${text ?? ""} is malformed`);
  return family === 4
    ? { kind: "ipv4", cidr: formatCidr(parsed.cidr) }
    : { kind: "ipv6", cidr: formatCidr(parsed.cidr) };
}

/** One rule per peer element of each IpPermission. */
function expandPermissions(
  ctx: ActionContext,
  group: GroupRecord,
  permissions: Params[],
  egress: boolean,
  forMatching: boolean,
): RuleSpec[] {
  const specs: RuleSpec[] = [];
  for (const permission of permissions) {
    const ports = normaliseProtocolPorts(
      permission.string("IpProtocol"),
      permission.int("FromPort"),
      permission.int("ToPort"),
    );
    const before = specs.length;
    const add = (peer: RulePeer, element: Params) =>
      specs.push({
        ...ports,
        egress,
        peer,
        description: checkRuleDescription(element.string("Description")),
      });
    for (const range of permission.list("IpRanges")) add(cidrPeer(range.string("CidrIp"), 4), range);
    for (const range of permission.list("Ipv6Ranges")) add(cidrPeer(range.string("CidrIpv6"), 6), range);
    for (const entry of permission.list("PrefixListIds")) {
      add(prefixListPeer(ctx, entry.string("PrefixListId"), forMatching), entry);
    }
    for (const pair of permission.list("UserIdGroupPairs", "Groups"))
      add(referencedGroup(ctx, group, pair, forMatching), pair);
    if (specs.length === before) {
      throw invalidValue(
        "missing mandatory parameter: exactly one of remote-security-group, remote-ip-range, remote-ipv6-range, or prefix-list-id must be present",
      );
    }
  }
  return specs;
}

/** The pre-IpPermissions single-rule parameters of the ingress actions. */
function legacyRules(ctx: ActionContext, group: GroupRecord, forMatching: boolean): RuleSpec[] | undefined {
  const p = ctx.params;
  const legacy = [
    "IpProtocol",
    "FromPort",
    "ToPort",
    "CidrIp",
    "SourceSecurityGroupName",
    "SourceSecurityGroupOwnerId",
  ];
  if (!legacy.some((name) => p.has(name))) return undefined;
  if (p.list("IpPermissions").length > 0) {
    throw invalidCombination("The legacy rule parameters cannot be combined with IpPermissions.");
  }
  const sourceName = p.string("SourceSecurityGroupName");
  const cidr = p.string("CidrIp");
  if (!sourceName && !cidr) {
    throw new Ec2Error(
      "MissingParameter",
      "Missing source specification: include source security group or CIDR information",
    );
  }
  if (cidr && sourceName) {
    throw invalidCombination("CidrIp cannot be combined with SourceSecurityGroupName: give one source.");
  }
  if (cidr) {
    const ports = normaliseProtocolPorts(p.string("IpProtocol"), p.int("FromPort"), p.int("ToPort"));
    return [{ ...ports, egress: false, peer: cidrPeer(cidr, 4) }];
  }
  // the same checks as a UserIdGroupPair naming the group: its account, and its network
  const owner = p.string("SourceSecurityGroupOwnerId");
  const peer = referencedGroup(
    ctx,
    group,
    new Params({ GroupName: sourceName as string, ...(owner ? { UserId: owner } : {}) }),
    forMatching,
  );
  // A source group without protocol grants all of ICMP, UDP and TCP, as EC2 documents.
  if (!p.has("IpProtocol")) {
    return [
      { protocol: "tcp", fromPort: 0, toPort: 65535, egress: false, peer },
      { protocol: "udp", fromPort: 0, toPort: 65535, egress: false, peer },
      { protocol: "icmp", fromPort: -1, toPort: -1, egress: false, peer },
    ];
  }
  return [
    {
      ...normaliseProtocolPorts(p.string("IpProtocol"), p.int("FromPort"), p.int("ToPort")),
      egress: false,
      peer,
    },
  ];
}

function requestedRules(
  ctx: ActionContext,
  group: GroupRecord,
  egress: boolean,
  forMatching: boolean,
): RuleSpec[] {
  const legacy = egress ? undefined : legacyRules(ctx, group, forMatching);
  if (legacy) return legacy;
  const permissions = ctx.params.list("IpPermissions");
  if (permissions.length === 0) {
    throw new Ec2Error(
      "MissingParameter",
      "Missing source specification: include source security group or CIDR information",
    );
  }
  return expandPermissions(ctx, group, permissions, egress, forMatching);
}

function prefixListWeight(ctx: ActionContext): (id: string) => number {
  return (id) => visiblePrefixList(ctx, id)?.maxEntries ?? 1;
}

/** Rules of one direction against the quota, prefix lists weighed as the transaction sees them. */
export function checkQuota(
  ctx: ActionContext,
  rules: readonly RuleSpec[],
  egress: boolean,
  detail = "",
): void {
  if (quotaUsage(rules, egress, prefixListWeight(ctx)) > ctx.quotas.rulesPerGroupPerDirection) {
    throw new Ec2Error(
      "RulesPerSecurityGroupLimitExceeded",
      `The maximum number of rules per security group has been reached.${detail}`,
    );
  }
}

export function presentRule(ctx: ActionContext, group: GroupRecord, rule: RuleRecord) {
  const peer = rule.peer;
  return {
    SecurityGroupRuleId: rule.id,
    GroupId: group.id,
    GroupOwnerId: group.account,
    IsEgress: rule.egress,
    IpProtocol: rule.protocol,
    FromPort: rule.fromPort,
    ToPort: rule.toPort,
    CidrIpv4: peer.kind === "ipv4" ? peer.cidr : undefined,
    CidrIpv6: peer.kind === "ipv6" ? peer.cidr : undefined,
    PrefixListId: peer.kind === "prefix-list" ? peer.prefixListId : undefined,
    ReferencedGroupInfo:
      peer.kind !== "group"
        ? undefined
        : findGroupAnywhere(ctx, peer.groupId)
          ? { GroupId: peer.groupId, UserId: peer.userId, VpcId: peer.vpcId }
          : STALE_REFERENCE(peer.groupId),
    Description: rule.description,
    Tags: Object.entries(rule.tags).map(([Key, Value]) => ({ Key, Value })),
    SecurityGroupRuleArn: arn(ctx, "security-group-rule", rule.id),
  };
}

type PermissionItem = {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  UserIdGroupPairs: Record<string, string | undefined>[];
  IpRanges: Record<string, string | undefined>[];
  Ipv6Ranges: Record<string, string | undefined>[];
  PrefixListIds: Record<string, string | undefined>[];
};

/**
 * A reference to a group that is gone (stale, spec 3.12), as EC2 shows it: without the owner, which
 * the model says is not returned then, and with the status that says why it matches nothing.
 */
const STALE_REFERENCE = (groupId: string) => ({ GroupId: groupId, PeeringStatus: "deleted" });

/**
 * Rules grouped as EC2 presents them: one IpPermission per (protocol, from, to). `gone`: group ids
 * that no longer exist, whose references are shown stale.
 */
export function groupPermissions(
  rules: readonly (Omit<RuleSpec, "egress"> & { egress?: boolean })[],
  gone: ReadonlySet<string> = NOTHING_GONE,
): PermissionItem[] {
  const items = new Map<string, PermissionItem>();
  for (const rule of rules) {
    const key = `${rule.protocol}|${rule.fromPort}|${rule.toPort}`;
    let item = items.get(key);
    if (!item) {
      const ports = protocolHasPorts(rule.protocol);
      item = {
        IpProtocol: rule.protocol,
        FromPort: ports ? rule.fromPort : undefined,
        ToPort: ports ? rule.toPort : undefined,
        UserIdGroupPairs: [],
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
      };
      items.set(key, item);
    }
    const description = rule.description;
    const peer = rule.peer;
    if (peer.kind === "ipv4") item.IpRanges.push({ CidrIp: peer.cidr, Description: description });
    else if (peer.kind === "ipv6") item.Ipv6Ranges.push({ CidrIpv6: peer.cidr, Description: description });
    else if (peer.kind === "prefix-list")
      item.PrefixListIds.push({ PrefixListId: peer.prefixListId, Description: description });
    else if (gone.has(peer.groupId)) {
      item.UserIdGroupPairs.push({ ...STALE_REFERENCE(peer.groupId), Description: description });
    } else {
      item.UserIdGroupPairs.push({
        UserId: peer.userId,
        GroupId: peer.groupId,
        VpcId: peer.vpcId,
        VpcPeeringConnectionId: peer.vpcPeeringConnectionId,
        Description: description,
      });
    }
  }
  return [...items.values()];
}

const NOTHING_GONE: ReadonlySet<string> = new Set();

/** The groups a version of a group names, worked out once: most name none. */
const namedGroups = new WeakMap<GroupRecord, readonly string[]>();

/** The groups a group's rules name that no longer exist. */
function goneReferences(ctx: ActionContext, group: GroupRecord): ReadonlySet<string> {
  let named = namedGroups.get(group);
  if (named === undefined) {
    named = [...new Set(group.rules.flatMap((r) => (r.peer.kind === "group" ? [r.peer.groupId] : [])))];
    namedGroups.set(group, named);
  }
  let gone: Set<string> | undefined;
  for (const id of named) {
    if (!findGroupAnywhere(ctx, id)) {
      gone ??= new Set();
      gone.add(id);
    }
  }
  return gone ?? NOTHING_GONE;
}

const GROUP_ITEM = resolve(
  resolve(ec2Model.operations.DescribeSecurityGroups?.output as Shape).members?.SecurityGroups as Shape,
).member as Shape;
/** Records are immutable, so a group's XML is rendered once per version of it. */
const renderedGroups = new WeakMap<GroupRecord, EncodedXml>();

function renderedGroup(ctx: ActionContext, group: GroupRecord): EncodedXml {
  // a group that names a deleted one shows it stale: that depends on more than its own record
  const gone = goneReferences(ctx, group);
  if (gone.size > 0) return encodeFragment(GROUP_ITEM, presentGroup(group, gone));
  let xml = renderedGroups.get(group);
  if (!xml) {
    xml = encodeFragment(GROUP_ITEM, presentGroup(group));
    renderedGroups.set(group, xml);
  }
  return xml;
}

export function presentGroup(group: GroupRecord, gone: ReadonlySet<string> = NOTHING_GONE) {
  return {
    OwnerId: group.account,
    GroupId: group.id,
    GroupName: group.name,
    Description: group.description,
    VpcId: group.vpcId,
    SecurityGroupArn: `arn:aws:ec2:${group.region}:${group.account}:security-group/${group.id}`,
    IpPermissions: groupPermissions(
      group.rules.filter((r) => !r.egress),
      gone,
    ),
    IpPermissionsEgress: groupPermissions(
      group.rules.filter((r) => r.egress),
      gone,
    ),
    Tags: presentTags(group.tags),
  };
}

const createSecurityGroup: Action = (ctx) => {
  const name = checkGroupName(ctx.params.requiredString("GroupName"));
  const description = checkGroupDescription(ctx.params.requiredString("Description", "GroupDescription"));
  const vpcId = ctx.params.string("VpcId");
  const vpc = vpcId ? requireVpc(ctx, vpcId) : requireDefaultVpc(ctx);
  const tags = tagsFromSpecifications(ctx, "security-group");
  const lower = name.toLowerCase();
  if (groupsOfVpc(ctx, vpc.id).some((g) => g.name.toLowerCase() === lower)) {
    throw new Ec2Error(
      "InvalidGroup.Duplicate",
      `The security group '${name}' already exists for VPC '${vpc.id}'`,
    );
  }
  if ([...ctx.tx.scoped("group", ctx.account, ctx.region)].length >= ctx.quotas.groupsPerRegion) {
    throw new Ec2Error(
      "SecurityGroupLimitExceeded",
      `The maximum number of security groups for VPC '${vpc.id}' has been reached.`,
    );
  }
  const id = newId("sg");
  ctx.tx.put<GroupRecord>({
    kind: "group",
    id,
    account: ctx.account,
    region: ctx.region,
    tags,
    vpcId: vpc.id,
    name,
    description,
    isDefault: false,
    rules: initialRules(ctx, id, vpc, false),
  });
  return { GroupId: id, Tags: presentTags(tags), SecurityGroupArn: arn(ctx, "security-group", id) };
};

function isReferencedBy(group: GroupRecord, other: GroupRecord): boolean {
  return other.rules.some((r) => r.peer.kind === "group" && r.peer.groupId === group.id);
}

const deleteSecurityGroup: Action = (ctx) => {
  const group = groupByIdOrName(ctx);
  if (group.isDefault) {
    throw new Ec2Error(
      "CannotDelete",
      `the specified group: "${group.id}" name: "${group.name}" cannot be deleted by a user`,
    );
  }
  const dependent = () => new Ec2Error("DependencyViolation", `resource ${group.id} has a dependent object`);
  for (const eni of ctx.tx.all("eni")) if (eni.groupIds.includes(group.id)) throw dependent();
  for (const other of ctx.tx.all("group")) {
    // References from the same network block deletion (its own rules included); rules in other
    // networks (another account's VPC) become stale instead.
    if (other.vpcId === group.vpcId && isReferencedBy(group, other)) throw dependent();
  }
  ctx.tx.delete(group);
  return { Return: true, GroupId: group.id };
};

function ruleFilterFields(egress: boolean, ctx: ActionContext): FilterFields<GroupRecord> {
  const prefix = egress ? "egress.ip-permission." : "ip-permission.";
  const rules = (g: GroupRecord) => g.rules.filter((r) => r.egress === egress);
  // only the caller's own groups: another account's names are not the caller's to learn
  const nameOf = (id: string) => {
    const group = ctx.tx.get("group", id);
    return group?.account === ctx.account && group.region === ctx.region ? group.name : undefined;
  };
  return {
    [`${prefix}cidr`]: (g) => rules(g).map((r) => (r.peer.kind === "ipv4" ? r.peer.cidr : undefined)),
    [`${prefix}ipv6-cidr`]: (g) => rules(g).map((r) => (r.peer.kind === "ipv6" ? r.peer.cidr : undefined)),
    [`${prefix}prefix-list-id`]: (g) =>
      rules(g).map((r) => (r.peer.kind === "prefix-list" ? r.peer.prefixListId : undefined)),
    [`${prefix}group-id`]: (g) => rules(g).map((r) => (r.peer.kind === "group" ? r.peer.groupId : undefined)),
    [`${prefix}group-name`]: (g) =>
      rules(g).map((r) => (r.peer.kind === "group" ? nameOf(r.peer.groupId) : undefined)),
    [`${prefix}user-id`]: (g) => rules(g).map((r) => (r.peer.kind === "group" ? r.peer.userId : undefined)),
    [`${prefix}protocol`]: (g) => rules(g).map((r) => r.protocol),
    [`${prefix}from-port`]: (g) => rules(g).map((r) => r.fromPort),
    [`${prefix}to-port`]: (g) => rules(g).map((r) => r.toPort),
  };
}

const describeSecurityGroups: Action = (ctx) => {
  const ids = requestedIds(ctx, "GroupIds");
  const names = ctx.params.strings("GroupNames");
  let groups: GroupRecord[];
  if (ids.length > 0 || names.length > 0) {
    for (const id of ids) checkId("group", id);
    const missing = ids.filter((id) => {
      const g = ctx.tx.get("group", id);
      return !g || g.account !== ctx.account || g.region !== ctx.region;
    });
    if (missing.length === 1) throw notFound("group", missing[0] as string);
    if (missing.length > 1) {
      throw new Ec2Error(
        "InvalidGroup.NotFound",
        `The security groups '${missing.join("', '")}' do not exist`,
      );
    }
    const byName = names.map((name) => groupByNameInDefaultVpc(ctx, name));
    const wanted = new Set([...ids, ...byName.map((g) => g.id)]);
    groups = [...ctx.tx.scoped("group", ctx.account, ctx.region)].filter((g) => wanted.has(g.id));
  } else {
    groups = [...ctx.tx.scoped("group", ctx.account, ctx.region)];
  }
  const fields: FilterFields<GroupRecord> = {
    description: (g) => [g.description],
    "group-id": (g) => [g.id],
    "group-name": (g) => [g.name],
    "owner-id": (g) => [g.account],
    "vpc-id": (g) => [g.vpcId],
    ...ruleFilterFields(false, ctx),
    ...ruleFilterFields(true, ctx),
  };
  const { page, nextToken } = paginate(ctx, applyFilters(ctx, groups, fields), { min: 5, max: 1000 }, byId);
  return { SecurityGroups: page.map((g) => renderedGroup(ctx, g)), NextToken: nextToken };
};

function authorize(egress: boolean): Action {
  return (ctx) => {
    const group = egress ? requireGroup(ctx, ctx.params.requiredString("GroupId")) : groupByIdOrName(ctx);
    const specs = requestedRules(ctx, group, egress, false);
    const ruleTags = tagsFromSpecifications(ctx, "security-group-rule");
    const seen = new Set<string>();
    for (const spec of specs) {
      const key = ruleKey(spec);
      if (seen.has(key)) throw invalidValue("The same permission must not appear multiple times");
      seen.add(key);
    }
    for (const existing of group.rules) if (seen.has(ruleKey(existing))) throw duplicateRule(existing);
    const created: RuleRecord[] = specs.map((spec) => ({
      id: newId("sgr"),
      egress,
      protocol: spec.protocol,
      fromPort: spec.fromPort,
      toPort: spec.toPort,
      peer: spec.peer,
      description: spec.description,
      tags: ruleTags,
    }));
    const rules = [...group.rules, ...created];
    checkQuota(ctx, rules, egress);
    const updated = ctx.tx.put({ ...group, rules });
    return { Return: true, SecurityGroupRules: created.map((r) => presentRule(ctx, updated, r)) };
  };
}

function presentRevoked(group: GroupRecord, rule: RuleRecord) {
  const peer = rule.peer;
  return {
    SecurityGroupRuleId: rule.id,
    GroupId: group.id,
    IsEgress: rule.egress,
    IpProtocol: rule.protocol,
    FromPort: rule.fromPort,
    ToPort: rule.toPort,
    CidrIpv4: peer.kind === "ipv4" ? peer.cidr : undefined,
    CidrIpv6: peer.kind === "ipv6" ? peer.cidr : undefined,
    PrefixListId: peer.kind === "prefix-list" ? peer.prefixListId : undefined,
    ReferencedGroupId: peer.kind === "group" ? peer.groupId : undefined,
    Description: rule.description,
  };
}

function rulesById(group: GroupRecord, egress: boolean, ids: string[]): RuleRecord[] {
  // a rule named twice is one rule
  return [...new Set(ids)].map((id) => {
    checkId("rule", id);
    const rule = group.rules.find((r) => r.id === id && r.egress === egress);
    if (!rule) throw notFound("rule", id);
    return rule;
  });
}

function revoke(egress: boolean): Action {
  return (ctx) => {
    const group = egress ? requireGroup(ctx, ctx.params.requiredString("GroupId")) : groupByIdOrName(ctx);
    const ruleIds = ctx.params.strings("SecurityGroupRuleIds");
    let revoked: RuleRecord[];
    const unknown: RuleSpec[] = [];
    if (ruleIds.length > 0) {
      if (ctx.params.list("IpPermissions").length > 0) {
        throw invalidCombination(
          "The parameter SecurityGroupRuleId cannot be used with the parameter IpPermissions",
        );
      }
      revoked = rulesById(group, egress, ruleIds);
    } else {
      const specs = requestedRules(ctx, group, egress, true);
      const byKey = new Map(group.rules.map((r) => [ruleKey(r), r]));
      revoked = [];
      for (const spec of specs) {
        const match = byKey.get(ruleKey(spec));
        // a permission named twice revokes its rule once
        if (match) {
          if (!revoked.includes(match)) revoked.push(match);
        } else unknown.push(spec);
      }
      if (unknown.length > 0 && !defaultVpcOwns(ctx, group)) {
        throw new Ec2Error(
          "InvalidPermission.NotFound",
          "The specified rule does not exist in this security group.",
        );
      }
    }
    const gone = new Set(revoked.map((r) => r.id));
    ctx.tx.put({ ...group, rules: group.rules.filter((r) => !gone.has(r.id)) });
    return {
      Return: true,
      UnknownIpPermissions: unknown.length > 0 ? groupPermissions(unknown) : undefined,
      RevokedSecurityGroupRules: revoked.map((r) => presentRevoked(group, r)),
    };
  };
}

function defaultVpcOwns(ctx: ActionContext, group: GroupRecord): boolean {
  return defaultVpc(ctx)?.id === group.vpcId;
}

interface RuleRow {
  group: GroupRecord;
  rule: RuleRecord;
  tags: Tags;
}

const describeSecurityGroupRules: Action = (ctx) => {
  const ids = new Set(ctx.params.strings("SecurityGroupRuleIds"));
  for (const id of ids) checkId("rule", id);
  const rows: RuleRow[] = [];
  for (const group of ctx.tx.scoped("group", ctx.account, ctx.region)) {
    for (const rule of group.rules) {
      if (ids.size === 0 || ids.has(rule.id)) rows.push({ group, rule, tags: rule.tags });
    }
  }
  for (const id of ids) if (!rows.some((row) => row.rule.id === id)) throw notFound("rule", id);
  for (const filter of ctx.params.list("Filters", "Filter")) {
    if (filter.string("Name") === "group-id") {
      for (const value of filter.strings("Values"))
        if (!value.includes("*") && !value.includes("?")) checkId("group", value);
    }
  }
  const fields: FilterFields<RuleRow> = {
    "group-id": (row) => [row.group.id],
    "security-group-rule-id": (row) => [row.rule.id],
  };
  const { page, nextToken } = paginate(
    ctx,
    applyFilters(ctx, rows, fields),
    { min: 5, max: 1000 },
    (row) => row.rule.id,
  );
  return {
    SecurityGroupRules: page.map((row) => presentRule(ctx, row.group, row.rule)),
    NextToken: nextToken,
  };
};

/**
 * The group a modified rule names. SecurityGroupRuleRequest has no UserId, so a rule that names
 * another account's group keeps that account while it names the same group; any other group is
 * the caller's, as EC2 defaults it.
 */
function referenceOf(current: RuleRecord, groupId: string | undefined): Params {
  const peer = current.peer;
  const userId = peer.kind === "group" && peer.groupId === groupId ? peer.userId : undefined;
  return new Params({ GroupId: groupId ?? "", ...(userId ? { UserId: userId } : {}) });
}

const modifySecurityGroupRules: Action = (ctx) => {
  const group = requireGroup(ctx, ctx.params.requiredString("GroupId", "groupId"));
  const updates = ctx.params.list("SecurityGroupRules", "SecurityGroupRule");
  if (updates.length === 0) throw missingParameter("SecurityGroupRule");
  const rules = [...group.rules];
  for (const update of updates) {
    const id = update.requiredString("SecurityGroupRuleId", `${update.path}.SecurityGroupRuleId`);
    checkId("rule", id);
    const index = rules.findIndex((r) => r.id === id);
    if (index < 0) throw notFound("rule", id);
    const current = rules[index] as RuleRecord;
    const request = update.struct("SecurityGroupRule");
    if (!request) throw missingParameter(`${update.path}.SecurityGroupRule`);
    const ports = normaliseProtocolPorts(
      request.string("IpProtocol"),
      request.int("FromPort"),
      request.int("ToPort"),
    );
    const given = (["CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupId"] as const).filter((m) =>
      request.has(m),
    );
    if (given.length !== 1) {
      throw invalidValue(
        "missing mandatory parameter: exactly one of remote-security-group, remote-ip-range, remote-ipv6-range, or prefix-list-id must be present",
      );
    }
    const member = given[0] as (typeof given)[number];
    const peer: RulePeer =
      member === "CidrIpv4"
        ? cidrPeer(request.string("CidrIpv4"), 4)
        : member === "CidrIpv6"
          ? cidrPeer(request.string("CidrIpv6"), 6)
          : member === "PrefixListId"
            ? prefixListPeer(ctx, request.string("PrefixListId"), false)
            : referencedGroup(ctx, group, referenceOf(current, request.string("ReferencedGroupId")), false);
    if (peer.kind !== current.peer.kind) {
      throw invalidValue(
        `Invalid rule type for security group rule '${id}'. You may not specify ${member} for an existing ${current.peer.kind} rule.`,
      );
    }
    const replacement: RuleRecord = {
      ...current,
      ...ports,
      peer,
      description: checkRuleDescription(request.string("Description")),
    };
    const key = ruleKey(replacement);
    if (rules.some((r, i) => i !== index && ruleKey(r) === key)) throw duplicateRule(replacement);
    rules[index] = replacement;
  }
  checkQuota(ctx, rules, false);
  checkQuota(ctx, rules, true);
  ctx.tx.put({ ...group, rules });
  return { Return: true };
};

function updateDescriptions(egress: boolean): Action {
  return (ctx) => {
    // both directions take GroupName here (spec 3.2), unlike Authorize/RevokeSecurityGroupEgress
    const group = groupByIdOrName(ctx);
    const byId = ctx.params.list("SecurityGroupRuleDescriptions", "SecurityGroupRuleDescription");
    const descriptions = new Map<string, string | undefined>();
    if (byId.length > 0 && ctx.params.list("IpPermissions").length > 0) {
      throw invalidCombination(
        "The parameter SecurityGroupRuleDescription cannot be used with the parameter IpPermissions",
      );
    }
    if (byId.length > 0) {
      for (const entry of byId) {
        const id = entry.requiredString("SecurityGroupRuleId", `${entry.path}.SecurityGroupRuleId`);
        const [rule] = rulesById(group, egress, [id]);
        descriptions.set((rule as RuleRecord).id, checkRuleDescription(entry.string("Description")));
      }
    } else {
      const byKey = new Map(group.rules.map((r) => [ruleKey(r), r]));
      for (const spec of requestedRules(ctx, group, egress, true)) {
        const rule = byKey.get(ruleKey(spec));
        if (!rule)
          throw new Ec2Error(
            "InvalidPermission.NotFound",
            "The specified rule does not exist in this security group.",
          );
        descriptions.set(rule.id, spec.description);
      }
    }
    ctx.tx.put({
      ...group,
      rules: group.rules.map((r) =>
        descriptions.has(r.id) ? { ...r, description: descriptions.get(r.id) } : r,
      ),
    });
    return { Return: true };
  };
}

const describeSecurityGroupReferences: Action = (ctx) => {
  const ids = requestedIds(ctx, "GroupId");
  if (ids.length === 0) throw missingParameter("GroupId");
  const groups = ids.map((id) => requireGroup(ctx, id));
  const references: { GroupId: string; ReferencingVpcId: string }[] = [];
  for (const group of groups) {
    const vpcs = new Set<string>();
    for (const other of ctx.tx.all("group")) {
      if (other.region === ctx.region && other.vpcId !== group.vpcId && isReferencedBy(group, other))
        vpcs.add(other.vpcId);
    }
    for (const vpcId of vpcs) references.push({ GroupId: group.id, ReferencingVpcId: vpcId });
  }
  return { SecurityGroupReferenceSet: references };
};

const describeStaleSecurityGroups: Action = (ctx) => {
  const vpc = requireVpc(ctx, ctx.params.requiredString("VpcId"));
  const token = ctx.params.string("NextToken");
  if (token !== undefined && (token.length < 1 || token.length > 1024)) {
    throw new Ec2Error(
      "InvalidPaginationToken",
      "The specified pagination token is not valid or is expired.",
    );
  }
  const stale = groupsOfVpc(ctx, vpc.id)
    .map((group) => {
      const gone = goneReferences(ctx, group);
      const isStale = (r: RuleRecord) => r.peer.kind === "group" && gone.has(r.peer.groupId);
      const present = (egress: boolean) =>
        groupPermissions(
          group.rules.filter((r) => r.egress === egress && isStale(r)),
          gone,
        ).map((p) => ({
          IpProtocol: p.IpProtocol,
          FromPort: p.FromPort,
          ToPort: p.ToPort,
          UserIdGroupPairs: p.UserIdGroupPairs,
        }));
      return {
        group,
        GroupId: group.id,
        GroupName: group.name,
        Description: group.description,
        VpcId: group.vpcId,
        StaleIpPermissions: present(false),
        StaleIpPermissionsEgress: present(true),
      };
    })
    .filter((g) => g.StaleIpPermissions.length > 0 || g.StaleIpPermissionsEgress.length > 0);
  const { page, nextToken } = paginate(ctx, stale, { min: 5, max: 255 }, (g) => g.GroupId);
  return { StaleSecurityGroupSet: page.map(({ group: _group, ...rest }) => rest), NextToken: nextToken };
};

export const securityGroupActions: Record<string, Action> = {
  CreateSecurityGroup: createSecurityGroup,
  DeleteSecurityGroup: deleteSecurityGroup,
  DescribeSecurityGroups: describeSecurityGroups,
  AuthorizeSecurityGroupIngress: authorize(false),
  AuthorizeSecurityGroupEgress: authorize(true),
  RevokeSecurityGroupIngress: revoke(false),
  RevokeSecurityGroupEgress: revoke(true),
  DescribeSecurityGroupRules: describeSecurityGroupRules,
  ModifySecurityGroupRules: modifySecurityGroupRules,
  UpdateSecurityGroupRuleDescriptionsIngress: updateDescriptions(false),
  UpdateSecurityGroupRuleDescriptionsEgress: updateDescriptions(true),
  DescribeSecurityGroupReferences: describeSecurityGroupReferences,
  DescribeStaleSecurityGroups: describeStaleSecurityGroups,
};
