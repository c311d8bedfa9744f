// Instances (spec 2.12-2.15): RunInstances creates one primary interface per instance, which
// carries the groups; the instance's groupSet is its primary interface's. With a runtime (the
// lab) the server then launches them; without one they are records.

import type { ConnectionTracking } from "../../model/connection-tracking.js";
import { Ec2Error, invalidCombination, invalidValue, missingParameter } from "../../model/errors.js";
import { checkId, newId, notFound } from "../../model/ids.js";
import {
  INSTANCE_STATE_CODES,
  type InstanceRecord,
  type InstanceStateName,
  type NetworkInterfaceRecord,
  type SubnetRecord,
} from "../../model/resources.js";
import { clientTokenOf, madeWithToken, tokenFields } from "../client-token.js";
import { type Action, type ActionContext, presentTags } from "../context.js";
import {
  applyFilters,
  type FilterFields,
  paginate,
  rejectIdsWithMaxResults,
  shown,
  withoutValue,
} from "../filters.js";
import type { Params } from "../params.js";
import { groupByNameInDefaultVpc, requestedIds, requireDefaultVpc, requireOwn } from "./lookup.js";
import {
  allocatePublicIp,
  checkInterfaceDescription,
  createInterface,
  type GroupCheckErrors,
  interfaceFilters,
  interfaceGroups,
  presentInterface,
  privateDnsName,
  publicAddresses,
  refuseInterfaceKinds,
  releaseElasticAssociations,
  requestedAddressCounts,
  requestedConnectionTracking,
  requestedIpv6Addresses,
  requireInterface,
  SubnetAddresses,
  secondaryAddresses,
  withLaunchPublicIp,
} from "./network-interfaces.js";
import { tagsForType, tagsFromSpecifications } from "./tags.js";
import { availabilityZones, TENANCIES } from "./vpcs.js";

const MAX_PER_LAUNCH = 100;

const LAUNCH_GROUP_ERRORS: GroupCheckErrors = {
  otherNetwork: (group, subnet) =>
    new Ec2Error(
      "InvalidParameter",
      `Security group ${group.id} and subnet ${subnet.id} belong to different networks.`,
    ),
  limitCode: "SecurityGroupsPerInstanceLimitExceeded",
};

const requireInstance = (ctx: ActionContext, id: string) => requireOwn(ctx, "instance", id);

function requireInstances(ctx: ActionContext, ids: string[]): InstanceRecord[] {
  for (const id of ids) checkId("instance", id);
  const missing = ids.filter((id) => {
    const record = ctx.tx.get("instance", id);
    return !record || record.account !== ctx.account || record.region !== ctx.region;
  });
  if (missing.length === 1) throw notFound("instance", missing[0] as string);
  if (missing.length > 1) {
    throw new Ec2Error("InvalidInstanceID.NotFound", `The instance IDs '${missing.join(", ")}' do not exist`);
  }
  return ids.map((id) => requireInstance(ctx, id));
}

function defaultSubnet(ctx: ActionContext, zone: string | undefined): SubnetRecord {
  const vpc = requireDefaultVpc(ctx);
  const subnets = [...ctx.tx.scoped("subnet", ctx.account, ctx.region)].filter(
    (s) => s.vpcId === vpc.id && s.defaultForAz,
  );
  const subnet = zone ? subnets.find((s) => s.availabilityZone === zone) : subnets[0];
  if (!subnet) {
    if (zone && !availabilityZones(ctx.region).some((z) => z.name === zone)) {
      throw invalidValue(`Invalid availability zone: [${zone}]`);
    }
    throw new Ec2Error("MissingInput", "No subnets found for the default VPC. Please specify a subnet.");
  }
  return subnet;
}

interface PlannedInterface {
  deviceIndex: number;
  existing?: NetworkInterfaceRecord;
  subnet: SubnetRecord;
  groupIds: string[];
  privateIp?: string;
  secondaryIps: string[];
  secondaryCount?: number;
  ipv6Count?: number;
  ipv6Addresses: string[];
  description?: string;
  associatePublicIp: boolean;
  deleteOnTermination: boolean;
  connectionTracking?: ConnectionTracking;
}

