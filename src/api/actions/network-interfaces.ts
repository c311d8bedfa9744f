// Network interfaces: where security groups are attached (spec 3.8). Private IPs come from the
// subnet, skipping the addresses EC2 reserves and those in use; groups must be in the ENI's VPC.

import { randomBytes, randomInt } from "node:crypto";
import { characterCount } from "../../model/characters.js";
import { type ConnectionTracking, connectionTracking } from "../../model/connection-tracking.js";
import { Ec2Error, invalidCombination, invalidValue, missingParameter } from "../../model/errors.js";
import { checkId, newId } from "../../model/ids.js";
import type {
  AddressRecord,
  GroupRecord,
  InstanceRecord,
  NetworkInterfaceRecord,
  SubnetRecord,
  Tags,
} from "../../model/resources.js";
import { formatIpv4, formatIpv6, parseIp } from "../../net/address.js";
import { cidrContains, lastAddress, parseCidr4, parseCidr6 } from "../../net/cidr.js";
import { type ClientTokenUse, clientTokenOf, madeWithToken, tokenFields } from "../client-token.js";
import { type Action, type ActionContext, presentTags } from "../context.js";
import {
  applyFilters,
  byId,
  type FilterFields,
  paginate,
  rejectIdsWithMaxResults,
  withoutValue,
} from "../filters.js";
import type { Params } from "../params.js";
import { defaultGroupOf, requestedIds, requireGroup, requireOwn } from "./lookup.js";
import { tagsFromSpecifications } from "./tags.js";
import { availabilityZones } from "./vpcs.js";

/** Public IPv4 addresses handed out by this server come from 198.18.0.0/15 (RFC 2544, benchmarking). */
const PUBLIC_POOL_BASE = 0xc6120000n;
const PUBLIC_POOL_SIZE = 1n << 17n;

/**
 * A free address of the pool, from a random place in it as EC2's are: an address just released
 * (at a stop, or when an Elastic IP took its place) is not the next one handed out.
 */
export function allocatePublicIp(ctx: ActionContext): string {
  const used = new Set<string>();
  for (const eni of ctx.tx.all("eni")) if (eni.publicIp) used.add(eni.publicIp);
  for (const address of ctx.tx.all("address")) used.add(address.publicIp);
  // the pool's first and last addresses are its network and broadcast addresses
  const usable = PUBLIC_POOL_SIZE - 2n;
  const start = BigInt(randomInt(Number(usable)));
  for (let k = 0n; k < usable; k++) {
    const ip = formatIpv4(PUBLIC_POOL_BASE + 1n + ((start + k) % usable));
    if (!used.has(ip)) return ip;
  }
  throw new Ec2Error("AddressLimitExceeded", "The maximum number of addresses has been reached.");
}

/**
 * The interface with a new Amazon public address where it was launched with one, has none now,
 * and may have one: its instance is running (or starting), has no other interface, and no Elastic
 * IP is on the primary private address. EC2 releases the address on a stop and when an Elastic IP
 * takes its place, and hands out a new one on the next start or when the Elastic IP leaves; never
 * to an instance with a second interface (EC2 user guide, "Public IPv4 addresses").
 */
export function withLaunchPublicIp(
  ctx: ActionContext,
  eni: NetworkInterfaceRecord,
  instance: InstanceRecord | undefined,
): NetworkInterfaceRecord {
  if (!eni.autoPublicIp || eni.publicIp !== undefined || !instance) return eni;
  if (instance.state !== "running" && instance.state !== "pending") return eni;
  if (instance.interfaceIds.length !== 1) return eni;
  for (const address of ctx.tx.all("address")) {
    const association = address.association;
    if (association?.networkInterfaceId === eni.id && association.privateIp === eni.privateIps[0]) return eni;
  }
  return { ...eni, publicIp: allocatePublicIp(ctx) };
}

/** Hands out a subnet's free private addresses; one per request and subnet, so it sees its own grants. */
export class SubnetAddresses {
  private readonly used = new Set<string>();
  /** Addresses the request names for some interface: automatic ones pass them by. */
  private readonly reserved = new Set<string>();
  private readonly first: bigint;
  private readonly last: bigint;
  /**
   * Where the search for the next free address goes on: addresses are only taken during a
   * request, never given back, so nothing before it is free (a request for thousands of addresses
   * scans the subnet once, not once per address).
   */
  private nextIpv4: bigint;
  private nextIpv6Offset = 4n;

