// One AWS describe-* response body (the JSON `aws ec2 describe-*` prints, or what boto3/the SDK
// returns) into Estate parts. The response kind is told by its top-level key, never by the file
// name. Every field is checked on the way in, and a bad one is reported by file and path, e.g.
// `SecurityGroups.json: SecurityGroups[3].IpPermissions[0].IpRanges[1].CidrIp: "10.0.0/8" is not a CIDR`.

import { createHash } from "node:crypto";
import type {
  ElasticAddress,
  Instance,
  NetworkAcl,
  NetworkAclEntry,
  NetworkInterface,
  PrefixList,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
} from "../model/estate.js";
import { parseIp } from "../net/address.js";
import { canonicalCidr } from "../net/cidr.js";
import { normaliseRuleProtocol } from "../net/protocol.js";

export class ImportError extends Error {}

/** Estate parts read from one or more responses, before merging. */
export interface EstateParts {
  vpcs: Vpc[];
  subnets: Subnet[];
  securityGroups: SecurityGroup[];
  networkInterfaces: NetworkInterface[];
  /** Interfaces as DescribeInstances shows them; DescribeNetworkInterfaces wins over these. */
  instanceInterfaces: NetworkInterface[];
  instances: Instance[];
  networkAcls: NetworkAcl[];
  prefixLists: PrefixList[];
  addresses: ElasticAddress[];
  /** GetManagedPrefixListEntries bodies, by the list id found in the file name. */
  prefixListEntries: Map<string, { cidr: string; description?: string }[]>;
}

export function emptyParts(): EstateParts {
  return {
    vpcs: [],
    subnets: [],
    securityGroups: [],
    networkInterfaces: [],
    instanceInterfaces: [],
    instances: [],
    networkAcls: [],
    prefixLists: [],
    addresses: [],
    prefixListEntries: new Map(),
  };
}

/** The top-level keys this importer reads; anything else in a snapshot is ignored. */
export const RESPONSE_KEYS = [
  "SecurityGroups",
  "Reservations",
  "NetworkInterfaces",
  "Subnets",
  "Vpcs",
  "NetworkAcls",
  "PrefixLists",
  "Addresses",
  "Entries",
] as const;

type Json = unknown;
type Obj = Record<string, Json>;

/** A position in one file: the file name for messages and the JSON path walked so far. */
class At {
  constructor(
    readonly file: string,
    readonly path: string,
  ) {}
  key(k: string): At {
    return new At(this.file, this.path === "" ? k : `${this.path}.${k}`);
  }
  item(i: number): At {
    return new At(this.file, `${this.path}[${i}]`);
  }
  error(problem: string): ImportError {
    return new ImportError(`${this.file}: ${this.path}: ${problem}`);
  }
}

const show = (v: Json): string => {
  const text = JSON.stringify(v);
  return text === undefined ? String(v) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

function inRange(at: At, v: number | undefined, min: number, max: number, what: string): void {
  if (v !== undefined && (v < min || v > max)) throw at.error(`${v} is not ${what} (${min} to ${max})`);
}

function obj(at: At, v: Json): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw at.error(`${show(v)} is not an object`);
  return v as Obj;
}

function list(at: At, o: Obj, k: string): { at: At; value: Json }[] {
  const v = o[k];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw at.key(k).error(`${show(v)} is not a list`);
  return v.map((value, i) => ({ at: at.key(k).item(i), value }));
}

function objects(at: At, o: Obj, k: string): { at: At; o: Obj }[] {
  return list(at, o, k).map(({ at: a, value }) => ({ at: a, o: obj(a, value) }));
}

function str(at: At, o: Obj, k: string): string {
  const v = o[k];
  if (v === undefined || v === null) throw at.key(k).error("is missing");
  if (typeof v !== "string") throw at.key(k).error(`${show(v)} is not a string`);
  return v;
}

function optStr(at: At, o: Obj, k: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw at.key(k).error(`${show(v)} is not a string`);
  return v;
}

function optInt(at: At, o: Obj, k: string): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  // the CLI prints numbers; some recorders keep the wire's strings
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) throw at.key(k).error(`${show(v)} is not an integer`);
  return n;
}

function optBool(at: At, o: Obj, k: string): boolean | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw at.key(k).error(`${show(v)} is not true or false`);
  return v;
}