/** What RunInstances was asked for, checked before anything is created. */
function planInterfaces(ctx: ActionContext, count: number): PlannedInterface[] {
  const p = ctx.params;
  const nics = p.list("NetworkInterfaces", "NetworkInterface");
  const groupIds = p.strings("SecurityGroupIds");
  const groupNames = p.strings("SecurityGroups");
  if (nics.length > 0) {
    if (p.has("SubnetId")) {
      throw invalidCombination(
        "Network interfaces and an instance-level subnet ID may not be specified on the same request",
      );
    }
    if (groupIds.length > 0 || groupNames.length > 0) {
      throw invalidCombination(
        "Network interfaces and an instance-level security groups may not be specified on the same request",
      );
    }
    if (p.has("PrivateIpAddress")) {
      throw invalidCombination(
        "Network interfaces and an instance-level private IP address may not be specified on the same request",
      );
    }
    if (p.has("Ipv6Addresses") || p.has("Ipv6AddressCount")) {
      throw invalidCombination(
        "Network interfaces and instance-level IPv6 addresses may not be specified on the same request",
      );
    }
    if (nics.length > 1 && nics.some((nic) => nic.has("AssociatePublicIpAddress"))) {
      throw invalidCombination(
        "The parameter AssociatePublicIpAddress cannot be used with more than one network interface.",
      );
    }
    const planned = nics.map((nic) => planNetworkInterface(ctx, nic, count, nics.length));
    const existing = planned.flatMap((n) => (n.existing ? [n.existing.id] : []));
    const twice = existing.find((id, i) => existing.indexOf(id) !== i);
    if (twice) throw invalidValue(`The network interface '${twice}' is given more than once.`);
    const indexes = new Set(planned.map((n) => n.deviceIndex));
    if (indexes.size !== planned.length)
      throw invalidValue("Each network interface needs its own device index.");
    if (!indexes.has(0)) throw invalidValue("A network interface with device index 0 is required.");
    const vpcs = new Set(planned.map((n) => n.subnet.vpcId));
    if (vpcs.size > 1) throw invalidValue("All network interfaces of an instance must be in the same VPC.");
    // an instance lives in one zone, and AttachNetworkInterface refuses an interface of another
    const zones = new Set(planned.map((n) => n.subnet.availabilityZone));
    if (zones.size > 1) {
      throw invalidCombination(
        "The network interfaces of an instance must be in the same availability zone.",
      );
    }
    return planned.sort((a, b) => a.deviceIndex - b.deviceIndex);
  }
  const subnetId = p.string("SubnetId");
  if (groupNames.length > 0 && subnetId) {
    throw invalidCombination("The parameter groupName cannot be used with the parameter subnet");
  }
  const subnet = subnetId
    ? requireOwn(ctx, "subnet", subnetId)
    : defaultSubnet(ctx, p.struct("Placement")?.string("AvailabilityZone"));
  const ids = [...groupIds, ...groupNames.map((name) => groupByNameInDefaultVpc(ctx, name).id)];
  for (const id of groupIds) {
    if (id === "")
      throw new Ec2Error(
        "MissingParameter",
        "When specifying a security group you must specify a group id for each item",
      );
    checkId("group", id);
    const group = ctx.tx.get("group", id);
    if (!group || group.account !== ctx.account || group.region !== ctx.region) {
      throw new Ec2Error(
        "InvalidGroup.NotFound",
        `The security group '${id}' does not exist in VPC '${subnet.vpcId}'`,
      );
    }
  }
  const privateIp = p.string("PrivateIpAddress");
  if (privateIp && count > 1) {
    throw invalidCombination("PrivateIpAddress cannot be used with a MaxCount greater than 1");
  }
  const ipv6Addresses = requestedIpv6Addresses(p);
  if (ipv6Addresses.length > 0 && count > 1) {
    throw invalidCombination("Ipv6Addresses cannot be used with a MaxCount greater than 1");
  }
  return [
    {
      deviceIndex: 0,
      subnet,
      groupIds: interfaceGroups(ctx, ids, subnet.vpcId, subnet, LAUNCH_GROUP_ERRORS),
      privateIp,
      secondaryIps: [],
      ...requestedAddressCounts(p, [], ipv6Addresses),
      ipv6Addresses,
      associatePublicIp: subnet.mapPublicIpOnLaunch,
      deleteOnTermination: true,
    },
  ];
}