  constructor(
    ctx: ActionContext,
    readonly subnet: SubnetRecord,
  ) {
    const cidr = parseCidr4(subnet.cidr)?.cidr;
    if (!cidr) throw new Ec2Error("InternalError", `subnet ${subnet.id} has no IPv4 CIDR`);
    // EC2 reserves the first four addresses and the last one of every subnet.
    this.first = cidr.base + 4n;
    this.last = lastAddress(cidr) - 1n;
    this.nextIpv4 = this.first;
    for (const eni of ctx.tx.all("eni")) {
      if (eni.subnetId === subnet.id)
        for (const ip of [...eni.privateIps, ...eni.ipv6Addresses]) this.used.add(ip);
    }
  }

  /**
   * Keeps addresses that the request names for its interfaces out of the automatic ones, so that
   * an earlier interface's automatic address cannot take what a later interface asks for. A named
   * address this subnet cannot give is refused here, before anything is handed out.
   */
  reserve(ipv4: readonly string[], ipv6: readonly string[]): void {
    for (const text of ipv4) this.reserved.add(this.check(text));
    for (const text of ipv6) this.reserved.add(this.checkIpv6(text));
  }

  private isFree(text: string): boolean {
    return !this.used.has(text) && !this.reserved.has(text);
  }

  claim(requested: string): string {
    const text = this.check(requested);
    this.used.add(text);
    return text;
  }

  /** A requested IPv4 address in its canonical form, if it is one this subnet can give. */
  check(requested: string): string {
    const ip = parseIp(requested);
    const cidr = parseCidr4(this.subnet.cidr)?.cidr;
    if (ip?.family !== 4)
      throw invalidValue(`Value (${requested}) for parameter privateIpAddress is invalid.`);
    if (!cidr || !cidrContains(cidr, ip)) {
      throw invalidValue(`Address ${requested} does not fall within the subnet's address range`);
    }
    const text = formatIpv4(ip.value);
    if (ip.value < this.first || ip.value > this.last) {
      throw invalidValue(`Address ${text} is reserved by EC2 in subnet ${this.subnet.id}`);
    }
    if (this.used.has(text)) throw new Ec2Error("InvalidIPAddress.InUse", `Address ${text} is in use.`);
    return text;
  }

  /** How many addresses are still free. */
  get free(): number {
    let used = 0;
    for (const ip of this.used) {
      const value = parseIp(ip);
      if (value?.family === 4 && value.value >= this.first && value.value <= this.last) used++;
    }
    return Number(this.last - this.first + 1n) - used;
  }

  next(): string {
    for (; this.nextIpv4 <= this.last; this.nextIpv4++) {
      const text = formatIpv4(this.nextIpv4);
      if (this.isFree(text)) {
        this.used.add(text);
        return text;
      }
    }
    throw new Ec2Error(
      "InsufficientFreeAddressesInSubnet",
      `The specified subnet ${this.subnet.id} does not have enough free addresses to satisfy the request.`,
    );
  }

  /** A requested IPv6 address: in the subnet's IPv6 CIDR, not one of its reserved ends, not in use. */
  claimIpv6(requested: string): string {
    const text = this.checkIpv6(requested);
    this.used.add(text);
    return text;
  }

  /** A requested IPv6 address in its canonical form, if it is one this subnet can give. */
  checkIpv6(requested: string): string {
    const ip = parseIp(requested);
    if (ip?.family !== 6) throw invalidValue(`Value (${requested}) for parameter ipv6Address is invalid.`);
    const cidr = this.subnet.ipv6Cidr ? parseCidr6(this.subnet.ipv6Cidr)?.cidr : undefined;
    if (!cidr) throw invalidValue(`The subnet ${this.subnet.id} has no IPv6 CIDR block.`);
    if (!cidrContains(cidr, ip)) {
      throw invalidValue(`Address ${requested} does not fall within the subnet's address range`);
    }
    const text = formatIpv6(ip.value);
    // EC2 reserves the first four and the last address of a subnet's IPv6 block as of its IPv4 one
    if (ip.value < cidr.base + 4n || ip.value === lastAddress(cidr)) {
      throw invalidValue(`Address ${text} is reserved by EC2 in subnet ${this.subnet.id}`);
    }
    if (this.used.has(text)) throw new Ec2Error("InvalidIPAddress.InUse", `Address ${text} is in use.`);
    return text;
  }