function cidr(at: At, o: Obj, k: string, family: 4 | 6): string {
  const text = str(at, o, k);
  const c = canonicalCidr(text, family);
  if (c === undefined)
    throw at.key(k).error(`${show(text)} is not ${family === 4 ? "an IPv4" : "an IPv6"} CIDR`);
  return c;
}

function ip(at: At, o: Obj, k: string, family: 4 | 6): string {
  const text = str(at, o, k);
  const a = parseIp(text);
  if (!a || a.family !== family) throw at.key(k).error(`${show(text)} is not an IPv${family} address`);
  return text;
}

function tags(at: At, o: Obj, k = "Tags"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of objects(at, o, k)) out[str(t.at, t.o, "Key")] = optStr(t.at, t.o, "Value") ?? "";
  return out;
}

/** Rule identity (spec 3.4), hashed: the same rule gets the same id in every dump. */
export function syntheticRuleId(
  groupId: string,
  direction: string,
  protocol: string,
  fromPort: number,
  toPort: number,
  peer: RulePeer,
): string {
  const peerText =
    peer.kind === "group"
      ? `group:${peer.groupId}`
      : peer.kind === "prefix-list"
        ? `pl:${peer.prefixListId}`
        : `${peer.kind}:${peer.cidr}`;
  const digest = createHash("sha256")
    .update([groupId, direction, protocol, fromPort, toPort, peerText].join("|"))
    .digest("hex");
  return `sgr-${digest.slice(0, 17)}`;
}

function permissions(
  at: At,
  g: Obj,
  key: string,
  groupId: string,
  direction: "ingress" | "egress",
): SecurityGroupRule[] {
  const rules: SecurityGroupRule[] = [];
  for (const p of objects(at, g, key)) {
    const protoText = p.o.IpProtocol;
    const protocol =
      typeof protoText === "string" || typeof protoText === "number"
        ? normaliseRuleProtocol(String(protoText))
        : undefined;
    if (protocol === undefined)
      throw p.at.key("IpProtocol").error(`${show(protoText)} is not an IP protocol`);
    const givenFrom = optInt(p.at, p.o, "FromPort");
    const givenTo = optInt(p.at, p.o, "ToPort");
    let fromPort = givenFrom ?? -1;
    let toPort = givenTo ?? -1;
    if (protocol === "tcp" || protocol === "udp") {
      // Old EC2-Classic dumps leave out the range of a whole-protocol rule.
      if (fromPort === -1 && toPort === -1) [fromPort, toPort] = [0, 65535];
      else if (givenFrom === undefined || givenTo === undefined)
        throw p.at.key(givenFrom === undefined ? "FromPort" : "ToPort").error("is missing");
      inRange(p.at.key("FromPort"), fromPort, 0, 65535, "a port");
      inRange(p.at.key("ToPort"), toPort, 0, 65535, "a port");
      if (fromPort > toPort) throw p.at.error(`FromPort ${fromPort} is above ToPort ${toPort}`);
    } else if (protocol === "icmp" || protocol === "icmpv6") {
      // FromPort is the type and ToPort the code; -1 is every one
      inRange(p.at.key("FromPort"), fromPort, -1, 255, "an ICMP type");
      inRange(p.at.key("ToPort"), toPort, -1, 255, "an ICMP code");
    } else {
      [fromPort, toPort] = [-1, -1];
    }
    const peers: { peer: RulePeer; description?: string; ruleId?: string }[] = [];
    for (const r of objects(p.at, p.o, "IpRanges")) {
      peers.push({ peer: { kind: "ipv4", cidr: cidr(r.at, r.o, "CidrIp", 4) }, ...described(r.at, r.o) });
    }
    for (const r of objects(p.at, p.o, "Ipv6Ranges")) {
      peers.push({ peer: { kind: "ipv6", cidr: cidr(r.at, r.o, "CidrIpv6", 6) }, ...described(r.at, r.o) });
    }
    for (const r of objects(p.at, p.o, "PrefixListIds")) {
      peers.push({
        peer: { kind: "prefix-list", prefixListId: str(r.at, r.o, "PrefixListId") },
        ...described(r.at, r.o),
      });
    }
    for (const r of objects(p.at, p.o, "UserIdGroupPairs")) {
      const id = optStr(r.at, r.o, "GroupId");
      const name = optStr(r.at, r.o, "GroupName");
      if (id === undefined && name === undefined)
        throw r.at.key("GroupId").error("is missing (and so is GroupName)");
      const vpcId = optStr(r.at, r.o, "VpcId");
      const peering = optStr(r.at, r.o, "VpcPeeringConnectionId");
      const peeringStatus = optStr(r.at, r.o, "PeeringStatus");
      peers.push({
        peer: {
          kind: "group",
          // a name-only pair (EC2-Classic) is resolved to an id once every group is read
          groupId: id ?? `name:${name}`,
          userId: optStr(r.at, r.o, "UserId") ?? "",
          ...(vpcId !== undefined ? { vpcId } : {}),
          ...(peering !== undefined ? { vpcPeeringConnectionId: peering } : {}),
          ...(peeringStatus !== undefined ? { peeringStatus } : {}),
        },
        ...described(r.at, r.o),
      });
    }
    for (const { peer, description, ruleId } of peers) {
      rules.push({
        id: ruleId ?? syntheticRuleId(groupId, direction, protocol, fromPort, toPort, peer),
        groupId,
        direction,
        protocol,
        fromPort,
        toPort,
        peer,
        ...(description !== undefined ? { description } : {}),
      });
    }
  }
  return rules;
}