function planNetworkInterface(
  ctx: ActionContext,
  nic: Params,
  count: number,
  nicCount: number,
): PlannedInterface {
  const deviceIndex = nic.int("DeviceIndex");
  if (deviceIndex === undefined) throw invalidValue("Each network interface requires a device index.");
  const existingId = nic.string("NetworkInterfaceId");
  if (existingId) {
    if (count > 1)
      throw invalidCombination("An existing network interface can only be attached to one instance.");
    if (nic.has("Ipv6Addresses") || nic.has("Ipv6AddressCount")) {
      throw invalidCombination(
        "An existing network interface keeps its IPv6 addresses; assign others with AssignIpv6Addresses.",
      );
    }
    if (nic.has("ConnectionTrackingSpecification")) {
      throw invalidCombination(
        "An existing network interface keeps its connection tracking; change it with ModifyNetworkInterfaceAttribute.",
      );
    }
    // the interface outlives the instance it was made without: only one the launch creates may go with it
    if (nic.bool("DeleteOnTermination") === true) {
      throw invalidCombination(
        "DeleteOnTermination can be true only for a network interface the launch creates.",
      );
    }
    if (nic.has("AssociatePublicIpAddress")) {
      throw invalidCombination(
        "A public IPv4 address can only be assigned to a network interface the launch creates.",
      );
    }
    const creationOnly = [
      "SubnetId",
      "PrivateIpAddress",
      "PrivateIpAddresses",
      "SecondaryPrivateIpAddressCount",
      "Description",
      "Groups",
      "InterfaceType",
      "Ipv4Prefixes",
      "Ipv4PrefixCount",
      "Ipv6Prefixes",
      "Ipv6PrefixCount",
      "PrimaryIpv6",
    ].filter((member) => nic.has(member));
    if (creationOnly.length > 0) {
      throw invalidCombination(
        `${creationOnly.map((m) => `${nic.path}.${m}`).join(", ")}: these apply only to a network interface the launch creates, not to ${existingId}.`,
      );
    }
    const existing = requireInterface(ctx, existingId);
    if (existing.attachment)
      throw new Ec2Error("InvalidNetworkInterface.InUse", `Interface: [${existing.id}] in use.`);
    const subnet = requireOwn(ctx, "subnet", existing.subnetId);
    return {
      deviceIndex,
      existing,
      subnet,
      groupIds: [...existing.groupIds],
      secondaryIps: [],
      ipv6Addresses: [],
      associatePublicIp: false,
      deleteOnTermination: nic.bool("DeleteOnTermination") ?? false,
    };
  }
  if (nic.has("AssociatePublicIpAddress") && deviceIndex !== 0) {
    throw invalidCombination(
      "A public IPv4 address can only be assigned to the network interface at device index 0.",
    );
  }
  refuseInterfaceKinds(nic, ["interface", "efa", "efa-only"]);
  const subnetId = nic.string("SubnetId");
  // without a subnet, the default subnet of the zone asked for, as without interfaces
  const subnet = subnetId
    ? requireOwn(ctx, "subnet", subnetId)
    : defaultSubnet(ctx, ctx.params.struct("Placement")?.string("AvailabilityZone"));
  checkInterfaceDescription(nic.string("Description"));
  const { primary, secondary } = secondaryAddresses(nic);
  if ((primary || secondary.length > 0) && count > 1) {
    throw invalidCombination("PrivateIpAddress cannot be used with a MaxCount greater than 1");
  }
  const ipv6Addresses = requestedIpv6Addresses(nic);
  if (ipv6Addresses.length > 0 && count > 1) {
    throw invalidCombination("Ipv6Addresses cannot be used with a MaxCount greater than 1");
  }
  return {
    deviceIndex,
    subnet,
    groupIds: interfaceGroups(ctx, nic.strings("Groups"), subnet.vpcId, subnet, LAUNCH_GROUP_ERRORS),
    privateIp: primary,
    secondaryIps: secondary,
    ...requestedAddressCounts(nic, secondary, ipv6Addresses),
    ipv6Addresses,
    description: nic.string("Description"),
    // a subnet's automatic public address goes to an instance of one interface only, as on EC2
    associatePublicIp: nic.bool("AssociatePublicIpAddress") ?? (nicCount === 1 && subnet.mapPublicIpOnLaunch),
    deleteOnTermination: nic.bool("DeleteOnTermination") ?? true,
    connectionTracking: requestedConnectionTracking(nic),
  };
}

function interfacesOf(ctx: ActionContext, instance: InstanceRecord): NetworkInterfaceRecord[] {
  return instance.interfaceIds
    .map((id) => ctx.tx.get("eni", id))
    .filter((e): e is NetworkInterfaceRecord => e !== undefined);
}

/** The interface at device index 0, whose addresses and groups are the instance's. */
function primaryOf(interfaces: NetworkInterfaceRecord[]): NetworkInterfaceRecord | undefined {
  return interfaces.find((e) => e.attachment?.deviceIndex === 0) ?? interfaces[0];
}

export function presentInstance(ctx: ActionContext, instance: InstanceRecord, state = instance.state) {
  const interfaces = interfacesOf(ctx, instance);
  const primary = primaryOf(interfaces);
  const presented = interfaces.map((e) => presentInterface(ctx, e, true));
  const publicIp = presented.find((_, i) => interfaces[i] === primary)?.Association?.PublicIp;
  const gone = state === "terminated";
  return {
    InstanceId: instance.id,
    ImageId: instance.imageId,
    State: { Code: INSTANCE_STATE_CODES[state], Name: state },
    PrivateDnsName: primary && !gone ? privateDnsName(ctx, primary.privateIps[0] as string) : "",
    PublicDnsName: "",
    StateTransitionReason: instance.stateReason ?? "",
    StateReason:
      instance.stateReason && state !== "running" && state !== "pending" ? USER_SHUTDOWN : undefined,
    KeyName: instance.keyName,
    AmiLaunchIndex: instance.launchIndex,
    ProductCodes: [],
    InstanceType: instance.instanceType,
    LaunchTime: instance.launchTime,
    Placement: {
      AvailabilityZone: instance.availabilityZone,
      GroupName: "",
      Tenancy: instance.tenancy ?? "default",
    },
    Monitoring: { State: "disabled" },
    SubnetId: gone ? undefined : instance.subnetId,
    VpcId: gone ? undefined : instance.vpcId,
    PrivateIpAddress: gone ? undefined : primary?.privateIps[0],
    PublicIpAddress: gone ? undefined : publicIp,
    Architecture: "x86_64",
    RootDeviceType: "ebs",
    RootDeviceName: "/dev/xvda",
    BlockDeviceMappings: [],
    VirtualizationType: "hvm",
    ClientToken: instance.clientToken ?? "",
    Tags: presentTags(instance.tags),
    SecurityGroups: (primary?.groupIds ?? []).map((id) => ({
      GroupId: id,
      GroupName: ctx.tx.get("group", id)?.name,
    })),
    // one attribute on EC2: the primary interface's (spec 3.8)
    SourceDestCheck: primary?.sourceDestCheck,
    Hypervisor: "xen",
    NetworkInterfaces: presented,
    EbsOptimized: false,
    EnaSupport: true,
  };
}