  nextIpv6(): string {
    const cidr = this.subnet.ipv6Cidr ? parseCidr6(this.subnet.ipv6Cidr)?.cidr : undefined;
    if (!cidr) throw invalidValue(`The subnet ${this.subnet.id} has no IPv6 CIDR block.`);
    for (; this.nextIpv6Offset < 1n << 16n; this.nextIpv6Offset++) {
      const text = formatIpv6(cidr.base + this.nextIpv6Offset);
      if (this.isFree(text)) {
        this.used.add(text);
        return text;
      }
    }
    throw new Ec2Error("InsufficientFreeAddressesInSubnet", `No free IPv6 address in ${this.subnet.id}.`);
  }
}

export interface GroupCheckErrors {
  /** The error for a group of another VPC. */
  otherNetwork: (group: GroupRecord, subnet: SubnetRecord) => Ec2Error;
  /** The error code when there are more groups than an interface takes. */
  limitCode: "SecurityGroupsPerInterfaceLimitExceeded" | "SecurityGroupsPerInstanceLimitExceeded";
}

export const INTERFACE_GROUP_ERRORS: GroupCheckErrors = {
  otherNetwork: () =>
    new Ec2Error(
      "InvalidGroup.NotFound",
      "You have specified two resources that belong to different networks.",
    ),
  limitCode: "SecurityGroupsPerInterfaceLimitExceeded",
};

/** The group set of an interface: ids only, all in the VPC, within the quota, default group if none. */
export function interfaceGroups(
  ctx: ActionContext,
  ids: string[],
  vpcId: string,
  subnet: SubnetRecord,
  errors: GroupCheckErrors,
): string[] {
  if (ids.length === 0) return [defaultGroupOf(ctx, vpcId).id];
  const unique = [...new Set(ids)];
  for (const id of unique) {
    if (id === "")
      throw new Ec2Error(
        "MissingParameter",
        "When specifying a security group you must specify a group id for each item",
      );
    const group = requireGroup(ctx, id);
    if (group.vpcId !== vpcId) throw errors.otherNetwork(group, subnet);
  }
  if (unique.length > ctx.quotas.groupsPerInterface) {
    const noun = errors.limitCode === "SecurityGroupsPerInstanceLimitExceeded" ? "instance" : "interface";
    throw new Ec2Error(
      errors.limitCode,
      `The maximum number of security groups per ${noun} has been reached.`,
    );
  }
  return unique;
}

export interface InterfaceSpec {
  subnet: SubnetRecord;
  groupIds: string[];
  addresses: SubnetAddresses;
  privateIp?: string;
  secondaryIps?: string[];
  secondaryCount?: number;
  ipv6Count?: number;
  ipv6Addresses?: string[];
  description?: string;
  publicIp?: string;
  connectionTracking?: ConnectionTracking;
  tags: Tags;
  clientToken?: ClientTokenUse;
}

export function createInterface(ctx: ActionContext, spec: InterfaceSpec): NetworkInterfaceRecord {
  // every named address before any automatic one, so that none of the latter takes a named one
  const named = spec.privateIp ? spec.addresses.claim(spec.privateIp) : undefined;
  const secondary = (spec.secondaryIps ?? []).map((ip) => spec.addresses.claim(ip));
  const ipv6 = (spec.ipv6Addresses ?? []).map((ip) => spec.addresses.claimIpv6(ip));
  const primary = named ?? spec.addresses.next();
  for (let i = 0; i < (spec.secondaryCount ?? 0); i++) secondary.push(spec.addresses.next());
  for (let i = 0; i < (spec.ipv6Count ?? 0); i++) ipv6.push(spec.addresses.nextIpv6());
  return ctx.tx.put<NetworkInterfaceRecord>({
    kind: "eni",
    id: newId("eni"),
    account: ctx.account,
    region: ctx.region,
    tags: spec.tags,
    vpcId: spec.subnet.vpcId,
    subnetId: spec.subnet.id,
    availabilityZone: spec.subnet.availabilityZone,
    description: spec.description ?? "",
    privateIps: [primary, ...secondary],
    ipv6Addresses: ipv6,
    groupIds: spec.groupIds,
    macAddress: `02:${[...randomBytes(5)].map((b) => b.toString(16).padStart(2, "0")).join(":")}`,
    sourceDestCheck: true,
    interfaceType: "interface",
    ...(spec.publicIp ? { publicIp: spec.publicIp, autoPublicIp: true } : {}),
    ...(spec.connectionTracking ? { connectionTracking: spec.connectionTracking } : {}),
    ...tokenFields(spec.clientToken),
  });
}

