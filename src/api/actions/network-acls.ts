// Network ACLs (spec 2.23, 3.13): numbered, stateless entries per direction; every subnet has
// exactly one association, to the VPC's default ACL unless replaced.

import { Ec2Error, invalidValue, missingParameter } from "../../model/errors.js";
import type { NetworkAclEntry } from "../../model/estate.js";
import { checkId, newId, notFound } from "../../model/ids.js";
import type { NetworkAclRecord } from "../../model/resources.js";
import { formatCidr, parseCidr4, parseCidr6 } from "../../net/cidr.js";
import { protocolName } from "../../net/protocol.js";
import { clientTokenOf, madeWithToken, tokenFields } from "../client-token.js";
import { type Action, type ActionContext, presentTags } from "../context.js";
import { applyFilters, byId, type FilterFields, paginate } from "../filters.js";
import { requestedIds, requireOwn, requireVpc } from "./lookup.js";
import { tagsFromSpecifications } from "./tags.js";
import { newNetworkAcl } from "./vpcs.js";

const requireAcl = (ctx: ActionContext, id: string) => requireOwn(ctx, "networkAcl", id);

function isIpv6(entry: NetworkAclEntry): boolean {
  return entry.cidr.includes(":");
}

function presentEntry(entry: NetworkAclEntry) {
  return {
    RuleNumber: entry.ruleNumber,
    Protocol: entry.protocol,
    RuleAction: entry.action,
    Egress: entry.egress,
    CidrBlock: isIpv6(entry) ? undefined : entry.cidr,
    Ipv6CidrBlock: isIpv6(entry) ? entry.cidr : undefined,
    IcmpTypeCode: entry.icmp ? { Type: entry.icmp.type, Code: entry.icmp.code } : undefined,
    PortRange: entry.portRange ? { From: entry.portRange.from, To: entry.portRange.to } : undefined,
  };
}

function presentAcl(acl: NetworkAclRecord) {
  return {
    NetworkAclId: acl.id,
    VpcId: acl.vpcId,
    IsDefault: acl.isDefault,
    Entries: acl.entries.map(presentEntry),
    Associations: acl.associations.map((a) => ({
      NetworkAclAssociationId: a.id,
      NetworkAclId: acl.id,
      SubnetId: a.subnetId,
    })),
    Tags: presentTags(acl.tags) ?? [],
    OwnerId: acl.account,
  };
}

/** An entry from CreateNetworkAclEntry / ReplaceNetworkAclEntry parameters. */
function readEntry(ctx: ActionContext): NetworkAclEntry {
  const p = ctx.params;
  const ruleNumber = p.requiredInt("RuleNumber");
  if (ruleNumber < 1 || ruleNumber > 32766) {
    throw invalidValue(
      `Value (${ruleNumber}) for parameter ruleNumber is invalid. Rule numbers must be between 1 and 32766.`,
    );
  }
  const protocolText = p.requiredString("Protocol");
  if (!/^-?\d{1,3}$/.test(protocolText) || Number(protocolText) < -1 || Number(protocolText) > 255) {
    throw invalidValue(`Invalid value '${protocolText}' for IP protocol. Unknown protocol.`);
  }
  const protocol = String(Number(protocolText));
  const action = p.requiredString("RuleAction");
  if (action !== "allow" && action !== "deny")
    throw invalidValue(`Value (${action}) for parameter ruleAction is invalid.`);
  const egress = p.bool("Egress");
  if (egress === undefined) throw missingParameter("Egress");
  const v4 = p.string("CidrBlock");
  const v6 = p.string("Ipv6CidrBlock");
  if ((v4 === undefined) === (v6 === undefined)) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "Exactly one of CidrBlock and Ipv6CidrBlock must be given.",
    );
  }
  const parsed = v4 !== undefined ? parseCidr4(v4) : parseCidr6(v6 as string);
  if (!parsed) throw invalidValue(`CIDR block ${v4 ?? v6} is malformed`);
  const entry: { -readonly [K in keyof NetworkAclEntry]: NetworkAclEntry[K] } = {
    ruleNumber,
    egress,
    protocol,
    action,
    cidr: formatCidr(parsed.cidr),
  };
  const n = Number(protocol);
  if (n === 6 || n === 17) {
    const range = p.struct("PortRange");
    const from = range?.int("From");
    const to = range?.int("To");
    if (from === undefined || to === undefined) throw missingParameter("PortRange");
    if (from < 0 || to > 65535 || from > to) throw invalidValue(`Invalid port range ${from}-${to}.`);
    entry.portRange = { from, to };
  }
  if (n === 1 || (n === 58 && v6 !== undefined)) {
    const icmp = p.struct("IcmpTypeCode", "Icmp");
    const type = icmp?.int("Type");
    const code = icmp?.int("Code");
    if (type === undefined || code === undefined) throw missingParameter("Icmp");
    if (type < -1 || type > 255 || code < -1 || code > 255)
      throw invalidValue(`Invalid ICMP type/code ${type}/${code}.`);
    // a code means something only for one type; the evaluator and the lab would drop it
    if (type === -1 && code !== -1) {
      throw invalidValue(`Invalid ICMP type/code ${type}/${code}: with all types (-1) the code must be -1.`);
    }
    entry.icmp = { type, code };
  }
  return entry;
}

