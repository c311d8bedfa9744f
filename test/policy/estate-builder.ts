// Small hand-built estates for the policy tests: every test states its estate in a few lines.

import type {
  Estate,
  NetworkAcl,
  NetworkAclEntry,
  NetworkInterface,
  PrefixList,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
} from "../../src/model/estate.js";
import { EMPTY_ESTATE } from "../../src/model/estate.js";

export const ACCOUNT = "111111111111";

let ruleCounter = 0;

export function peerOf(text: string): RulePeer {
  if (text.startsWith("sg-")) {
    const [groupId, userId] = text.split("@");
    return { kind: "group", groupId: groupId as string, userId: userId ?? ACCOUNT };
  }
  if (text.startsWith("pl-")) return { kind: "prefix-list", prefixListId: text };
  return text.includes(":") ? { kind: "ipv6", cidr: text } : { kind: "ipv4", cidr: text };
}

/** `rule("ingress", "tcp", 22, 22, "10.0.0.0/8")`; peers: CIDR, `sg-x` (or `sg-x@account`), `pl-x`. */
export function rule(
  direction: "ingress" | "egress",
  protocol: string,
  fromPort: number,
  toPort: number,
  peer: string,
  id?: string,
): Omit<SecurityGroupRule, "groupId"> {
  ruleCounter++;
  return {
    id: id ?? `sgr-${String(ruleCounter).padStart(17, "0")}`,
    direction,
    protocol,
    fromPort,
    toPort,
    peer: peerOf(peer),
  };
}

export const ALL_OUT = (): Omit<SecurityGroupRule, "groupId"> => rule("egress", "-1", -1, -1, "0.0.0.0/0");

export function group(
  id: string,
  rules: Omit<SecurityGroupRule, "groupId">[],
  extra: Partial<SecurityGroup> = {},
): SecurityGroup {
  return {
    id,
    name: extra.name ?? id,
    description: "test",
    vpcId: extra.vpcId ?? "vpc-1",
    ownerId: extra.ownerId ?? ACCOUNT,
    tags: extra.tags ?? {},
    rules: rules.map((r) => ({ ...r, groupId: id })),
  };
}

export function eni(
  id: string,
  subnetId: string,
  ips: string[],
  groupIds: string[],
  extra: Partial<NetworkInterface> = {},
): NetworkInterface {
  return {
    id,
    ownerId: extra.ownerId ?? ACCOUNT,
    vpcId: extra.vpcId ?? "vpc-1",
    subnetId,
    privateIpv4: ips.filter((ip) => !ip.includes(":")),
    ipv6: ips.filter((ip) => ip.includes(":")),
    groupIds,
    tags: extra.tags ?? {},
    ...(extra.publicIp ? { publicIp: extra.publicIp } : {}),
    ...(extra.instanceId ? { instanceId: extra.instanceId } : {}),
  };
}

export function subnet(id: string, cidr: string, ipv6: string[] = [], vpcId = "vpc-1"): Subnet {
  return { id, vpcId, ownerId: ACCOUNT, cidr, ipv6Cidrs: ipv6, availabilityZone: "us-east-1a", tags: {} };
}

export function aclEntry(
  ruleNumber: number,
  egress: boolean,
  action: "allow" | "deny",
  cidr: string,
  protocol = "-1",
  ports?: [number, number],
  icmp?: [number, number],
): NetworkAclEntry {
  return {
    ruleNumber,
    egress,
    action,
    cidr,
    protocol,
    ...(ports ? { portRange: { from: ports[0], to: ports[1] } } : {}),
    ...(icmp ? { icmp: { type: icmp[0], code: icmp[1] } } : {}),
  };
}

export function acl(id: string, subnetIds: string[], entries: NetworkAclEntry[]): NetworkAcl {
  return { id, vpcId: "vpc-1", ownerId: ACCOUNT, isDefault: false, entries, subnetIds, tags: {} };
}

export function prefixList(id: string, cidrs: string[], family: "IPv4" | "IPv6" = "IPv4"): PrefixList {
  return {
    id,
    name: id,
    ownerId: ACCOUNT,
    addressFamily: family,
    maxEntries: 10,
    entries: cidrs.map((cidr) => ({ cidr })),
  };
}

export function estate(parts: Partial<Estate>): Estate {
  return {
    ...EMPTY_ESTATE,
    vpcs: [
      {
        id: "vpc-1",
        ownerId: ACCOUNT,
        cidrs: ["10.0.0.0/16"],
        ipv6Cidrs: ["2600:1f18:1::/56"],
        isDefault: false,
        tags: {},
      },
    ],
    ...parts,
  };
}