/** `ConnectionTrackingSpecification` of a request (RunInstances' NetworkInterface.N, Create, Modify). */
export function requestedConnectionTracking(
  params: Params,
  current?: ConnectionTracking,
): ConnectionTracking | undefined {
  const spec = params.struct("ConnectionTrackingSpecification");
  if (!spec) return current;
  return connectionTracking((wire) => spec.int(wire), current);
}

export function privateDnsName(ctx: ActionContext, ip: string): string {
  const suffix = ctx.region === "us-east-1" ? "ec2.internal" : `${ctx.region}.compute.internal`;
  return `ip-${ip.replace(/\./g, "-")}.${suffix}`;
}

function groupIdentifiers(ctx: ActionContext, ids: readonly string[]) {
  return ids.map((id) => ({ GroupId: id, GroupName: ctx.tx.get("group", id)?.name }));
}

/** The public address on a private address: an Elastic IP (with its record), or Amazon's. */
interface PublicAddress {
  readonly publicIp: string;
  readonly elastic?: AddressRecord;
}

/**
 * The public address on each private address of the interface, in their order. An Elastic IP
 * belongs to the private address it is associated with; the address the interface was launched
 * with, to its primary one.
 */
export function publicAddresses(
  ctx: ActionContext,
  eni: NetworkInterfaceRecord,
): (PublicAddress | undefined)[] {
  const elastic = new Map<string, AddressRecord>();
  for (const address of ctx.tx.all("address")) {
    if (address.association?.networkInterfaceId === eni.id)
      elastic.set(address.association.privateIp, address);
  }
  return eni.privateIps.map((ip, i) => {
    const address = elastic.get(ip);
    if (address) return { publicIp: address.publicIp, elastic: address };
    return i === 0 && eni.publicIp ? { publicIp: eni.publicIp } : undefined;
  });
}

const ownerOf = (ctx: ActionContext, address: PublicAddress | undefined) =>
  address === undefined ? undefined : address.elastic ? ctx.account : "amazon";

/** The public address of the interface, and of its instance: the one on its primary private address. */
export function publicIpOf(ctx: ActionContext, eni: NetworkInterfaceRecord): string | undefined {
  return publicAddresses(ctx, eni)[0]?.publicIp;
}

/** The interface as DescribeNetworkInterfaces shows it (or, with `forInstance`, inside an instance). */
export function presentInterface(ctx: ActionContext, eni: NetworkInterfaceRecord, forInstance = false) {
  const publics = publicAddresses(ctx, eni);
  // the interface's own shape names the Elastic IP; the one inside an instance does not
  const associationOf = (address: PublicAddress | undefined) =>
    address && {
      PublicIp: address.publicIp,
      PublicDnsName: "",
      IpOwnerId: ownerOf(ctx, address),
      ...(forInstance
        ? {}
        : { AllocationId: address.elastic?.id, AssociationId: address.elastic?.association?.id }),
    };
  const attachment = eni.attachment
    ? {
        AttachmentId: eni.attachment.id,
        AttachTime: eni.attachment.attachTime,
        DeleteOnTermination: eni.attachment.deleteOnTermination,
        DeviceIndex: eni.attachment.deviceIndex,
        NetworkCardIndex: 0,
        Status: "attached",
        ...(forInstance ? {} : { InstanceId: eni.attachment.instanceId, InstanceOwnerId: ctx.account }),
      }
    : undefined;
  const common = {
    NetworkInterfaceId: eni.id,
    SubnetId: eni.subnetId,
    VpcId: eni.vpcId,
    Description: eni.description,
    OwnerId: eni.account,
    Status: eni.attachment ? "in-use" : "available",
    MacAddress: eni.macAddress,
    PrivateIpAddress: eni.privateIps[0],
    PrivateDnsName: privateDnsName(ctx, eni.privateIps[0] as string),
    SourceDestCheck: eni.sourceDestCheck,
    Groups: groupIdentifiers(ctx, eni.groupIds),
    Attachment: attachment,
    Association: associationOf(publics[0]),
    PrivateIpAddresses: eni.privateIps.map((ip, i) => {
      return {
        PrivateIpAddress: ip,
        PrivateDnsName: privateDnsName(ctx, ip),
        Primary: i === 0,
        Association: associationOf(publics[i]),
      };
    }),
    Ipv6Addresses: eni.ipv6Addresses.map((Ipv6Address) => ({ Ipv6Address })),
    InterfaceType: eni.interfaceType,
    ConnectionTrackingConfiguration: eni.connectionTracking && {
      TcpEstablishedTimeout: eni.connectionTracking.tcpEstablishedTimeout,
      UdpStreamTimeout: eni.connectionTracking.udpStreamTimeout,
      UdpTimeout: eni.connectionTracking.udpTimeout,
    },
  };
  if (forInstance) return common;
  return {
    ...common,
    AvailabilityZone: eni.availabilityZone,
    RequesterManaged: false,
    TagSet: presentTags(eni.tags) ?? [],
  };
}