function reservationOf(ctx: ActionContext, instances: InstanceRecord[], state?: InstanceStateName) {
  const first = instances[0] as InstanceRecord;
  return {
    ReservationId: first.reservationId,
    OwnerId: first.account,
    Groups: [],
    Instances: instances.map((i) => presentInstance(ctx, i, state ?? i.state)),
  };
}

const runInstances: Action = (ctx) => {
  const p = ctx.params;
  const minCount = p.requiredInt("MinCount");
  const maxCount = p.requiredInt("MaxCount");
  if (minCount < 1)
    throw invalidValue(`Value (${minCount}) for parameter minCount is invalid. Expected a positive integer.`);
  if (maxCount < minCount) {
    throw invalidValue(
      `Value (${maxCount}) for parameter maxCount is invalid. It must be at least minCount (${minCount}).`,
    );
  }
  if (minCount > MAX_PER_LAUNCH) {
    throw new Ec2Error(
      "InstanceLimitExceeded",
      `You have requested more instances (${minCount}) than your current instance limit of ${MAX_PER_LAUNCH} allows for the specified instance type.`,
    );
  }
  let count = Math.min(maxCount, MAX_PER_LAUNCH);
  const imageId = p.string("ImageId");
  if (!imageId && !p.has("LaunchTemplate")) throw missingParameter("ImageId");
  const clientToken = clientTokenOf(ctx);
  const earlier = madeWithToken(clientToken, ctx.tx.scoped("instance", ctx.account, ctx.region));
  if (earlier) {
    const reservation = [...ctx.tx.scoped("instance", ctx.account, ctx.region)].filter(
      (i) => i.reservationId === earlier.reservationId,
    );
    return reservationOf(ctx, reservation);
  }
  // values before the resources they name are looked up (spec 4.4)
  p.oneOf("InstanceInitiatedShutdownBehavior", ["stop", "terminate"], "instanceInitiatedShutdownBehavior");
  const placement = p.struct("Placement");
  const asked = placement?.oneOf("Tenancy", TENANCIES, "tenancy");
  const plan = planInterfaces(ctx, count);
  const primarySubnet = (plan[0] as PlannedInterface).subnet;
  const zone = placement?.string("AvailabilityZone");
  if (zone !== undefined && zone !== primarySubnet.availabilityZone) {
    throw invalidValue(
      `The subnet ${primarySubnet.id} is in ${primarySubnet.availabilityZone}, not in ${zone} (Placement.AvailabilityZone).`,
    );
  }
  if (asked === "host") {
    throw new Ec2Error(
      "UnsupportedOperation",
      "ringfence has no Dedicated Hosts to launch on (Placement.Tenancy host).",
    );
  }
  // an instance in a dedicated VPC runs on dedicated hardware whatever it asks for
  const tenancy =
    ctx.tx.get("vpc", primarySubnet.vpcId)?.instanceTenancy === "dedicated"
      ? "dedicated"
      : (asked ?? "default");
  const instanceTags = tagsFromSpecifications(ctx, "instance", ["network-interface", "volume"]);
  const interfaceTags = tagsForType(ctx, "network-interface");
  const reservationId = newId("r");
  const launchTime = ctx.now.toISOString();
  const addresses = new Map<string, SubnetAddresses>();
  const addressesOf = (subnet: SubnetRecord) => {
    let allocator = addresses.get(subnet.id);
    if (!allocator) {
      allocator = new SubnetAddresses(ctx, subnet);
      addresses.set(subnet.id, allocator);
    }
    return allocator;
  };
  for (const planned of plan) {
    if (planned.existing) continue;
    // a named address that cannot be had is the answer, before whether the subnet has room
    const ipv4 = planned.privateIp ? [planned.privateIp, ...planned.secondaryIps] : planned.secondaryIps;
    addressesOf(planned.subnet).reserve(ipv4, planned.ipv6Addresses);
  }
  // EC2 launches as many as fit between MinCount and MaxCount.
  const needed = new Map<string, number>();
  for (const planned of plan) {
    if (planned.existing) continue;
    const perInstance = 1 + planned.secondaryIps.length + (planned.secondaryCount ?? 0);
    needed.set(planned.subnet.id, (needed.get(planned.subnet.id) ?? 0) + perInstance);
  }
  for (const planned of plan) {
    const perInstance = needed.get(planned.subnet.id);
    if (perInstance) count = Math.min(count, Math.floor(addressesOf(planned.subnet).free / perInstance));
  }
  if (count < minCount) {
    throw new Ec2Error(
      "InsufficientFreeAddressesInSubnet",
      `The specified subnet does not have enough free addresses to satisfy the request for ${minCount} instance(s).`,
    );
  }
  const instances: InstanceRecord[] = [];
  for (let launchIndex = 0; launchIndex < count; launchIndex++) {
    const instanceId = newId("i");
    const interfaceIds: string[] = [];
    for (const planned of plan) {
      const attachment = {
        id: newId("eni-attach"),
        instanceId,
        deviceIndex: planned.deviceIndex,
        attachTime: launchTime,
        deleteOnTermination: planned.deleteOnTermination,
      };
      const eni = planned.existing
        ? planned.existing
        : createInterface(ctx, {
            subnet: planned.subnet,
            groupIds: planned.groupIds,
            addresses: addressesOf(planned.subnet),
            privateIp: planned.privateIp,
            secondaryIps: planned.secondaryIps,
            secondaryCount: planned.secondaryCount,
            ipv6Count: planned.ipv6Count,
            ipv6Addresses: planned.ipv6Addresses,
            description:
              planned.description ?? (planned.deviceIndex === 0 ? "Primary network interface" : ""),
            publicIp:
              planned.deviceIndex === 0 && planned.associatePublicIp ? allocatePublicIp(ctx) : undefined,
            connectionTracking: planned.connectionTracking,
            tags: interfaceTags,
          });
      ctx.tx.put({ ...eni, attachment });
      interfaceIds.push(eni.id);
    }
    instances.push(
      ctx.tx.put<InstanceRecord>({
        kind: "instance",
        id: instanceId,
        account: ctx.account,
        region: ctx.region,
        tags: instanceTags,
        reservationId,
        imageId: imageId ?? "ami-00000000000000000",
        instanceType: p.string("InstanceType") ?? "t3.micro",
        keyName: p.string("KeyName"),
        state: "running",
        launchTime,
        launchIndex,
        vpcId: primarySubnet.vpcId,
        subnetId: primarySubnet.id,
        availabilityZone: primarySubnet.availabilityZone,
        ...(tenancy === "default" ? {} : { tenancy }),
        interfaceIds,
        ...tokenFields(clientToken),
        disableApiTermination: p.bool("DisableApiTermination") ?? false,
      }),
    );
  }
  // EC2 answers while the instances are still pending; later describes show them running.
  return reservationOf(ctx, instances, "pending");
};

