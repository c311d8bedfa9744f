// VPCs, subnets, regions and zones, and what every account region and every VPC gets by default
// (spec 3.1): the default VPC, its /20 subnet per zone, the default group and the default ACL.

import { Ec2Error, invalidCombination, invalidValue } from "../../model/errors.js";
import type { NetworkAclEntry } from "../../model/estate.js";
import { newId } from "../../model/ids.js";
import type { GroupRecord, NetworkAclRecord, SubnetRecord, VpcRecord } from "../../model/resources.js";
import {
  canonicalCidr,
  cidrCovers,
  cidrSize,
  cidrsOverlap,
  formatCidr,
  parseCidr4,
  parseCidr6,
} from "../../net/cidr.js";
import { type Action, type ActionContext, arn, presentTags } from "../context.js";
import { applyFilters, byId, type FilterFields, paginate, withoutValue } from "../filters.js";
import { defaultGroupOf, requestedIds, requireOwn, requireVpc } from "./lookup.js";
import { tagsFromSpecifications } from "./tags.js";

export const REGIONS: Record<string, string> = {
  "us-east-1": "use1",
  "us-east-2": "use2",
  "us-west-1": "usw1",
  "us-west-2": "usw2",
  "ca-central-1": "cac1",
  "eu-west-1": "euw1",
  "eu-west-2": "euw2",
  "eu-central-1": "euc1",
  "eu-north-1": "eun1",
  "ap-southeast-1": "apse1",
  "ap-southeast-2": "apse2",
  "ap-northeast-1": "apne1",
  "ap-south-1": "aps1",
  "sa-east-1": "sae1",
};

export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

export function availabilityZones(region: string): { name: string; id: string }[] {
  const code = Object.hasOwn(REGIONS, region) ? REGIONS[region] : region.replace(/-/g, "").slice(0, 6);
  return ["a", "b", "c"].map((letter, i) => ({ name: `${region}${letter}`, id: `${code}-az${i + 1}` }));
}

const DEFAULT_VPC_CIDR = "172.31.0.0/16";

function allowAll(ruleNumber: number, egress: boolean, cidr: string): NetworkAclEntry {
  return { ruleNumber, egress, protocol: "-1", action: "allow", cidr };
}
function denyAll(ruleNumber: number, egress: boolean, cidr: string): NetworkAclEntry {
  return { ruleNumber, egress, protocol: "-1", action: "deny", cidr };
}

/** The catch-all entries every ACL ends with (32767 for IPv4, 32768 for IPv6). */
export function catchAllEntries(ipv6: boolean): NetworkAclEntry[] {
  const entries = [denyAll(32767, false, "0.0.0.0/0"), denyAll(32767, true, "0.0.0.0/0")];
  if (ipv6) entries.push(denyAll(32768, false, "::/0"), denyAll(32768, true, "::/0"));
  return entries;
}

export function newNetworkAcl(ctx: ActionContext, vpc: VpcRecord, isDefault: boolean): NetworkAclRecord {
  const ipv6 = vpc.ipv6Cidr !== undefined;
  const allows = isDefault
    ? [allowAll(100, false, "0.0.0.0/0"), allowAll(100, true, "0.0.0.0/0")].concat(
        ipv6 ? [allowAll(101, false, "::/0"), allowAll(101, true, "::/0")] : [],
      )
    : [];
  return {
    kind: "network-acl",
    id: newId("acl"),
    account: ctx.account,
    region: ctx.region,
    tags: {},
    vpcId: vpc.id,
    isDefault,
    entries: [...allows, ...catchAllEntries(ipv6)],
    associations: [],
  };
}