/** Interfaces of an instance, or of a NetworkInterfaceId, for group changes and address associations. */
export const requireInterface = (ctx: ActionContext, id: string) => requireOwn(ctx, "networkInterface", id);

/** `Ipv6Addresses.N.Ipv6Address` of a request, refused together with `Ipv6AddressCount`. */
export function requestedIpv6Addresses(params: Params): string[] {
  const addresses = params
    .list("Ipv6Addresses")
    .map((entry) => entry.requiredString("Ipv6Address", `${entry.path}.Ipv6Address`));
  if (addresses.length > 0 && params.has("Ipv6AddressCount")) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "The parameter Ipv6AddressCount cannot be used with the parameter Ipv6Addresses",
    );
  }
  return addresses;
}

/**
 * The most addresses of each family one interface takes: what the largest EC2 instance types
 * allow (ringfence has no instance types to tell smaller ones apart).
 */
export const MAX_ADDRESSES_PER_INTERFACE = 50;

/**
 * `SecondaryPrivateIpAddressCount` and `Ipv6AddressCount` of a request, checked together with the
 * addresses it names for the same interface.
 */
export function requestedAddressCounts(
  params: Params,
  secondary: readonly string[],
  ipv6: readonly string[],
): { secondaryCount?: number; ipv6Count?: number } {
  const secondaryCount = params.int("SecondaryPrivateIpAddressCount");
  const ipv6Count = params.int("Ipv6AddressCount");
  for (const [name, n] of [
    ["SecondaryPrivateIpAddressCount", secondaryCount],
    ["Ipv6AddressCount", ipv6Count],
  ] as const) {
    if (n !== undefined && n < 0) throw invalidValue(`Value (${n}) for parameter ${name} is invalid.`);
  }
  if (secondaryCount !== undefined && params.list("PrivateIpAddresses").length > 1) {
    throw invalidCombination(
      "The parameter SecondaryPrivateIpAddressCount cannot be used with more than one address in PrivateIpAddresses",
    );
  }
  if (1 + secondary.length + (secondaryCount ?? 0) > MAX_ADDRESSES_PER_INTERFACE) {
    throw new Ec2Error(
      "PrivateIpAddressLimitExceeded",
      `A network interface may have at most ${MAX_ADDRESSES_PER_INTERFACE} private IPv4 addresses.`,
    );
  }
  if (ipv6.length + (ipv6Count ?? 0) > MAX_ADDRESSES_PER_INTERFACE) {
    throw invalidValue(`A network interface may have at most ${MAX_ADDRESSES_PER_INTERFACE} IPv6 addresses.`);
  }
  return { secondaryCount, ipv6Count };
}

/** An interface's description, wherever it is given, has at most 255 characters. */
export function checkInterfaceDescription(description: unknown): void {
  if (typeof description === "string" && characterCount(description) > 255)
    throw invalidValue("The description may have at most 255 characters.");
}