function sortEntries(entries: NetworkAclEntry[]): NetworkAclEntry[] {
  return entries.sort((a, b) => Number(a.egress) - Number(b.egress) || a.ruleNumber - b.ruleNumber);
}

/**
 * Entries per direction and family, the catch-all counted (spec 3.9, 3.13), leave the caller one
 * less than the quota in each family, also for IPv6 in a VPC whose ACLs show no IPv6 catch-all.
 */
function checkEntryQuota(ctx: ActionContext, entries: NetworkAclEntry[], entry: NetworkAclEntry): void {
  const own = entries.filter(
    (e) => e.ruleNumber <= 32766 && e.egress === entry.egress && isIpv6(e) === isIpv6(entry),
  );
  if (own.length > ctx.quotas.networkAclEntriesPerDirection - 1) {
    throw new Ec2Error(
      "NetworkAclEntryLimitExceeded",
      "The maximum number of network ACL entries has been reached.",
    );
  }
}

const createNetworkAcl: Action = (ctx) => {
  const vpc = requireVpc(ctx, ctx.params.requiredString("VpcId"));
  const clientToken = clientTokenOf(ctx);
  const earlier = madeWithToken(clientToken, ctx.tx.scoped("network-acl", ctx.account, ctx.region));
  if (earlier) return { NetworkAcl: presentAcl(earlier), ClientToken: clientToken?.token };
  const tags = tagsFromSpecifications(ctx, "network-acl");
  const count = [...ctx.tx.scoped("network-acl", ctx.account, ctx.region)].filter(
    (a) => a.vpcId === vpc.id,
  ).length;
  if (count >= ctx.quotas.networkAclsPerVpc) {
    throw new Ec2Error(
      "NetworkAclLimitExceeded",
      `The maximum number of network ACLs for VPC '${vpc.id}' has been reached.`,
    );
  }
  const acl = ctx.tx.put({ ...newNetworkAcl(ctx, vpc, false), tags, ...tokenFields(clientToken) });
  return { NetworkAcl: presentAcl(acl), ClientToken: clientToken?.token };
};

const deleteNetworkAcl: Action = (ctx) => {
  const acl = requireAcl(ctx, ctx.params.requiredString("NetworkAclId"));
  if (acl.isDefault) throw invalidValue(`cannot delete default network ACL ${acl.id}`);
  if (acl.associations.length > 0) {
    throw new Ec2Error(
      "DependencyViolation",
      `The networkAcl '${acl.id}' has dependencies and cannot be deleted.`,
    );
  }
  ctx.tx.delete(acl);
  return {};
};

const createNetworkAclEntry: Action = (ctx) => {
  // the entry's values are checked before the ACL is looked up (spec 4.4)
  const entry = readEntry(ctx);
  const acl = requireAcl(ctx, ctx.params.requiredString("NetworkAclId"));
  if (acl.entries.some((e) => e.ruleNumber === entry.ruleNumber && e.egress === entry.egress)) {
    throw new Ec2Error(
      "NetworkAclEntryAlreadyExists",
      `The network acl entry identified by ${entry.ruleNumber} already exists.`,
    );
  }
  const entries = sortEntries([...acl.entries, entry]);
  checkEntryQuota(ctx, entries, entry);
  ctx.tx.put({ ...acl, entries });
  return {};
};

function existingEntryIndex(acl: NetworkAclRecord, ruleNumber: number, egress: boolean): number {
  const index = acl.entries.findIndex((e) => e.ruleNumber === ruleNumber && e.egress === egress);
  if (index < 0 || ruleNumber > 32766) {
    throw new Ec2Error(
      "InvalidNetworkAclEntry.NotFound",
      `no ${egress ? "egress" : "ingress"} entry with number ${ruleNumber}`,
    );
  }
  return index;
}

const replaceNetworkAclEntry: Action = (ctx) => {
  // the entry's values are checked before the ACL is looked up (spec 4.4)
  const entry = readEntry(ctx);
  const acl = requireAcl(ctx, ctx.params.requiredString("NetworkAclId"));
  const index = existingEntryIndex(acl, entry.ruleNumber, entry.egress);
  const entries = [...acl.entries];
  entries[index] = entry;
  // an entry replaced by one of the other family counts there
  checkEntryQuota(ctx, entries, entry);
  ctx.tx.put({ ...acl, entries: sortEntries(entries) });
  return {};
};

