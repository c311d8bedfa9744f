import { randomBytes } from "node:crypto";
import { deleteNamespaces, listNamespaces } from "../../src/lab/iproute.js";
import type {
  Estate,
  Instance,
  NetworkAcl,
  NetworkAclEntry,
  NetworkInterface,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
} from "../../src/model/estate.js";
import { EMPTY_ESTATE } from "../../src/model/estate.js";

// Hand-built estates for lab tests. Ids are random per run so that two test runs (or a leftover
// of a crashed one) never share a namespace name.

export const ACCOUNT = "123456789012";

/** Hex that starts every id made here, so a sweep can find a crashed test's namespaces. */
export const TEST_ID_MARK = "0fee1ab";

export function labId(prefix: string): string {
  return `${prefix}-${TEST_ID_MARK}${randomBytes(5).toString("hex")}`;
}

/** Removes lab namespaces left behind by earlier runs of these tests. */
export async function sweepTestNamespaces(): Promise<void> {
  const doomed = (await listNamespaces()).filter(
    (n) => n.startsWith(`rf-i-${TEST_ID_MARK}`) || n.startsWith(`rf-vpc-${TEST_ID_MARK}`),
  );
  await deleteNamespaces(doomed);
}

export interface InstanceSpec {
  readonly id: string;
  readonly subnetId: string;
  readonly ip: string;
  readonly ipv6?: string;
  readonly groupIds: readonly string[];
  readonly state?: string;
}

export class EstateBuilder {
  readonly acls: NetworkAcl[] = [];
  readonly vpcs: Vpc[] = [];
  readonly subnets: Subnet[] = [];
  readonly groups: SecurityGroup[] = [];
  readonly instances: InstanceSpec[] = [];
  private ruleCount = 0;

  vpc(cidr: string, ipv6Cidr?: string): string {
    const id = labId("vpc");
    this.vpcs.push({
      id,
      ownerId: ACCOUNT,
      cidrs: [cidr],
      ipv6Cidrs: ipv6Cidr ? [ipv6Cidr] : [],
      isDefault: false,
      tags: {},
    });
    return id;
  }

  subnet(vpcId: string, cidr: string, ipv6Cidr?: string): string {
    const id = labId("subnet");
    this.subnets.push({
      id,
      vpcId,
      ownerId: ACCOUNT,
      cidr,
      ipv6Cidrs: ipv6Cidr ? [ipv6Cidr] : [],
      availabilityZone: "us-east-1a",
      tags: {},
    });
    return id;
  }

  group(vpcId: string, name: string): string {
    const id = labId("sg");
    this.groups.push({ id, name, description: name, vpcId, ownerId: ACCOUNT, tags: {}, rules: [] });
    return id;
  }

  rule(groupId: string, rule: Omit<SecurityGroupRule, "id" | "groupId">): string {
    const index = this.groups.findIndex((g) => g.id === groupId);
    const group = this.groups[index];
    if (!group) throw new Error(`no group ${groupId}`);
    const id = `sgr-${(++this.ruleCount).toString(16).padStart(17, "0")}`;
    this.groups[index] = { ...group, rules: [...group.rules, { ...rule, id, groupId }] };
    return id;
  }

  revoke(ruleId: string): void {
    for (const [i, g] of this.groups.entries()) {
      this.groups[i] = { ...g, rules: g.rules.filter((r) => r.id !== ruleId) };
    }
  }

  /** A network ACL associated with the given subnets (entries as in the API, without the catch-alls). */
  acl(vpcId: string, subnetIds: readonly string[], entries: readonly NetworkAclEntry[]): string {
    const id = labId("acl");
    this.acls.push({ id, vpcId, ownerId: ACCOUNT, isDefault: false, entries, subnetIds, tags: {} });
    return id;
  }

  setAcl(id: string, entries: readonly NetworkAclEntry[]): void {
    const index = this.acls.findIndex((a) => a.id === id);
    const current = this.acls[index];
    if (!current) throw new Error(`no acl ${id}`);
    this.acls[index] = { ...current, entries };
  }

  instance(subnetId: string, ip: string, groupIds: readonly string[], ipv6?: string): string {
    const id = labId("i");
    this.instances.push({ id, subnetId, ip, groupIds, ...(ipv6 ? { ipv6 } : {}) });
    return id;
  }

  setInstance(id: string, change: Partial<Omit<InstanceSpec, "id">>): void {
    const index = this.instances.findIndex((i) => i.id === id);
    const current = this.instances[index];
    if (!current) throw new Error(`no instance ${id}`);
    this.instances[index] = { ...current, ...change };
  }

  build(): Estate {
    const subnets = new Map(this.subnets.map((s) => [s.id, s]));
    const instances: Instance[] = [];
    const interfaces: NetworkInterface[] = [];
    for (const spec of this.instances) {
      const subnet = subnets.get(spec.subnetId);
      if (!subnet) throw new Error(`no subnet ${spec.subnetId}`);
      const eniId = `eni-${spec.id.slice(2)}`;
      instances.push({
        id: spec.id,
        ownerId: ACCOUNT,
        state: spec.state ?? "running",
        vpcId: subnet.vpcId,
        subnetId: subnet.id,
        privateIp: spec.ip,
        interfaceIds: [eniId],
        tags: {},
      });
      interfaces.push({
        id: eniId,
        ownerId: ACCOUNT,
        vpcId: subnet.vpcId,
        subnetId: subnet.id,
        privateIpv4: [spec.ip],
        ipv6: spec.ipv6 ? [spec.ipv6] : [],
        groupIds: spec.groupIds,
        instanceId: spec.id,
        deviceIndex: 0,
        tags: {},
      });
    }
    return {
      ...EMPTY_ESTATE,
      vpcs: [...this.vpcs],
      subnets: [...this.subnets],
      securityGroups: [...this.groups],
      networkInterfaces: interfaces,
      instances,
      networkAcls: [...this.acls],
    };
  }
}

export const ALL_TRAFFIC_TO = (cidr: string) =>
  ({
    direction: "egress",
    protocol: "-1",
    fromPort: -1,
    toPort: -1,
    peer: { kind: cidr.includes(":") ? "ipv6" : "ipv4", cidr },
  }) as const;