export function secondaryAddresses(params: Params): { primary?: string; secondary: string[] } {
  let primary = params.string("PrivateIpAddress");
  const secondary: string[] = [];
  for (const entry of params.list("PrivateIpAddresses")) {
    const ip = entry.string("PrivateIpAddress");
    if (!ip) throw missingParameter(`${entry.path}.PrivateIpAddress`);
    if (entry.bool("Primary") === true) {
      if (primary && primary !== ip) throw invalidValue("Only one primary private IP address may be given.");
      primary = ip;
    } else secondary.push(ip);
  }
  return { primary, secondary };
}

/**
 * What a new interface may ask for that ringfence does not make: another type than the standard
 * one (`interface`, which RunInstances may name and CreateNetworkInterface may not), delegated
 * prefixes. `types` are the values the action's model lists.
 */
export function refuseInterfaceKinds(params: Params, types: readonly string[]): void {
  const type = params.oneOf("InterfaceType", types, "interfaceType");
  if (type !== undefined && type !== "interface") {
    throw new Ec2Error(
      "UnsupportedOperation",
      "ringfence makes standard network interfaces (interfaceType interface) only, not EFA, branch or trunk interfaces.",
    );
  }
  params.refuseUnkept(
    ["Ipv4Prefixes", "Ipv4PrefixCount", "Ipv6Prefixes", "Ipv6PrefixCount"],
    "an interface has addresses, not delegated prefixes",
  );
}

const createNetworkInterface: Action = (ctx) => {
  refuseInterfaceKinds(ctx.params, ["efa", "efa-only", "branch", "trunk"]);
  const subnet = requireOwn(ctx, "subnet", ctx.params.requiredString("SubnetId")) as SubnetRecord;
  const clientToken = clientTokenOf(ctx);
  const earlier = madeWithToken(clientToken, ctx.tx.scoped("eni", ctx.account, ctx.region));
  if (earlier) return { NetworkInterface: presentInterface(ctx, earlier), ClientToken: clientToken?.token };
  const groupIds = interfaceGroups(
    ctx,
    ctx.params.strings("Groups"),
    subnet.vpcId,
    subnet,
    INTERFACE_GROUP_ERRORS,
  );
  const { primary, secondary } = secondaryAddresses(ctx.params);
  const ipv6Addresses = requestedIpv6Addresses(ctx.params);
  const counts = requestedAddressCounts(ctx.params, secondary, ipv6Addresses);
  const description = ctx.params.string("Description");
  checkInterfaceDescription(description);
  const eni = createInterface(ctx, {
    subnet,
    groupIds,
    addresses: new SubnetAddresses(ctx, subnet),
    privateIp: primary,
    secondaryIps: secondary,
    ...counts,
    ipv6Addresses,
    description,
    connectionTracking: requestedConnectionTracking(ctx.params),
    tags: tagsFromSpecifications(ctx, "network-interface"),
    clientToken,
  });
  return { NetworkInterface: presentInterface(ctx, eni), ClientToken: clientToken?.token };
};

/** Drops Elastic IP associations of an interface that is going away. */
export function releaseElasticAssociations(ctx: ActionContext, eniId: string): void {
  for (const address of ctx.tx.all("address")) {
    if (address.association?.networkInterfaceId === eniId) ctx.tx.put({ ...address, association: undefined });
  }
}

const deleteNetworkInterface: Action = (ctx) => {
  const eni = requireInterface(ctx, ctx.params.requiredString("NetworkInterfaceId"));
  if (eni.attachment) {
    throw new Ec2Error(
      "InvalidNetworkInterface.InUse",
      `The network interface '${eni.id}' is currently in use.`,
    );
  }
  releaseElasticAssociations(ctx, eni.id);
  ctx.tx.delete(eni);
  return {};
};