const deleteNetworkAclEntry: Action = (ctx) => {
  const acl = requireAcl(ctx, ctx.params.requiredString("NetworkAclId"));
  const ruleNumber = ctx.params.requiredInt("RuleNumber");
  const egress = ctx.params.bool("Egress");
  if (egress === undefined) throw missingParameter("Egress");
  const index = existingEntryIndex(acl, ruleNumber, egress);
  ctx.tx.put({ ...acl, entries: acl.entries.filter((_, i) => i !== index) });
  return {};
};

const replaceNetworkAclAssociation: Action = (ctx) => {
  const associationId = ctx.params.requiredString("AssociationId");
  checkId("networkAclAssociation", associationId);
  const target = requireAcl(ctx, ctx.params.requiredString("NetworkAclId"));
  const current = [...ctx.tx.scoped("network-acl", ctx.account, ctx.region)].find((a) =>
    a.associations.some((s) => s.id === associationId),
  );
  if (!current) throw notFound("networkAclAssociation", associationId);
  const association = current.associations.find((s) => s.id === associationId) as {
    id: string;
    subnetId: string;
  };
  if (target.vpcId !== current.vpcId) {
    throw new Ec2Error(
      "InvalidParameterValue",
      `The network ACL ${target.id} and subnet ${association.subnetId} belong to different VPCs.`,
    );
  }
  const newAssociationId = newId("aclassoc");
  ctx.tx.put({ ...current, associations: current.associations.filter((s) => s.id !== associationId) });
  const refreshed = ctx.tx.get("network-acl", target.id) as NetworkAclRecord;
  ctx.tx.put({
    ...refreshed,
    associations: [...refreshed.associations, { id: newAssociationId, subnetId: association.subnetId }],
  });
  return { NewAssociationId: newAssociationId };
};

const entryValues =
  <T>(pick: (e: NetworkAclEntry) => T) =>
  (acl: NetworkAclRecord) =>
    acl.entries.map(pick);

const ACL_FILTERS: FilterFields<NetworkAclRecord> = {
  "network-acl-id": (a) => [a.id],
  "vpc-id": (a) => [a.vpcId],
  default: (a) => [a.isDefault],
  "owner-id": (a) => [a.account],
  "association.association-id": (a) => a.associations.map((s) => s.id),
  "association.network-acl-id": (a) => (a.associations.length > 0 ? [a.id] : []),
  "association.subnet-id": (a) => a.associations.map((s) => s.subnetId),
  "entry.cidr": entryValues((e) => (isIpv6(e) ? undefined : e.cidr)),
  "entry.ipv6-cidr": entryValues((e) => (isIpv6(e) ? e.cidr : undefined)),
  "entry.egress": entryValues((e) => e.egress),
  // entries keep the number; the filter also takes the name (model doc: tcp | udp | icmp or a number)
  "entry.protocol": (a) =>
    a.entries.flatMap((e) =>
      e.protocol === "-1" ? [e.protocol] : [e.protocol, protocolName(Number(e.protocol))],
    ),
  "entry.rule-action": entryValues((e) => e.action),
  "entry.rule-number": entryValues((e) => e.ruleNumber),
  "entry.port-range.from": entryValues((e) => e.portRange?.from),
  "entry.port-range.to": entryValues((e) => e.portRange?.to),
  "entry.icmp.type": entryValues((e) => e.icmp?.type),
  "entry.icmp.code": entryValues((e) => e.icmp?.code),
};

const describeNetworkAcls: Action = (ctx) => {
  const ids = requestedIds(ctx, "NetworkAclIds");
  const acls =
    ids.length > 0
      ? ids.map((id) => requireAcl(ctx, id))
      : [...ctx.tx.scoped("network-acl", ctx.account, ctx.region)];
  const { page, nextToken } = paginate(
    ctx,
    applyFilters(ctx, acls, ACL_FILTERS),
    { min: 5, max: 1000 },
    byId,
  );
  return { NetworkAcls: page.map(presentAcl), NextToken: nextToken };
};

export const networkAclActions: Record<string, Action> = {
  CreateNetworkAcl: createNetworkAcl,
  DeleteNetworkAcl: deleteNetworkAcl,
  DescribeNetworkAcls: describeNetworkAcls,
  CreateNetworkAclEntry: createNetworkAclEntry,
  ReplaceNetworkAclEntry: replaceNetworkAclEntry,
  DeleteNetworkAclEntry: deleteNetworkAclEntry,
  ReplaceNetworkAclAssociation: replaceNetworkAclAssociation,
};