/** The documented instance filters with no value in ringfence's instances: they match nothing. */
const INSTANCE_FILTERS_WITHOUT_VALUE = [
  "affinity",
  "block-device-mapping.attach-time",
  "block-device-mapping.delete-on-termination",
  "block-device-mapping.device-name",
  "block-device-mapping.status",
  "block-device-mapping.volume-id",
  "boot-mode",
  "capacity-reservation-id",
  "capacity-reservation-specification.capacity-reservation-preference",
  "capacity-reservation-specification.capacity-reservation-target.capacity-reservation-id",
  "capacity-reservation-specification.capacity-reservation-target.capacity-reservation-resource-group-arn",
  "current-instance-boot-mode",
  "enclave-options.enabled",
  "hibernation-options.configured",
  "host-id",
  "iam-instance-profile.arn",
  "iam-instance-profile.id",
  "instance-lifecycle",
  // the instance's own IPv6 address is set only with a primary IPv6, which ringfence does not assign
  "ipv6-address",
  "kernel-id",
  "maintenance-options.auto-recovery",
  "metadata-options.http-endpoint",
  "metadata-options.http-protocol-ipv4",
  "metadata-options.http-protocol-ipv6",
  "metadata-options.http-put-response-hop-limit",
  "metadata-options.http-tokens",
  "metadata-options.instance-metadata-tags",
  "metadata-options.state",
  "network-interface.addresses.association.carrier-ip",
  "network-interface.addresses.association.customer-owned-ip",
  "network-interface.addresses.association.public-dns-name",
  "network-interface.association.carrier-ip",
  "network-interface.association.customer-owned-ip",
  "network-interface.deny-all-igw-traffic",
  "network-interface.ipv4-prefixes.ipv4-prefix",
  "network-interface.ipv6-addresses.is-primary-ipv6",
  "network-interface.ipv6-native",
  "network-interface.ipv6-prefixes.ipv6-prefix",
  "network-interface.outpost-arn",
  "network-interface.public-dns-name",
  "network-performance-options.bandwidth-weighting",
  "operator.managed",
  "operator.principal",
  "outpost-arn",
  "placement-partition-number",
  "platform",
  "platform-details",
  "private-dns-name-options.enable-resource-name-dns-a-record",
  "private-dns-name-options.enable-resource-name-dns-aaaa-record",
  "private-dns-name-options.hostname-type",
  "product-code",
  "product-code.type",
  "ramdisk-id",
  "requester-id",
  "spot-instance-request-id",
  "state-reason-code",
  "state-reason-message",
  "tpm-support",
  "usage-operation",
  "usage-operation-update-time",
];