/** DescribeNetworkInterfaces' filters; DescribeInstances has them as `network-interface.NAME`. */
export const interfaceFilters = (ctx: ActionContext): FilterFields<NetworkInterfaceRecord> => ({
  "network-interface-id": (e) => [e.id],
  "group-id": (e) => e.groupIds,
  "group-name": (e) => e.groupIds.map((id) => ctx.tx.get("group", id)?.name),
  "vpc-id": (e) => [e.vpcId],
  "subnet-id": (e) => [e.subnetId],
  "availability-zone": (e) => [e.availabilityZone],
  "availability-zone-id": (e) => [availabilityZones(e.region).find((z) => z.name === e.availabilityZone)?.id],
  "private-ip-address": (e) => e.privateIps,
  "private-dns-name": (e) => [privateDnsName(ctx, e.privateIps[0] as string)],
  "addresses.private-ip-address": (e) => e.privateIps,
  "addresses.primary": (e) => e.privateIps.map((_, i) => i === 0),
  // each private address with the public address on it
  "addresses.association.public-ip": (e) => publicAddresses(ctx, e).map((a) => a?.publicIp),
  "addresses.association.owner-id": (e) => publicAddresses(ctx, e).map((a) => ownerOf(ctx, a)),
  "ipv6-addresses.ipv6-address": (e) => e.ipv6Addresses,
  "attachment.instance-id": (e) => [e.attachment?.instanceId],
  "attachment.device-index": (e) => [e.attachment?.deviceIndex],
  "attachment.attachment-id": (e) => [e.attachment?.id],
  "attachment.attach-time": (e) => [e.attachment?.attachTime],
  "attachment.status": (e) => [e.attachment ? "attached" : undefined],
  "attachment.instance-owner-id": (e) => [e.attachment ? e.account : undefined],
  "attachment.delete-on-termination": (e) => [e.attachment?.deleteOnTermination],
  status: (e) => [e.attachment ? "in-use" : "available"],
  description: (e) => [e.description],
  "interface-type": (e) => [e.interfaceType],
  "requester-managed": () => [false],
  "mac-address": (e) => [e.macAddress],
  "owner-id": (e) => [e.account],
  "source-dest-check": (e) => [e.sourceDestCheck],
  "association.public-ip": (e) => [publicIpOf(ctx, e)],
  "association.ip-owner-id": (e) => [ownerOf(ctx, publicAddresses(ctx, e)[0])],
  "association.allocation-id": (e) => [publicAddresses(ctx, e)[0]?.elastic?.id],
  "association.association-id": (e) => [publicAddresses(ctx, e)[0]?.elastic?.association?.id],
  ...withoutValue("association.public-dns-name", "requester-id", "operator.managed", "operator.principal"),
});

const describeNetworkInterfaces: Action = (ctx) => {
  const ids = requestedIds(ctx, "NetworkInterfaceIds");
  rejectIdsWithMaxResults(ctx, ids, "networkInterfaceIdSet");
  const enis =
    ids.length > 0
      ? ids.map((id) => requireInterface(ctx, id))
      : [...ctx.tx.scoped("eni", ctx.account, ctx.region)];
  const { page, nextToken } = paginate(
    ctx,
    applyFilters(ctx, enis, interfaceFilters(ctx)),
    { min: 5, max: 1000 },
    byId,
  );
  return { NetworkInterfaces: page.map((e) => presentInterface(ctx, e)), NextToken: nextToken };
};

const modifyNetworkInterfaceAttribute: Action = (ctx) => {
  const eni = requireInterface(ctx, ctx.params.requiredString("NetworkInterfaceId"));
  const p = ctx.params;
  const groups = p.strings("Groups");
  const description = p.attributeValue("Description");
  checkInterfaceDescription(description);
  const sourceDestCheck = p.attributeValue("SourceDestCheck");
  const attachment = p.struct("Attachment");
  const tracking = p.struct("ConnectionTrackingSpecification");
  const given = [
    groups.length > 0,
    description !== undefined,
    sourceDestCheck !== undefined,
    attachment !== undefined,
    tracking !== undefined,
  ];
  // accepting a change that is then not kept would tell the caller it happened
  if (p.has("EnaSrdSpecification") || p.has("AssociatePublicIpAddress")) {
    throw new Ec2Error(
      "UnsupportedOperation",
      "ringfence keeps the groups, description, source/destination check, attachment and connection tracking of an interface, not EnaSrdSpecification or AssociatePublicIpAddress.",
    );
  }
  const count = given.filter(Boolean).length;
  if (count === 0) throw invalidCombination("No attributes specified.");
  // the model: "You can specify only one attribute at a time"
  if (count > 1) throw invalidCombination("Only one attribute can be modified at a time.");
  let updated = eni;
  if (tracking) {
    const merged = requestedConnectionTracking(p, eni.connectionTracking);
    if (merged) updated = { ...updated, connectionTracking: merged };
  }
  if (groups.length > 0) {
    const subnet = requireOwn(ctx, "subnet", eni.subnetId);
    updated = {
      ...updated,
      groupIds: interfaceGroups(ctx, groups, eni.vpcId, subnet, INTERFACE_GROUP_ERRORS),
    };
  }
  if (description !== undefined) updated = { ...updated, description: String(description) };
  if (sourceDestCheck !== undefined) {
    if (typeof sourceDestCheck !== "boolean")
      throw invalidValue("SourceDestCheck.Value must be true or false.");
    updated = { ...updated, sourceDestCheck };
  }
  if (attachment) {
    const attachmentId = attachment.requiredString("AttachmentId", "Attachment.AttachmentId");
    if (!updated.attachment || updated.attachment.id !== attachmentId) {
      throw new Ec2Error(
        "InvalidAttachmentID.NotFound",
        `The attachment ID '${attachmentId}' does not exist`,
      );
    }
    const deleteOnTermination = attachment.bool("DeleteOnTermination");
    if (deleteOnTermination !== undefined) {
      updated = { ...updated, attachment: { ...updated.attachment, deleteOnTermination } };
    }
  }
  ctx.tx.put(updated);
  return {};
};

