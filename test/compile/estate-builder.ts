// Small builders for test estates: groups with rules, interfaces with groups, instances.

import type {
  Estate,
  NetworkInterface,
  PrefixList,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
} from "../../src/model/estate.js";
import { EMPTY_ESTATE } from "../../src/model/estate.js";

export function rule(
  id: string,
  groupId: string,
  direction: "ingress" | "egress",
  protocol: string,
  fromPort: number,
  toPort: number,
  peer: RulePeer | string,
): SecurityGroupRule {
  const resolved: RulePeer =
    typeof peer !== "string"
      ? peer
      : peer.startsWith("sg-")
        ? { kind: "group", groupId: peer, userId: "111122223333" }
        : peer.startsWith("pl-")
          ? { kind: "prefix-list", prefixListId: peer }
          : peer.includes(":")
            ? { kind: "ipv6", cidr: peer }
            : { kind: "ipv4", cidr: peer };
  return { id, groupId, direction, protocol, fromPort, toPort, peer: resolved };
}

export function group(id: string, rules: SecurityGroupRule[]): SecurityGroup {
  return { id, name: id, description: id, vpcId: "vpc-1", ownerId: "111122223333", tags: {}, rules };
}

export function eni(
  id: string,
  groupIds: string[],
  ipv4: string[],
  ipv6: string[] = [],
  instanceId?: string,
): NetworkInterface {
  return {
    id,
    ownerId: "111122223333",
    vpcId: "vpc-1",
    subnetId: "subnet-1",
    privateIpv4: ipv4,
    ipv6,
    groupIds,
    ...(instanceId ? { instanceId } : {}),
    tags: {},
  };
}

export function prefixList(id: string, family: "IPv4" | "IPv6", cidrs: string[]): PrefixList {
  return {
    id,
    name: id,
    ownerId: "111122223333",
    addressFamily: family,
    maxEntries: 10,
    entries: cidrs.map((cidr) => ({ cidr })),
  };
}

export function estate(
  groups: SecurityGroup[],
  interfaces: NetworkInterface[],
  prefixLists: PrefixList[] = [],
): Estate {
  const instanceIds = [...new Set(interfaces.map((i) => i.instanceId).filter((x): x is string => !!x))];
  return {
    ...EMPTY_ESTATE,
    securityGroups: groups,
    networkInterfaces: interfaces,
    prefixLists,
    instances: instanceIds.map((id) => ({
      id,
      ownerId: "111122223333",
      state: "running",
      interfaceIds: interfaces.filter((i) => i.instanceId === id).map((i) => i.id),
      tags: {},
    })),
  };
}