function instanceFilters(ctx: ActionContext): FilterFields<InstanceRecord> {
  const interfaces = (i: InstanceRecord) => interfacesOf(ctx, i);
  const primaryGroups = (i: InstanceRecord) => primaryOf(interfaces(i))?.groupIds ?? [];
  const groupName = (id: string) => ctx.tx.get("group", id)?.name;
  // instance-level values are read from the instance as DescribeInstances shows it, once each
  const presented = new Map<string, ReturnType<typeof presentInstance>>();
  const show = (i: InstanceRecord) => {
    let view = presented.get(i.id);
    if (!view) {
      view = presentInstance(ctx, i);
      presented.set(i.id, view);
    }
    return view;
  };
  // network-interface.NAME is DescribeNetworkInterfaces' NAME over the instance's interfaces
  const perInterface: FilterFields<InstanceRecord> = {};
  for (const [name, values] of Object.entries(interfaceFilters(ctx))) {
    perInterface[`network-interface.${name}`] = (i) => interfaces(i).flatMap((e) => [...values(e)]);
  }
  const alias = (name: string) => perInterface[`network-interface.${name}`] ?? (() => []);
  const ofInterfaces =
    <T>(pick: (e: NetworkInterfaceRecord) => Iterable<T>) =>
    (i: InstanceRecord) =>
      interfaces(i).flatMap((e) => [...pick(e)]);
  return {
    ...withoutValue(...INSTANCE_FILTERS_WITHOUT_VALUE),
    ...perInterface,
    "instance-id": (i) => [i.id],
    "instance-state-name": (i) => [i.state],
    "instance-state-code": (i) => [INSTANCE_STATE_CODES[i.state]],
    "instance-type": (i) => [i.instanceType],
    "image-id": (i) => [i.imageId],
    "key-name": (i) => [i.keyName],
    "reservation-id": (i) => [i.reservationId],
    "owner-id": (i) => [i.account],
    "availability-zone": (i) => [i.availabilityZone],
    "availability-zone-id": (i) => [
      availabilityZones(i.region).find((z) => z.name === i.availabilityZone)?.id,
    ],
    "vpc-id": (i) => [i.vpcId],
    "subnet-id": (i) => [i.subnetId],
    // the instance's own addresses are its primary interface's primary ones (model doc)
    "private-ip-address": (i) => [show(i).PrivateIpAddress],
    "ip-address": (i) => [show(i).PublicIpAddress],
    "private-dns-name": (i) => shown(show(i).PrivateDnsName),
    "dns-name": (i) => shown(show(i).PublicDnsName),
    "launch-time": (i) => [show(i).LaunchTime],
    "launch-index": (i) => [show(i).AmiLaunchIndex],
    reason: (i) => shown(show(i).StateTransitionReason),
    architecture: (i) => [show(i).Architecture],
    hypervisor: (i) => [show(i).Hypervisor],
    "virtualization-type": (i) => [show(i).VirtualizationType],
    "root-device-name": (i) => [show(i).RootDeviceName],
    "root-device-type": (i) => [show(i).RootDeviceType],
    tenancy: (i) => [show(i).Placement.Tenancy],
    "placement-group-name": (i) => shown(show(i).Placement.GroupName),
    "monitoring-state": (i) => [show(i).Monitoring.State],
    "ebs-optimized": (i) => [show(i).EbsOptimized],
    "ena-support": (i) => [show(i).EnaSupport],
    "source-dest-check": (i) => [show(i).SourceDestCheck],
    "instance.group-id": (i) => primaryGroups(i),
    "instance.group-name": (i) => primaryGroups(i).map(groupName),
    "group-id": (i) => primaryGroups(i),
    "group-name": (i) => primaryGroups(i).map(groupName),
    "network-interface.addresses.private-dns-name": ofInterfaces((e) =>
      e.privateIps.map((ip) => privateDnsName(ctx, ip)),
    ),
    // every private address with the public address on it
    "network-interface.addresses.association.ip-owner-id": alias("addresses.association.owner-id"),
    "network-interface.addresses.association.allocation-id": ofInterfaces((e) =>
      publicAddresses(ctx, e).map((a) => a?.elastic?.id),
    ),
    "network-interface.addresses.association.association-id": ofInterfaces((e) =>
      publicAddresses(ctx, e).map((a) => a?.elastic?.association?.id),
    ),
    "network-interface.attachment.network-card-index": ofInterfaces((e) => (e.attachment ? [0] : [])),
    "network-interface.ipv6-address": ofInterfaces((e) => e.ipv6Addresses),
    "network-interface.tag-key": ofInterfaces((e) => Object.keys(e.tags)),
    "network-interface.tag-value": ofInterfaces((e) => Object.values(e.tags)),
    "client-token": (i) => [i.clientToken],
  };
}

const describeInstances: Action = (ctx) => {
  const ids = requestedIds(ctx, "InstanceIds");
  rejectIdsWithMaxResults(ctx, ids, "instancesSet");
  const instances =
    ids.length > 0 ? requireInstances(ctx, ids) : [...ctx.tx.scoped("instance", ctx.account, ctx.region)];
  const filtered = applyFilters(ctx, instances, instanceFilters(ctx));
  const byReservation = new Map<string, InstanceRecord[]>();
  for (const instance of filtered) {
    const list = byReservation.get(instance.reservationId) ?? [];
    list.push(instance);
    byReservation.set(instance.reservationId, list);
  }
  const { page, nextToken } = paginate(
    ctx,
    [...byReservation.values()],
    { min: 5, max: 1000 },
    (list) => (list[0] as InstanceRecord).reservationId,
  );
  return { Reservations: page.map((list) => reservationOf(ctx, list)), NextToken: nextToken };
};

interface Transition {
  from: (state: InstanceStateName) => boolean;
  reported: InstanceStateName;
  stored: InstanceStateName;
  refuse: (id: string) => Ec2Error;
}