const attachNetworkInterface: Action = (ctx) => {
  const eni = requireInterface(ctx, ctx.params.requiredString("NetworkInterfaceId"));
  const instance = requireOwn(ctx, "instance", ctx.params.requiredString("InstanceId"));
  const deviceIndex = ctx.params.requiredInt("DeviceIndex");
  if (eni.attachment) {
    throw new Ec2Error("InvalidNetworkInterface.InUse", `Interface: [${eni.id}] in use.`);
  }
  if (instance.state === "terminated" || instance.state === "shutting-down") {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `The instance '${instance.id}' is not in a valid state for this operation.`,
    );
  }
  if (eni.vpcId !== instance.vpcId || eni.availabilityZone !== instance.availabilityZone) {
    throw new Ec2Error(
      "InvalidParameterCombination",
      "The network interface and the instance must be in the same VPC and availability zone.",
    );
  }
  if (deviceIndex < 1 || deviceIndex > 15)
    throw invalidValue(`Value (${deviceIndex}) for parameter deviceIndex is invalid.`);
  for (const id of instance.interfaceIds) {
    if (ctx.tx.get("eni", id)?.attachment?.deviceIndex === deviceIndex) {
      throw new Ec2Error(
        "InvalidParameterValue",
        `Instance '${instance.id}' already has an interface attached at device index '${deviceIndex}'.`,
      );
    }
  }
  const attachmentId = newId("eni-attach");
  ctx.tx.put({
    ...eni,
    attachment: {
      id: attachmentId,
      instanceId: instance.id,
      deviceIndex,
      attachTime: ctx.now.toISOString(),
      deleteOnTermination: false,
    },
  });
  ctx.tx.put({ ...instance, interfaceIds: [...instance.interfaceIds, eni.id] });
  return { AttachmentId: attachmentId, NetworkCardIndex: 0 };
};

const detachNetworkInterface: Action = (ctx) => {
  const attachmentId = ctx.params.requiredString("AttachmentId");
  checkId("attachment", attachmentId);
  const eni = [...ctx.tx.scoped("eni", ctx.account, ctx.region)].find(
    (e) => e.attachment?.id === attachmentId,
  );
  if (!eni?.attachment)
    throw new Ec2Error("InvalidAttachmentID.NotFound", `The attachment ID '${attachmentId}' does not exist`);
  if (eni.attachment.deviceIndex === 0) {
    throw new Ec2Error(
      "OperationNotPermitted",
      "The network interface at device index 0 cannot be detached.",
    );
  }
  const instance = ctx.tx.get("instance", eni.attachment.instanceId);
  if (instance)
    ctx.tx.put({ ...instance, interfaceIds: instance.interfaceIds.filter((id) => id !== eni.id) });
  ctx.tx.put({ ...eni, attachment: undefined });
  return {};
};

export const networkInterfaceActions: Record<string, Action> = {
  CreateNetworkInterface: createNetworkInterface,
  DeleteNetworkInterface: deleteNetworkInterface,
  DescribeNetworkInterfaces: describeNetworkInterfaces,
  ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
  AttachNetworkInterface: attachNetworkInterface,
  DetachNetworkInterface: detachNetworkInterface,
};
