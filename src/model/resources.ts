// The resources as the control plane stores them: one record per id, scoped to an account and a
// region. Records are immutable values; a change writes a new record.

import type { ConnectionTracking } from "./connection-tracking.js";
import type { NetworkAclEntry, RulePeer } from "./estate.js";

export type Tags = Readonly<Record<string, string>>;

interface Scoped {
  readonly id: string;
  readonly account: string;
  readonly region: string;
  readonly tags: Tags;
}

export interface VpcRecord extends Scoped {
  readonly kind: "vpc";
  readonly cidr: string;
  readonly cidrAssociationId: string;
  readonly ipv6Cidr?: string;
  readonly ipv6AssociationId?: string;
  readonly isDefault: boolean;
  readonly instanceTenancy: string;
  readonly dhcpOptionsId: string;
}

export interface SubnetRecord extends Scoped {
  readonly kind: "subnet";
  readonly vpcId: string;
  readonly cidr: string;
  readonly ipv6Cidr?: string;
  readonly ipv6AssociationId?: string;
  readonly availabilityZone: string;
  readonly availabilityZoneId: string;
  readonly defaultForAz: boolean;
  readonly mapPublicIpOnLaunch: boolean;
}

export interface RuleRecord {
  readonly id: string;
  readonly egress: boolean;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly peer: RulePeer;
  readonly description?: string;
  readonly tags: Tags;
}

export interface GroupRecord extends Scoped {
  readonly kind: "group";
  readonly vpcId: string;
  readonly name: string;
  readonly description: string;
  readonly isDefault: boolean;
  readonly rules: readonly RuleRecord[];
}

export type InstanceStateName =
  | "pending"
  | "running"
  | "shutting-down"
  | "terminated"
  | "stopping"
  | "stopped";

export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface InstanceRecord extends Scoped {
  readonly kind: "instance";
  readonly reservationId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly keyName?: string;
  readonly state: InstanceStateName;
  readonly stateReason?: string;
  readonly launchTime: string;
  readonly launchIndex: number;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  /** `dedicated` when the launch or its VPC asked for it; absent is `default`. */
  readonly tenancy?: "dedicated";
  /** Attached interface ids; the first is the primary (device index 0). */
  readonly interfaceIds: readonly string[];
  readonly clientToken?: string;
  /** Digest of the request that used the token, to refuse the token with another request. */
  readonly requestDigest?: string;
  readonly disableApiTermination: boolean;
}

export interface InterfaceAttachment {
  readonly id: string;
  readonly instanceId: string;
  readonly deviceIndex: number;
  readonly attachTime: string;
  readonly deleteOnTermination: boolean;
}

export interface NetworkInterfaceRecord extends Scoped {
  readonly kind: "eni";
  readonly vpcId: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly description: string;
  /** Primary first. */
  readonly privateIps: readonly string[];
  readonly ipv6Addresses: readonly string[];
  readonly groupIds: readonly string[];
  readonly macAddress: string;
  readonly sourceDestCheck: boolean;
  readonly interfaceType: string;
  readonly attachment?: InterfaceAttachment;
  /** Amazon's public IPv4 address on the primary private address (not an Elastic IP). */
  readonly publicIp?: string;
  /**
   * Launched with a public IPv4 address: the interface gets a new one whenever it can have one
   * again (see withLaunchPublicIp), after a stop and a start or when an Elastic IP leaves it.
   */
  readonly autoPublicIp?: true;
  /** Idle timeouts of tracked connections, where the interface was given any. */
  readonly connectionTracking?: ConnectionTracking;
  readonly clientToken?: string;
  /** Digest of the request that used the token, to refuse the token with another request. */
  readonly requestDigest?: string;
}

export interface AddressRecord extends Scoped {
  readonly kind: "address";
  /** The allocation id is the record id. */
  readonly publicIp: string;
  readonly association?: {
    readonly id: string;
    readonly networkInterfaceId: string;
    readonly privateIp: string;
  };
}

export interface PrefixListEntry {
  readonly cidr: string;
  readonly description?: string;
}

export interface PrefixListRecord extends Scoped {
  readonly kind: "prefix-list";
  readonly name: string;
  readonly addressFamily: "IPv4" | "IPv6";
  readonly maxEntries: number;
  readonly version: number;
  readonly entries: readonly PrefixListEntry[];
  /** Entries of earlier versions, for GetManagedPrefixListEntries TargetVersion. */
  readonly history: readonly { readonly version: number; readonly entries: readonly PrefixListEntry[] }[];
  readonly clientToken?: string;
  /** Digest of the request that used the token, to refuse the token with another request. */
  readonly requestDigest?: string;
}

export interface NetworkAclRecord extends Scoped {
  readonly kind: "network-acl";
  readonly vpcId: string;
  readonly isDefault: boolean;
  readonly entries: readonly NetworkAclEntry[];
  readonly associations: readonly { readonly id: string; readonly subnetId: string }[];
  readonly clientToken?: string;
  /** Digest of the request that used the token, to refuse the token with another request. */
  readonly requestDigest?: string;
}

export type ResourceRecord =
  | VpcRecord
  | SubnetRecord
  | GroupRecord
  | InstanceRecord
  | NetworkInterfaceRecord
  | AddressRecord
  | PrefixListRecord
  | NetworkAclRecord;

export type ResourceKind = ResourceRecord["kind"];

export type RecordOf<K extends ResourceKind> = Extract<ResourceRecord, { kind: K }>;