function changeState(
  transition: Transition,
  /** What else the change does; returns the instance as it is then (the state is set after). */
  apply?: (ctx: ActionContext, instance: InstanceRecord) => InstanceRecord,
): Action {
  return (ctx) => {
    const ids = requestedIds(ctx, "InstanceIds");
    if (ids.length === 0) throw missingParameter("InstanceId");
    const instances = requireInstances(ctx, ids);
    const changes = instances.map((instance) => {
      const previous = instance.state;
      if (previous === transition.stored) return { instance, previous, current: previous };
      if (!transition.from(previous)) throw transition.refuse(instance.id);
      const changed = apply ? apply(ctx, instance) : instance;
      // EC2 says why an instance is down: the time a user stopped or terminated it
      const stateReason = transition.stored === "running" ? undefined : userInitiated(ctx.now);
      ctx.tx.put({ ...changed, state: transition.stored, stateReason });
      return { instance, previous, current: transition.reported };
    });
    const items = changes.map(({ instance, previous, current }) => ({
      InstanceId: instance.id,
      CurrentState: { Code: INSTANCE_STATE_CODES[current], Name: current },
      PreviousState: { Code: INSTANCE_STATE_CODES[previous], Name: previous },
    }));
    return transition.stored === "terminated"
      ? { TerminatingInstances: items }
      : transition.stored === "stopped"
        ? { StoppingInstances: items }
        : { StartingInstances: items };
  };
}

/** `User initiated (2026-12-02 01:04:05 GMT)`, EC2's stateTransitionReason of a user's stop. */
function userInitiated(now: Date): string {
  return `User initiated (${now.toISOString().slice(0, 19).replace("T", " ")} GMT)`;
}

/** The stateReason of an instance a user stopped or terminated. */
const USER_SHUTDOWN = {
  Code: "Client.UserInitiatedShutdown",
  Message: "Client.UserInitiatedShutdown: User initiated shutdown",
};