/** A new group's rules: all egress (to ::/0 too when the VPC has IPv6), plus self-ingress for the default group. */
export function initialRules(ctx: ActionContext, groupId: string, vpc: VpcRecord, isDefault: boolean) {
  const rule = (egress: boolean, peer: GroupRecord["rules"][number]["peer"]) => ({
    id: newId("sgr"),
    egress,
    protocol: "-1",
    fromPort: -1,
    toPort: -1,
    peer,
    tags: {},
  });
  const rules = [];
  if (isDefault) rules.push(rule(false, { kind: "group", groupId, userId: ctx.account }));
  rules.push(rule(true, { kind: "ipv4", cidr: "0.0.0.0/0" }));
  if (vpc.ipv6Cidr) rules.push(rule(true, { kind: "ipv6", cidr: "::/0" }));
  return rules;
}

function createVpcWithDefaults(
  ctx: ActionContext,
  cidr: string,
  options: { isDefault: boolean; ipv6: boolean; tenancy: string; tags: Record<string, string> },
): VpcRecord {
  const id = newId("vpc");
  const vpc = ctx.tx.put<VpcRecord>({
    kind: "vpc",
    id,
    account: ctx.account,
    region: ctx.region,
    tags: options.tags,
    cidr,
    cidrAssociationId: newId("vpc-cidr-assoc"),
    // A /56 from the IPv6 unique-local range, derived from the VPC id so it is stable and distinct.
    ipv6Cidr: options.ipv6
      ? canonicalCidr(`fd${id.slice(4, 6)}:${id.slice(6, 10)}:${id.slice(10, 12)}00::/56`, 6)
      : undefined,
    ipv6AssociationId: options.ipv6 ? newId("vpc-cidr-assoc") : undefined,
    isDefault: options.isDefault,
    instanceTenancy: options.tenancy,
    dhcpOptionsId: "dopt-00000000000000001",
  });
  const groupId = newId("sg");
  ctx.tx.put<GroupRecord>({
    kind: "group",
    id: groupId,
    account: ctx.account,
    region: ctx.region,
    tags: {},
    vpcId: id,
    name: "default",
    description: "default VPC security group",
    isDefault: true,
    rules: initialRules(ctx, groupId, vpc, true),
  });
  ctx.tx.put(newNetworkAcl(ctx, vpc, true));
  return vpc;
}

function newSubnet(
  ctx: ActionContext,
  vpc: VpcRecord,
  cidr: string,
  zone: { name: string; id: string },
  options: { defaultForAz: boolean; ipv6Cidr?: string; tags: Record<string, string> },
): SubnetRecord {
  const subnet = ctx.tx.put<SubnetRecord>({
    kind: "subnet",
    id: newId("subnet"),
    account: ctx.account,
    region: ctx.region,
    tags: options.tags,
    vpcId: vpc.id,
    cidr,
    ipv6Cidr: options.ipv6Cidr,
    ipv6AssociationId: options.ipv6Cidr ? newId("subnet-cidr-assoc") : undefined,
    availabilityZone: zone.name,
    availabilityZoneId: zone.id,
    defaultForAz: options.defaultForAz,
    mapPublicIpOnLaunch: options.defaultForAz,
  });
  const acl = [...ctx.tx.scoped("network-acl", ctx.account, ctx.region)].find(
    (a) => a.vpcId === vpc.id && a.isDefault,
  );
  if (acl) {
    ctx.tx.put({
      ...acl,
      associations: [...acl.associations, { id: newId("aclassoc"), subnetId: subnet.id }],
    });
  }
  return subnet;
}

function createDefaultVpc(ctx: ActionContext): VpcRecord {
  const vpc = createVpcWithDefaults(ctx, DEFAULT_VPC_CIDR, {
    isDefault: true,
    ipv6: false,
    tenancy: "default",
    tags: {},
  });
  availabilityZones(ctx.region).forEach((zone, i) => {
    newSubnet(ctx, vpc, `172.31.${i * 16}.0/20`, zone, { defaultForAz: true, tags: {} });
  });
  return vpc;
}

