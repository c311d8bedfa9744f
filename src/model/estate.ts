// The network estate as the policy engine, the compiler and the importers see it: one account's
// (or several accounts') VPCs, subnets, groups, rules, interfaces, ACLs and prefix lists, with every
// id resolved and every CIDR canonical. Built from the live store or from AWS describe-* dumps.

import type { ConnectionTracking } from "./connection-tracking.js";

export type Direction = "ingress" | "egress";

export type RulePeer =
  | { readonly kind: "ipv4"; readonly cidr: string }
  | { readonly kind: "ipv6"; readonly cidr: string }
  | { readonly kind: "prefix-list"; readonly prefixListId: string }
  | {
      readonly kind: "group";
      readonly groupId: string;
      readonly userId: string;
      readonly vpcId?: string;
      readonly vpcPeeringConnectionId?: string;
      /** The peering's status as the dump reports it (`active`, `deleted`, ...) for a peered VPC's group. */
      readonly peeringStatus?: string;
    };

/**
 * A reference across a peering connection that is gone: the rule is stale and matches no traffic
 * (spec 3.12), whether or not the group still exists on the other side.
 */
export function acrossDeletedPeering(peer: RulePeer): boolean {
  return peer.kind === "group" && peer.peeringStatus === "deleted";
}

export interface SecurityGroupRule {
  /** `sgr-...`; imported dumps without rule ids get a stable synthetic id. */
  readonly id: string;
  readonly groupId: string;
  readonly direction: Direction;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or a protocol number as text (see net/protocol). */
  readonly protocol: string;
  /** Port range for tcp/udp; ICMP type/code for icmp/icmpv6 (-1 = any); -1/-1 otherwise. */
  readonly fromPort: number;
  readonly toPort: number;
  readonly peer: RulePeer;
  readonly description?: string;
}

export interface SecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  readonly ownerId: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly rules: readonly SecurityGroupRule[];
}

export interface NetworkInterface {
  readonly id: string;
  readonly ownerId: string;
  readonly vpcId: string;
  readonly subnetId: string;
  /** Private IPv4 addresses, primary first. */
  readonly privateIpv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly groupIds: readonly string[];
  readonly instanceId?: string;
  readonly deviceIndex?: number;
  /** Public or Elastic IPv4 address associated with the interface, if any. */
  readonly publicIp?: string;
  readonly description?: string;
  readonly interfaceType?: string;
  /** Idle timeouts of tracked connections, where the interface was given any. */
  readonly connectionTracking?: ConnectionTracking;
  readonly tags: Readonly<Record<string, string>>;
}

export interface Instance {
  readonly id: string;
  readonly ownerId: string;
  readonly state: string;
  readonly vpcId?: string;
  readonly subnetId?: string;
  readonly privateIp?: string;
  readonly publicIp?: string;
  readonly interfaceIds: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface Subnet {
  readonly id: string;
  readonly vpcId: string;
  readonly ownerId: string;
  /** Absent for an IPv6-only subnet. */
  readonly cidr?: string;
  readonly ipv6Cidrs: readonly string[];
  readonly availabilityZone: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** A subnet's address blocks: its IPv4 one, if it has one, then its IPv6 ones. */
export function subnetBlocks(subnet: Subnet): readonly string[] {
  return subnet.cidr === undefined ? subnet.ipv6Cidrs : [subnet.cidr, ...subnet.ipv6Cidrs];
}

export interface Vpc {
  readonly id: string;
  readonly ownerId: string;
  readonly cidrs: readonly string[];
  readonly ipv6Cidrs: readonly string[];
  readonly isDefault: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

export type NetworkAclAction = "allow" | "deny";

export interface NetworkAclEntry {
  readonly ruleNumber: number;
  readonly egress: boolean;
  /** A protocol number as text, or `-1`. */
  readonly protocol: string;
  readonly action: NetworkAclAction;
  /** Canonical IPv4 or IPv6 CIDR. */
  readonly cidr: string;
  readonly portRange?: { readonly from: number; readonly to: number };
  readonly icmp?: { readonly type: number; readonly code: number };
}

export interface NetworkAcl {
  readonly id: string;
  readonly vpcId: string;
  readonly ownerId: string;
  readonly isDefault: boolean;
  readonly entries: readonly NetworkAclEntry[];
  readonly subnetIds: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface PrefixList {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly addressFamily: "IPv4" | "IPv6";
  readonly maxEntries: number;
  readonly entries: readonly { readonly cidr: string; readonly description?: string }[];
}

export interface ElasticAddress {
  readonly allocationId?: string;
  readonly publicIp: string;
  readonly networkInterfaceId?: string;
  readonly privateIp?: string;
  readonly instanceId?: string;
}

export interface Estate {
  readonly vpcs: readonly Vpc[];
  readonly subnets: readonly Subnet[];
  readonly securityGroups: readonly SecurityGroup[];
  readonly networkInterfaces: readonly NetworkInterface[];
  readonly instances: readonly Instance[];
  readonly networkAcls: readonly NetworkAcl[];
  readonly prefixLists: readonly PrefixList[];
  readonly addresses: readonly ElasticAddress[];
}

export const EMPTY_ESTATE: Estate = {
  vpcs: [],
  subnets: [],
  securityGroups: [],
  networkInterfaces: [],
  instances: [],
  networkAcls: [],
  prefixLists: [],
  addresses: [],
};