function described(at: At, o: Obj): { description?: string; ruleId?: string } {
  const description = optStr(at, o, "Description");
  // ringfence's own snapshots carry the real rule id next to each peer
  const ruleId = optStr(at, o, "SecurityGroupRuleId");
  return {
    ...(description !== undefined ? { description } : {}),
    ...(ruleId !== undefined ? { ruleId } : {}),
  };
}

function securityGroup(at: At, g: Obj): SecurityGroup {
  const id = str(at, g, "GroupId");
  return {
    id,
    name: optStr(at, g, "GroupName") ?? id,
    description: optStr(at, g, "Description") ?? "",
    vpcId: optStr(at, g, "VpcId") ?? "",
    ownerId: optStr(at, g, "OwnerId") ?? "",
    tags: tags(at, g),
    rules: [
      ...permissions(at, g, "IpPermissions", id, "ingress"),
      ...permissions(at, g, "IpPermissionsEgress", id, "egress"),
    ],
  };
}

function networkInterface(
  at: At,
  n: Obj,
  fallback: { vpcId?: string; subnetId?: string; instanceId?: string; ownerId?: string },
): NetworkInterface {
  const id = str(at, n, "NetworkInterfaceId");
  const privateIpv4: string[] = [];
  let publicIp: string | undefined;
  const association =
    n.Association === undefined || n.Association === null
      ? undefined
      : obj(at.key("Association"), n.Association);
  if (association) publicIp = optStr(at.key("Association"), association, "PublicIp");
  for (const p of objects(at, n, "PrivateIpAddresses")) {
    const a = ip(p.at, p.o, "PrivateIpAddress", 4);
    if (optBool(p.at, p.o, "Primary")) privateIpv4.unshift(a);
    else privateIpv4.push(a);
    if (publicIp === undefined && p.o.Association)
      publicIp = optStr(p.at.key("Association"), obj(p.at.key("Association"), p.o.Association), "PublicIp");
  }
  const primary =
    n.PrivateIpAddress === undefined || n.PrivateIpAddress === null
      ? undefined
      : ip(at, n, "PrivateIpAddress", 4);
  if (primary !== undefined && !privateIpv4.includes(primary)) privateIpv4.unshift(primary);
  const ipv6 = objects(at, n, "Ipv6Addresses").map((a) => ip(a.at, a.o, "Ipv6Address", 6));
  const groupIds = objects(at, n, "Groups").map((g) => str(g.at, g.o, "GroupId"));
  const attachment =
    n.Attachment === undefined || n.Attachment === null ? undefined : obj(at.key("Attachment"), n.Attachment);
  const instanceId =
    (attachment ? optStr(at.key("Attachment"), attachment, "InstanceId") : undefined) ?? fallback.instanceId;
  const deviceIndex = attachment ? optInt(at.key("Attachment"), attachment, "DeviceIndex") : undefined;
  const description = optStr(at, n, "Description");
  const interfaceType = optStr(at, n, "InterfaceType");
  const trackingAt = at.key("ConnectionTrackingConfiguration");
  const tracking =
    n.ConnectionTrackingConfiguration === undefined || n.ConnectionTrackingConfiguration === null
      ? undefined
      : obj(trackingAt, n.ConnectionTrackingConfiguration);
  const connectionTracking = tracking && {
    ...optional("tcpEstablishedTimeout", optInt(trackingAt, tracking, "TcpEstablishedTimeout")),
    ...optional("udpStreamTimeout", optInt(trackingAt, tracking, "UdpStreamTimeout")),
    ...optional("udpTimeout", optInt(trackingAt, tracking, "UdpTimeout")),
  };
  return {
    id,
    ownerId: optStr(at, n, "OwnerId") ?? fallback.ownerId ?? "",
    vpcId: optStr(at, n, "VpcId") ?? fallback.vpcId ?? "",
    subnetId: optStr(at, n, "SubnetId") ?? fallback.subnetId ?? "",
    privateIpv4,
    ipv6,
    groupIds,
    tags: tags(at, n, n.TagSet !== undefined ? "TagSet" : "Tags"),
    ...(instanceId !== undefined ? { instanceId } : {}),
    ...(deviceIndex !== undefined ? { deviceIndex } : {}),
    ...(publicIp !== undefined ? { publicIp } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(interfaceType !== undefined ? { interfaceType } : {}),
    ...(connectionTracking && Object.keys(connectionTracking).length > 0 ? { connectionTracking } : {}),
  };
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

function instances(at: At, body: Obj, parts: EstateParts, ownerFromReservation: boolean): void {
  const read = (iat: At, i: Obj, ownerId: string) => {
    const id = str(iat, i, "InstanceId");
    const state = i.State ? (optStr(iat.key("State"), obj(iat.key("State"), i.State), "Name") ?? "") : "";
    const vpcId = optStr(iat, i, "VpcId");
    const subnetId = optStr(iat, i, "SubnetId");
    const privateIp = optStr(iat, i, "PrivateIpAddress");
    const publicIp = optStr(iat, i, "PublicIpAddress");
    const interfaceIds: string[] = [];
    for (const n of objects(iat, i, "NetworkInterfaces")) {
      const eni = networkInterface(n.at, n.o, {
        instanceId: id,
        ownerId,
        ...(vpcId !== undefined ? { vpcId } : {}),
        ...(subnetId !== undefined ? { subnetId } : {}),
      });
      interfaceIds.push(eni.id);
      parts.instanceInterfaces.push(eni);
    }
    // No interface list (EC2-Classic, trimmed dumps): the instance's own groups and address stand in.
    if (interfaceIds.length === 0 && privateIp !== undefined && state !== "terminated") {
      const eniId = `eni-of-${id}`;
      interfaceIds.push(eniId);
      parts.instanceInterfaces.push({
        id: eniId,
        ownerId,
        vpcId: vpcId ?? "",
        subnetId: subnetId ?? "",
        privateIpv4: [ip(iat, i, "PrivateIpAddress", 4)],
        ipv6: [],
        groupIds: objects(iat, i, "SecurityGroups").map((g) => str(g.at, g.o, "GroupId")),
        instanceId: id,
        deviceIndex: 0,
        ...(publicIp !== undefined ? { publicIp } : {}),
        tags: {},
      });
    }
    parts.instances.push({
      id,
      ownerId,
      state,
      ...(vpcId !== undefined ? { vpcId } : {}),
      ...(subnetId !== undefined ? { subnetId } : {}),
      ...(privateIp !== undefined ? { privateIp } : {}),
      ...(publicIp !== undefined ? { publicIp } : {}),
      interfaceIds,
      tags: tags(iat, i),
    });
  };
  if (ownerFromReservation) {
    for (const r of objects(at, body, "Reservations")) {
      const ownerId = optStr(r.at, r.o, "OwnerId") ?? "";
      for (const i of objects(r.at, r.o, "Instances")) read(i.at, i.o, ownerId);
    }
  }
}

function aclEntry(at: At, e: Obj): NetworkAclEntry {
  const ruleNumber = optInt(at, e, "RuleNumber");
  if (ruleNumber === undefined) throw at.key("RuleNumber").error("is missing");
  const egress = optBool(at, e, "Egress") ?? false;
  const protocol = str(at, e, "Protocol");
  if (!/^-?\d{1,3}$/.test(protocol) || Number(protocol) < -1 || Number(protocol) > 255) {
    throw at.key("Protocol").error(`${show(protocol)} is not a protocol number`);
  }
  const action = str(at, e, "RuleAction");
  if (action !== "allow" && action !== "deny")
    throw at.key("RuleAction").error(`${show(action)} is not allow or deny`);
  const c =
    e.Ipv6CidrBlock !== undefined && e.Ipv6CidrBlock !== null
      ? cidr(at, e, "Ipv6CidrBlock", 6)
      : cidr(at, e, "CidrBlock", 4);
  const pr = e.PortRange ? obj(at.key("PortRange"), e.PortRange) : undefined;
  const icmp = e.IcmpTypeCode ? obj(at.key("IcmpTypeCode"), e.IcmpTypeCode) : undefined;
  const from = pr ? optInt(at.key("PortRange"), pr, "From") : undefined;
  const to = pr ? optInt(at.key("PortRange"), pr, "To") : undefined;
  inRange(at.key("PortRange").key("From"), from, 0, 65535, "a port");
  inRange(at.key("PortRange").key("To"), to, 0, 65535, "a port");
  if (from !== undefined && to !== undefined && from > to)
    throw at.key("PortRange").error(`From ${from} is above To ${to}`);
  const icmpType = icmp ? optInt(at.key("IcmpTypeCode"), icmp, "Type") : undefined;
  const icmpCode = icmp ? optInt(at.key("IcmpTypeCode"), icmp, "Code") : undefined;
  inRange(at.key("IcmpTypeCode").key("Type"), icmpType, -1, 255, "an ICMP type");
  inRange(at.key("IcmpTypeCode").key("Code"), icmpCode, -1, 255, "an ICMP code");
  return {
    ruleNumber,
    egress,
    protocol: String(Number(protocol)),
    action,
    cidr: c,
    ...(from !== undefined || to !== undefined ? { portRange: { from: from ?? 0, to: to ?? 65535 } } : {}),
    ...(icmp
      ? {
          icmp: {
            type: icmpType ?? -1,
            code: icmpCode ?? -1,
          },
        }
      : {}),
  };
}

/**
 * Read one response body into `parts`. `file` names it in messages; a GetManagedPrefixListEntries
 * body (top-level `Entries`) takes its list id from the file name. Returns whether the body holds
 * any of the kinds read (an empty list counts: it says there are none).
 */
export function readResponse(file: string, body: Json, parts: EstateParts): boolean {
  const root = new At(file, "");
  const o = obj(root, body);
  const known = RESPONSE_KEYS.some((key) => o[key] !== undefined);
  for (const g of objects(root, o, "SecurityGroups")) parts.securityGroups.push(securityGroup(g.at, g.o));
  if (o.Reservations !== undefined) instances(root, o, parts, true);
  for (const n of objects(root, o, "NetworkInterfaces"))
    parts.networkInterfaces.push(networkInterface(n.at, n.o, {}));
  for (const s of objects(root, o, "Subnets")) {
    // an IPv6-only subnet has no IPv4 block
    const ipv4 =
      s.o.CidrBlock === undefined || s.o.CidrBlock === null ? undefined : cidr(s.at, s.o, "CidrBlock", 4);
    parts.subnets.push({
      id: str(s.at, s.o, "SubnetId"),
      vpcId: optStr(s.at, s.o, "VpcId") ?? "",
      ownerId: optStr(s.at, s.o, "OwnerId") ?? "",
      ...(ipv4 !== undefined ? { cidr: ipv4 } : {}),
      ipv6Cidrs: objects(s.at, s.o, "Ipv6CidrBlockAssociationSet").map((a) =>
        cidr(a.at, a.o, "Ipv6CidrBlock", 6),
      ),
      availabilityZone: optStr(s.at, s.o, "AvailabilityZone") ?? "",
      tags: tags(s.at, s.o),
    });
  }
  for (const v of objects(root, o, "Vpcs")) {
    const cidrs = objects(v.at, v.o, "CidrBlockAssociationSet").map((a) => cidr(a.at, a.o, "CidrBlock", 4));
    if (v.o.CidrBlock !== undefined) {
      const primary = cidr(v.at, v.o, "CidrBlock", 4);
      if (!cidrs.includes(primary)) cidrs.unshift(primary);
    }
    parts.vpcs.push({
      id: str(v.at, v.o, "VpcId"),
      ownerId: optStr(v.at, v.o, "OwnerId") ?? "",
      cidrs,
      ipv6Cidrs: objects(v.at, v.o, "Ipv6CidrBlockAssociationSet").map((a) =>
        cidr(a.at, a.o, "Ipv6CidrBlock", 6),
      ),
      isDefault: optBool(v.at, v.o, "IsDefault") ?? false,
      tags: tags(v.at, v.o),
    });
  }
  for (const a of objects(root, o, "NetworkAcls")) {
    parts.networkAcls.push({
      id: str(a.at, a.o, "NetworkAclId"),
      vpcId: optStr(a.at, a.o, "VpcId") ?? "",
      ownerId: optStr(a.at, a.o, "OwnerId") ?? "",
      isDefault: optBool(a.at, a.o, "IsDefault") ?? false,
      entries: objects(a.at, a.o, "Entries").map((e) => aclEntry(e.at, e.o)),
      subnetIds: objects(a.at, a.o, "Associations").map((s) => str(s.at, s.o, "SubnetId")),
      tags: tags(a.at, a.o),
    });
  }
  for (const p of objects(root, o, "PrefixLists")) {
    const id = str(p.at, p.o, "PrefixListId");
    // DescribePrefixLists (AWS-managed service lists) carries Cidrs; DescribeManagedPrefixLists
    // does not (entries come from GetManagedPrefixListEntries), except in ringfence's snapshots.
    const fromCidrs = list(p.at, p.o, "Cidrs").map(({ at, value }) => {
      const c = typeof value === "string" ? canonicalCidr(value) : undefined;
      if (c === undefined) throw at.error(`${show(value)} is not a CIDR`);
      return { cidr: c };
    });
    const fromEntries = objects(p.at, p.o, "Entries").map((e) => entry(e.at, e.o));
    const entries = [...fromCidrs, ...fromEntries];
    const family =
      optStr(p.at, p.o, "AddressFamily") ?? (entries.some((e) => e.cidr.includes(":")) ? "IPv6" : "IPv4");
    if (family !== "IPv4" && family !== "IPv6")
      throw p.at.key("AddressFamily").error(`${show(family)} is not IPv4 or IPv6`);
    parts.prefixLists.push({
      id,
      name: optStr(p.at, p.o, "PrefixListName") ?? id,
      ownerId: optStr(p.at, p.o, "OwnerId") ?? "AWS",
      addressFamily: family,
      maxEntries: optInt(p.at, p.o, "MaxEntries") ?? entries.length,
      entries,
    });
  }
  for (const a of objects(root, o, "Addresses")) {
    const allocationId = optStr(a.at, a.o, "AllocationId");
    const networkInterfaceId = optStr(a.at, a.o, "NetworkInterfaceId");
    const privateIp = optStr(a.at, a.o, "PrivateIpAddress");
    const instanceId = optStr(a.at, a.o, "InstanceId");
    parts.addresses.push({
      publicIp: ip(a.at, a.o, "PublicIp", 4),
      ...(allocationId !== undefined ? { allocationId } : {}),
      ...(networkInterfaceId !== undefined ? { networkInterfaceId } : {}),
      ...(privateIp !== undefined ? { privateIp } : {}),
      ...(instanceId !== undefined ? { instanceId } : {}),
    });
  }
  if (o.Entries !== undefined) {
    const id = /\bpl-[0-9a-zA-Z]+/.exec(file)?.[0];
    if (id === undefined)
      throw root.key("Entries").error("prefix-list entries, but the file name names no pl- id");
    parts.prefixListEntries.set(
      id,
      objects(root, o, "Entries").map((e) => entry(e.at, e.o)),
    );
  }
  return known;
}

function entry(at: At, e: Obj): { cidr: string; description?: string } {
  const text = str(at, e, "Cidr");
  const c = canonicalCidr(text);
  if (c === undefined) throw at.key("Cidr").error(`${show(text)} is not a CIDR`);
  const description = optStr(at, e, "Description");
  return { cidr: c, ...(description !== undefined ? { description } : {}) };
}