/** First use of an account in a region: its default VPC, in the request's own transaction. */
export function ensureRegionSetUp(ctx: ActionContext, isSetUp: boolean): void {
  if (isSetUp) return;
  ctx.tx.regionsSetUp.push({ account: ctx.account, region: ctx.region });
  createDefaultVpc(ctx);
}

export function presentVpc(ctx: ActionContext, vpc: VpcRecord, state = "available") {
  return {
    VpcId: vpc.id,
    OwnerId: vpc.account,
    State: state,
    CidrBlock: vpc.cidr,
    CidrBlockAssociationSet: [
      { AssociationId: vpc.cidrAssociationId, CidrBlock: vpc.cidr, CidrBlockState: { State: "associated" } },
    ],
    Ipv6CidrBlockAssociationSet: vpc.ipv6Cidr
      ? [
          {
            AssociationId: vpc.ipv6AssociationId,
            Ipv6CidrBlock: vpc.ipv6Cidr,
            Ipv6CidrBlockState: { State: "associated" },
            NetworkBorderGroup: ctx.region,
            Ipv6Pool: "Amazon",
          },
        ]
      : undefined,
    DhcpOptionsId: vpc.dhcpOptionsId,
    InstanceTenancy: vpc.instanceTenancy,
    IsDefault: vpc.isDefault,
    Tags: presentTags(vpc.tags),
  };
}

function availableAddresses(ctx: ActionContext, subnet: SubnetRecord): number {
  const parsed = parseCidr4(subnet.cidr);
  const size = parsed ? Number(cidrSize(parsed.cidr)) : 0;
  let used = 0;
  for (const eni of ctx.tx.scoped("eni", ctx.account, ctx.region)) {
    if (eni.subnetId === subnet.id) used += eni.privateIps.length;
  }
  return size - 5 - used;
}

export function presentSubnet(ctx: ActionContext, subnet: SubnetRecord) {
  return {
    SubnetId: subnet.id,
    SubnetArn: arn(ctx, "subnet", subnet.id),
    VpcId: subnet.vpcId,
    OwnerId: subnet.account,
    State: "available",
    CidrBlock: subnet.cidr,
    AvailableIpAddressCount: availableAddresses(ctx, subnet),
    AvailabilityZone: subnet.availabilityZone,
    AvailabilityZoneId: subnet.availabilityZoneId,
    DefaultForAz: subnet.defaultForAz,
    MapPublicIpOnLaunch: subnet.mapPublicIpOnLaunch,
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: subnet.ipv6Cidr
      ? [
          {
            AssociationId: subnet.ipv6AssociationId,
            Ipv6CidrBlock: subnet.ipv6Cidr,
            Ipv6CidrBlockState: { State: "associated" },
          },
        ]
      : [],
    Ipv6Native: false,
    Tags: presentTags(subnet.tags),
  };
}