function releaseInterfaces(ctx: ActionContext, instance: InstanceRecord): void {
  if (instance.disableApiTermination) {
    throw new Ec2Error(
      "OperationNotPermitted",
      `The instance '${instance.id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
    );
  }
  for (const id of instance.interfaceIds) {
    const eni = ctx.tx.get("eni", id);
    if (!eni) continue;
    if (eni.attachment?.deleteOnTermination) {
      releaseElasticAssociations(ctx, eni.id);
      ctx.tx.delete(eni);
      continue;
    }
    // A kept interface is detached, as DetachNetworkInterface would: its Elastic IPs stay with it,
    // and the public address it was launched with is given back for good.
    const { publicIp: _released, autoPublicIp: _launched, ...detached } = eni;
    ctx.tx.put({ ...detached, attachment: undefined });
  }
}

const terminateInstances = changeState(
  {
    from: (s) => s !== "terminated",
    reported: "shutting-down",
    stored: "terminated",
    refuse: (id) => new Ec2Error("IncorrectInstanceState", `The instance '${id}' is already terminated.`),
  },
  (ctx, instance) => {
    releaseInterfaces(ctx, instance);
    return { ...instance, interfaceIds: [] };
  },
);

const cannotBe = (done: string) => (id: string) =>
  new Ec2Error(
    "IncorrectInstanceState",
    `The instance '${id}' is not in a state from which it can be ${done}.`,
  );

/** A stop releases the public address the instance was launched with (not an Elastic IP). */
const stopInstances = changeState(
  {
    from: (s) => s === "running" || s === "pending" || s === "stopping",
    reported: "stopping",
    stored: "stopped",
    refuse: cannotBe("stopped"),
  },
  (ctx, instance) => {
    for (const eni of interfacesOf(ctx, instance)) {
      if (eni.autoPublicIp && eni.publicIp !== undefined) ctx.tx.put({ ...eni, publicIp: undefined });
    }
    return instance;
  },
);

/** A start hands out a new public address where the instance may have one (withLaunchPublicIp). */
const startInstances = changeState(
  {
    from: (s) => s === "stopped" || s === "stopping",
    reported: "pending",
    stored: "running",
    refuse: cannotBe("started"),
  },
  (ctx, instance) => {
    const running = { ...instance, state: "running" as const };
    for (const eni of interfacesOf(ctx, instance)) {
      const back = withLaunchPublicIp(ctx, eni, running);
      if (back !== eni) ctx.tx.put(back);
    }
    return instance;
  },
);

export function primaryInterface(ctx: ActionContext, instance: InstanceRecord): NetworkInterfaceRecord {
  if (instance.interfaceIds.length > 1) {
    throw new Ec2Error(
      "InvalidInstanceID",
      `There are multiple interfaces attached to instance '${instance.id}'. Please specify an interface ID for the operation instead.`,
    );
  }
  const eni = ctx.tx.get("eni", instance.interfaceIds[0] ?? "");
  if (!eni)
    throw new Ec2Error("IncorrectInstanceState", `The instance '${instance.id}' has no network interface.`);
  return eni;
}

/** The attributes ringfence keeps, and the rest of the model's InstanceAttributeName enum. */
const KEPT_ATTRIBUTES = new Set(["groupSet", "sourceDestCheck", "disableApiTermination", "instanceType"]);
const MODEL_ATTRIBUTES = new Set([
  ...KEPT_ATTRIBUTES,
  "kernel",
  "ramdisk",
  "userData",
  "instanceInitiatedShutdownBehavior",
  "rootDeviceName",
  "blockDeviceMapping",
  "productCodes",
  "ebsOptimized",
  "sriovNetSupport",
  "enaSupport",
  "enclaveOptions",
  "disableApiStop",
]);

const notKept = () =>
  new Ec2Error(
    "UnsupportedOperation",
    "ringfence keeps only the groupSet, sourceDestCheck, disableApiTermination and instanceType attributes of an instance.",
  );

const modifyInstanceAttribute: Action = (ctx) => {
  const instance = requireInstance(ctx, ctx.params.requiredString("InstanceId"));
  const p = ctx.params;
  const groups = p.strings("Groups");
  const attribute = p.string("Attribute");
  const sourceDestCheck = p.attributeValue("SourceDestCheck");
  const disableApiTermination = p.attributeValue("DisableApiTermination");
  const instanceType = p.attributeValue("InstanceType");
  const given = [
    groups.length > 0,
    attribute !== undefined,
    sourceDestCheck !== undefined,
    disableApiTermination !== undefined,
    instanceType !== undefined,
  ];
  const other = [
    "BlockDeviceMappings",
    "EbsOptimized",
    "EnaSupport",
    "InstanceInitiatedShutdownBehavior",
    "Kernel",
    "Ramdisk",
    "SriovNetSupport",
    "UserData",
    "DisableApiStop",
    "EnclaveOptions",
  ].some((m) => p.has(m));
  const count = given.filter(Boolean).length + (other ? 1 : 0);
  if (count === 0) throw invalidCombination("No attributes specified.");
  if (count > 1) throw invalidCombination("Only one attribute can be modified at a time.");
  if (attribute !== undefined && !MODEL_ATTRIBUTES.has(attribute)) {
    throw invalidValue(`Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
  }
  // Accepting a change that is then not kept would tell the caller it happened.
  if (other || (attribute !== undefined && !KEPT_ATTRIBUTES.has(attribute))) throw notKept();
  if (instance.state === "terminated" || instance.state === "shutting-down") {
    throw new Ec2Error(
      "IncorrectInstanceState",
      `The instance '${instance.id}' is not in a valid state for this operation.`,
    );
  }
  if (groups.length > 0) {
    const eni = primaryInterface(ctx, instance);
    const subnet = requireOwn(ctx, "subnet", eni.subnetId);
    const groupIds = interfaceGroups(ctx, groups, eni.vpcId, subnet, {
      otherNetwork: () =>
        new Ec2Error(
          "InvalidGroup.NotFound",
          "You have specified two resources that belong to different networks.",
        ),
      limitCode: "SecurityGroupsPerInstanceLimitExceeded",
    });
    ctx.tx.put({ ...eni, groupIds });
    return {};
  }
  const boolValue = (value: unknown, name: string) => {
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
    throw invalidValue(`Value (${String(value)}) for parameter ${name} is invalid. Expected true or false.`);
  };
  if (sourceDestCheck !== undefined || attribute === "sourceDestCheck") {
    const value = boolValue(sourceDestCheck ?? p.string("Value"), "sourceDestCheck");
    const primary = primaryOf(interfacesOf(ctx, instance));
    if (!primary)
      throw new Ec2Error("IncorrectInstanceState", `The instance '${instance.id}' has no network interface.`);
    ctx.tx.put({ ...primary, sourceDestCheck: value });
  } else if (disableApiTermination !== undefined || attribute === "disableApiTermination") {
    ctx.tx.put({
      ...instance,
      disableApiTermination: boolValue(disableApiTermination ?? p.string("Value"), "disableApiTermination"),
    });
  } else if (instanceType !== undefined || attribute === "instanceType") {
    if (instance.state !== "stopped") {
      throw new Ec2Error(
        "IncorrectInstanceState",
        `The instance '${instance.id}' is not in the 'stopped' state.`,
      );
    }
    ctx.tx.put({ ...instance, instanceType: String(instanceType ?? p.string("Value")) });
  } else if (attribute === "groupSet") {
    throw missingParameter("GroupId");
  }
  return {};
};

const describeInstanceAttribute: Action = (ctx) => {
  const instance = requireInstance(ctx, ctx.params.requiredString("InstanceId"));
  const attribute = ctx.params.requiredString("Attribute");
  const base = { InstanceId: instance.id };
  switch (attribute) {
    case "groupSet": {
      const eni = ctx.tx.get("eni", instance.interfaceIds[0] ?? "");
      return {
        ...base,
        Groups: (eni?.groupIds ?? []).map((id) => ({
          GroupId: id,
          GroupName: ctx.tx.get("group", id)?.name,
        })),
      };
    }
    case "sourceDestCheck":
      return { ...base, SourceDestCheck: { Value: primaryOf(interfacesOf(ctx, instance))?.sourceDestCheck } };
    case "disableApiTermination":
      return { ...base, DisableApiTermination: { Value: instance.disableApiTermination } };
    case "instanceType":
      return { ...base, InstanceType: { Value: instance.instanceType } };
    default:
      if (MODEL_ATTRIBUTES.has(attribute)) throw notKept();
      throw invalidValue(`Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`);
  }
};

export const instanceActions: Record<string, Action> = {
  RunInstances: runInstances,
  DescribeInstances: describeInstances,
  TerminateInstances: terminateInstances,
  StopInstances: stopInstances,
  StartInstances: startInstances,
  ModifyInstanceAttribute: modifyInstanceAttribute,
  DescribeInstanceAttribute: describeInstanceAttribute,
};