function checkVpcCidr(text: string, error: string): string {
  const parsed = parseCidr4(text);
  if (!parsed)
    throw invalidValue(`Value (${text}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
  if (parsed.cidr.prefix < 16 || parsed.cidr.prefix > 28)
    throw new Ec2Error(error, `The CIDR '${text}' is invalid.`);
  return formatCidr(parsed.cidr);
}

/** VPCs per region (spec 3.9), the default VPC among them. */
function checkVpcQuota(ctx: ActionContext): void {
  const count = [...ctx.tx.scoped("vpc", ctx.account, ctx.region)].length;
  if (count >= ctx.quotas.vpcsPerRegion) {
    throw new Ec2Error("VpcLimitExceeded", "The maximum number of VPCs has been reached.");
  }
}

/** The model's tenancies, of a VPC and of an instance's placement. */
export const TENANCIES = ["default", "dedicated", "host"] as const;

const createVpc: Action = (ctx) => {
  ctx.params.refuseUnkept(
    [
      "Ipv6Pool",
      "Ipv6CidrBlock",
      "Ipv4IpamPoolId",
      "Ipv4NetmaskLength",
      "Ipv6IpamPoolId",
      "Ipv6NetmaskLength",
      "Ipv6CidrBlockNetworkBorderGroup",
      "VpcEncryptionControl",
    ],
    "a VPC has the IPv4 CidrBlock given and, with AmazonProvidedIpv6CidrBlock, an IPv6 /56 of its own",
  );
  const cidrText = ctx.params.requiredString("CidrBlock");
  const cidr = checkVpcCidr(cidrText, "InvalidVpc.Range");
  const tenancy = ctx.params.oneOf("InstanceTenancy", TENANCIES, "instanceTenancy") ?? "default";
  const tags = tagsFromSpecifications(ctx, "vpc");
  checkVpcQuota(ctx);
  const vpc = createVpcWithDefaults(ctx, cidr, {
    isDefault: false,
    ipv6: ctx.params.bool("AmazonProvidedIpv6CidrBlock") === true,
    tenancy,
    tags,
  });
  return { Vpc: presentVpc(ctx, vpc, "pending") };
};

const createDefaultVpcAction: Action = (ctx) => {
  const existing = [...ctx.tx.scoped("vpc", ctx.account, ctx.region)].find((v) => v.isDefault);
  if (existing) {
    throw new Ec2Error(
      "DefaultVpcAlreadyExists",
      `A Default VPC already exists for this account in this region.`,
    );
  }
  checkVpcQuota(ctx);
  return { Vpc: presentVpc(ctx, createDefaultVpc(ctx), "pending") };
};

const deleteVpc: Action = (ctx) => {
  const vpc = requireVpc(ctx, ctx.params.requiredString("VpcId"));
  const dependent =
    [...ctx.tx.scoped("subnet", ctx.account, ctx.region)].some((s) => s.vpcId === vpc.id) ||
    [...ctx.tx.scoped("group", ctx.account, ctx.region)].some((g) => g.vpcId === vpc.id && !g.isDefault) ||
    [...ctx.tx.scoped("network-acl", ctx.account, ctx.region)].some(
      (a) => a.vpcId === vpc.id && !a.isDefault,
    ) ||
    [...ctx.tx.scoped("eni", ctx.account, ctx.region)].some((e) => e.vpcId === vpc.id);
  if (dependent) {
    throw new Ec2Error("DependencyViolation", `The vpc '${vpc.id}' has dependencies and cannot be deleted.`);
  }
  const defaultGroup = defaultGroupOf(ctx, vpc.id);
  // Only the default group is left in the VPC (others are dependencies above); rules of other
  // accounts' groups that reference it become stale, as with DeleteSecurityGroup.
  ctx.tx.delete(defaultGroup);
  for (const acl of ctx.tx.scoped("network-acl", ctx.account, ctx.region))
    if (acl.vpcId === vpc.id) ctx.tx.delete(acl);
  ctx.tx.delete(vpc);
  return {};
};

const VPC_FILTERS: FilterFields<VpcRecord> = {
  "vpc-id": (v) => [v.id],
  cidr: (v) => [v.cidr],
  "cidr-block": (v) => [v.cidr],
  "cidr-block-association.cidr-block": (v) => [v.cidr],
  "cidr-block-association.association-id": (v) => [v.cidrAssociationId],
  "cidr-block-association.state": () => ["associated"],
  "dhcp-options-id": (v) => [v.dhcpOptionsId],
  "ipv6-cidr-block-association.ipv6-cidr-block": (v) => [v.ipv6Cidr],
  "ipv6-cidr-block-association.association-id": (v) => [v.ipv6AssociationId],
  "ipv6-cidr-block-association.state": (v) => [v.ipv6Cidr ? "associated" : undefined],
  "ipv6-cidr-block-association.ipv6-pool": (v) => [v.ipv6Cidr ? "Amazon" : undefined],
  "is-default": (v) => [v.isDefault],
  "owner-id": (v) => [v.account],
  state: () => ["available"],
};

const describeVpcs: Action = (ctx) => {
  const ids = requestedIds(ctx, "VpcIds");
  const vpcs =
    ids.length > 0
      ? ids.map((id) => requireVpc(ctx, id))
      : [...ctx.tx.scoped("vpc", ctx.account, ctx.region)];
  const { page, nextToken } = paginate(
    ctx,
    applyFilters(ctx, vpcs, VPC_FILTERS),
    { min: 5, max: 1000 },
    byId,
  );
  return { Vpcs: page.map((v) => presentVpc(ctx, v)), NextToken: nextToken };
};

const createSubnet: Action = (ctx) => {
  ctx.params.refuseUnkept(
    ["OutpostArn", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "Ipv6IpamPoolId", "Ipv6NetmaskLength"],
    "a subnet has the CidrBlock and Ipv6CidrBlock given",
  );
  if (ctx.params.bool("Ipv6Native") === true) {
    throw new Ec2Error(
      "UnsupportedOperation",
      "ringfence does not implement IPv6-only subnets (Ipv6Native): a subnet has an IPv4 CidrBlock",
    );
  }
  const vpc = requireVpc(ctx, ctx.params.requiredString("VpcId"));
  const cidrText = ctx.params.requiredString("CidrBlock");
  const cidr = checkVpcCidr(cidrText, "InvalidSubnet.Range");
  const parsed = parseCidr4(cidr)?.cidr;
  const vpcCidr = parseCidr4(vpc.cidr)?.cidr;
  if (!parsed || !vpcCidr || !cidrCovers(vpcCidr, parsed))
    throw new Ec2Error("InvalidSubnet.Range", `The CIDR '${cidrText}' is invalid.`);
  const siblings = [...ctx.tx.scoped("subnet", ctx.account, ctx.region)].filter((s) => s.vpcId === vpc.id);
  for (const other of siblings) {
    const otherCidr = parseCidr4(other.cidr)?.cidr;
    if (otherCidr && cidrsOverlap(otherCidr, parsed)) {
      throw new Ec2Error("InvalidSubnet.Conflict", `The CIDR '${cidr}' conflicts with another subnet`);
    }
  }
  if (siblings.length >= ctx.quotas.subnetsPerVpc) {
    throw new Ec2Error(
      "SubnetLimitExceeded",
      `The maximum number of subnets for VPC '${vpc.id}' has been reached.`,
    );
  }
  let ipv6Cidr: string | undefined;
  const ipv6Text = ctx.params.string("Ipv6CidrBlock");
  if (ipv6Text !== undefined) {
    const v6 = parseCidr6(ipv6Text)?.cidr;
    const vpcV6 = vpc.ipv6Cidr ? parseCidr6(vpc.ipv6Cidr)?.cidr : undefined;
    if (v6?.prefix !== 64 || !vpcV6 || !cidrCovers(vpcV6, v6)) {
      throw new Ec2Error("InvalidSubnet.Range", `The IPv6 CIDR '${ipv6Text}' is invalid.`);
    }
    ipv6Cidr = formatCidr(v6);
    for (const other of siblings) {
      const otherV6 = other.ipv6Cidr ? parseCidr6(other.ipv6Cidr)?.cidr : undefined;
      if (otherV6 && cidrsOverlap(otherV6, v6)) {
        throw new Ec2Error("InvalidSubnet.Conflict", `The CIDR '${ipv6Cidr}' conflicts with another subnet`);
      }
    }
  }
  const zones = availabilityZones(ctx.region);
  const zoneName = ctx.params.string("AvailabilityZone");
  const zoneId = ctx.params.string("AvailabilityZoneId");
  const zone = zoneName
    ? zones.find((z) => z.name === zoneName)
    : zoneId
      ? zones.find((z) => z.id === zoneId)
      : zones[siblings.length % zones.length];
  if (zone && zoneName && zoneId && zone.id !== zoneId) {
    throw invalidCombination(
      `The availability zone ${zoneName} is ${zone.id}, not ${zoneId}: give AvailabilityZone or AvailabilityZoneId`,
    );
  }
  if (!zone) {
    throw invalidValue(
      `Value (${zoneName ?? zoneId}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${zones.map((z) => z.name).join(", ")}.`,
    );
  }
  const subnet = newSubnet(ctx, vpc, cidr, zone, {
    defaultForAz: false,
    ipv6Cidr,
    tags: tagsFromSpecifications(ctx, "subnet"),
  });
  return { Subnet: { ...presentSubnet(ctx, subnet), State: "pending" } };
};

const deleteSubnet: Action = (ctx) => {
  const subnet = requireOwn(ctx, "subnet", ctx.params.requiredString("SubnetId")) as SubnetRecord;
  for (const eni of ctx.tx.scoped("eni", ctx.account, ctx.region)) {
    if (eni.subnetId === subnet.id) {
      throw new Ec2Error(
        "DependencyViolation",
        `The subnet '${subnet.id}' has dependencies and cannot be deleted.`,
      );
    }
  }
  for (const acl of ctx.tx.scoped("network-acl", ctx.account, ctx.region)) {
    if (acl.associations.some((a) => a.subnetId === subnet.id)) {
      ctx.tx.put({ ...acl, associations: acl.associations.filter((a) => a.subnetId !== subnet.id) });
    }
  }
  ctx.tx.delete(subnet);
  return {};
};

const subnetFilters = (ctx: ActionContext): FilterFields<SubnetRecord> => ({
  "available-ip-address-count": (s) => [availableAddresses(ctx, s)],
  "subnet-id": (s) => [s.id],
  "vpc-id": (s) => [s.vpcId],
  "cidr-block": (s) => [s.cidr],
  cidr: (s) => [s.cidr],
  cidrBlock: (s) => [s.cidr],
  "availability-zone": (s) => [s.availabilityZone],
  "availability-zone-id": (s) => [s.availabilityZoneId],
  "default-for-az": (s) => [s.defaultForAz],
  defaultForAz: (s) => [s.defaultForAz],
  "map-public-ip-on-launch": (s) => [s.mapPublicIpOnLaunch],
  "owner-id": (s) => [s.account],
  state: () => ["available"],
  "subnet-arn": (s) => [`arn:aws:ec2:${s.region}:${s.account}:subnet/${s.id}`],
  "ipv6-cidr-block-association.ipv6-cidr-block": (s) => [s.ipv6Cidr],
  "ipv6-cidr-block-association.association-id": (s) => [s.ipv6AssociationId],
  "ipv6-cidr-block-association.state": (s) => [s.ipv6Cidr ? "associated" : undefined],
  "ipv6-native": () => [false],
  ...withoutValue<SubnetRecord>(
    "customer-owned-ipv4-pool",
    "enable-dns64",
    "enable-lni-at-device-index",
    "map-customer-owned-ip-on-launch",
    "outpost-arn",
    "private-dns-name-options-on-launch.hostname-type",
    "private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
    "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record",
  ),
});

const describeSubnets: Action = (ctx) => {
  const ids = requestedIds(ctx, "SubnetIds");
  const subnets =
    ids.length > 0
      ? ids.map((id) => requireOwn(ctx, "subnet", id))
      : [...ctx.tx.scoped("subnet", ctx.account, ctx.region)];
  const { page, nextToken } = paginate(
    ctx,
    applyFilters(ctx, subnets, subnetFilters(ctx)),
    { min: 5, max: 1000 },
    byId,
  );
  return { Subnets: page.map((s) => presentSubnet(ctx, s)), NextToken: nextToken };
};

const describeRegions: Action = (ctx) => {
  const names = ctx.params.strings("RegionNames");
  for (const name of names) {
    if (!Object.hasOwn(REGIONS, name)) throw invalidValue(`Invalid region name: ${name}`);
  }
  const regions = Object.keys(REGIONS).map((name) => ({ name, tags: {} }));
  const fields: FilterFields<{ name: string; tags: Record<string, string> }> = {
    "region-name": (r) => [r.name],
    endpoint: (r) => [`ec2.${r.name}.amazonaws.com`],
    "opt-in-status": () => ["opt-in-not-required"],
  };
  const selected = applyFilters(ctx, regions, fields).filter(
    (r) => names.length === 0 || names.includes(r.name),
  );
  return {
    Regions: selected.map((r) => ({
      RegionName: r.name,
      Endpoint: `ec2.${r.name}.amazonaws.com`,
      OptInStatus: "opt-in-not-required",
    })),
  };
};

const describeAvailabilityZones: Action = (ctx) => {
  const names = ctx.params.strings("ZoneNames");
  const ids = ctx.params.strings("ZoneIds");
  const zones = availabilityZones(ctx.region).map((z) => ({ ...z, tags: {} }));
  const unknown = [
    ...names.filter((name) => !zones.some((z) => z.name === name)),
    ...ids.filter((id) => !zones.some((z) => z.id === id)),
  ];
  if (unknown.length > 0) throw invalidValue(`Invalid availability zone: [${unknown.join(", ")}]`);
  const fields: FilterFields<(typeof zones)[number]> = {
    "zone-name": (z) => [z.name],
    "zone-id": (z) => [z.id],
    "region-name": () => [ctx.region],
    state: () => ["available"],
    "zone-type": () => ["availability-zone"],
    "group-name": () => [ctx.region],
    "opt-in-status": () => ["opt-in-not-required"],
    ...withoutValue("group-long-name", "message", "parent-zone-id", "parent-zone-name"),
  };
  const selected = applyFilters(ctx, zones, fields).filter(
    (z) => (names.length === 0 || names.includes(z.name)) && (ids.length === 0 || ids.includes(z.id)),
  );
  return {
    AvailabilityZones: selected.map((z) => ({
      State: "available",
      OptInStatus: "opt-in-not-required",
      Messages: [],
      RegionName: ctx.region,
      ZoneName: z.name,
      ZoneId: z.id,
      GroupName: ctx.region,
      NetworkBorderGroup: ctx.region,
      ZoneType: "availability-zone",
    })),
  };
};

const describeAccountAttributes: Action = (ctx) => {
  const vpc = [...ctx.tx.scoped("vpc", ctx.account, ctx.region)].find((v) => v.isDefault);
  const attributes: Record<string, string[]> = {
    "supported-platforms": ["VPC"],
    "default-vpc": [vpc?.id ?? "none"],
    "max-instances": ["20"],
    "vpc-max-security-groups-per-interface": [String(ctx.quotas.groupsPerInterface)],
    "max-elastic-ips": [String(ctx.quotas.addressesPerRegion)],
    "vpc-max-elastic-ips": [String(ctx.quotas.addressesPerRegion)],
  };
  const wanted = ctx.params.strings("AttributeNames");
  for (const name of wanted)
    if (!Object.hasOwn(attributes, name))
      throw invalidValue(`Value (${name}) for parameter attributeName is invalid.`);
  const names = wanted.length > 0 ? wanted : Object.keys(attributes);
  return {
    AccountAttributes: names.map((name) => ({
      AttributeName: name,
      AttributeValues: (attributes[name] as string[]).map((AttributeValue) => ({ AttributeValue })),
    })),
  };
};

export const vpcActions: Record<string, Action> = {
  CreateVpc: createVpc,
  CreateDefaultVpc: createDefaultVpcAction,
  DeleteVpc: deleteVpc,
  DescribeVpcs: describeVpcs,
  CreateSubnet: createSubnet,
  DeleteSubnet: deleteSubnet,
  DescribeSubnets: describeSubnets,
  DescribeRegions: describeRegions,
  DescribeAvailabilityZones: describeAvailabilityZones,
  DescribeAccountAttributes: describeAccountAttributes,
};
