// Finding the caller's resources by id, with EC2's malformed / not-found errors.

import { Ec2Error } from "../../model/errors.js";
import { checkId, notFound } from "../../model/ids.js";
import type {
  AddressRecord,
  GroupRecord,
  InstanceRecord,
  NetworkAclRecord,
  NetworkInterfaceRecord,
  PrefixListRecord,
  ResourceKind,
  SubnetRecord,
  VpcRecord,
} from "../../model/resources.js";
import type { ActionContext } from "../context.js";

interface OwnRecords {
  group: GroupRecord;
  vpc: VpcRecord;
  subnet: SubnetRecord;
  instance: InstanceRecord;
  networkInterface: NetworkInterfaceRecord;
  allocation: AddressRecord;
  prefixList: PrefixListRecord;
  networkAcl: NetworkAclRecord;
}

const KIND_OF_ID: Record<keyof OwnRecords, ResourceKind> = {
  group: "group",
  vpc: "vpc",
  subnet: "subnet",
  instance: "instance",
  networkInterface: "eni",
  allocation: "address",
  prefixList: "prefix-list",
  networkAcl: "network-acl",
};

/** The ids a request names in a list member, each once: a repeated id is one resource. */
export function requestedIds(ctx: ActionContext, member: string): string[] {
  return [...new Set(ctx.params.strings(member))];
}

/** The caller's own resource with that id, or the id kind's NotFound error. */
export function requireOwn<K extends keyof OwnRecords>(
  ctx: ActionContext,
  idKind: K,
  id: string,
): OwnRecords[K] {
  checkId(idKind, id);
  const record = ctx.tx.get(KIND_OF_ID[idKind], id);
  if (!record || record.account !== ctx.account || record.region !== ctx.region) throw notFound(idKind, id);
  return record as unknown as OwnRecords[K];
}

export const requireGroup = (ctx: ActionContext, id: string) => requireOwn(ctx, "group", id);
export const requireVpc = (ctx: ActionContext, id: string) => requireOwn(ctx, "vpc", id);

export function defaultVpc(ctx: ActionContext): VpcRecord | undefined {
  for (const vpc of ctx.tx.scoped("vpc", ctx.account, ctx.region)) if (vpc.isDefault) return vpc;
  return undefined;
}

export function requireDefaultVpc(ctx: ActionContext): VpcRecord {
  const vpc = defaultVpc(ctx);
  if (!vpc) throw new Ec2Error("VPCIdNotSpecified", "No default VPC for this user");
  return vpc;
}

export function groupsOfVpc(ctx: ActionContext, vpcId: string): GroupRecord[] {
  const out: GroupRecord[] = [];
  for (const group of ctx.tx.scoped("group", ctx.account, ctx.region))
    if (group.vpcId === vpcId) out.push(group);
  return out;
}

export function defaultGroupOf(ctx: ActionContext, vpcId: string): GroupRecord {
  const group = groupsOfVpc(ctx, vpcId).find((g) => g.isDefault);
  if (!group) throw new Ec2Error("InternalError", `VPC ${vpcId} has no default security group`);
  return group;
}

/** A group of the default VPC by name (the only place EC2 still resolves names). */
export function groupByNameInDefaultVpc(ctx: ActionContext, name: string): GroupRecord {
  const vpc = defaultVpc(ctx);
  const lower = name.toLowerCase();
  const group = vpc && groupsOfVpc(ctx, vpc.id).find((g) => g.name.toLowerCase() === lower);
  if (!group) {
    throw new Ec2Error(
      "InvalidGroup.NotFound",
      `The security group '${name}' does not exist in default VPC '${vpc?.id ?? "none"}'`,
    );
  }
  return group;
}

/** `GroupId` or (default VPC) `GroupName`, as the ingress-side actions accept. */
export function groupByIdOrName(ctx: ActionContext, allowName = true): GroupRecord {
  const id = ctx.params.string("GroupId");
  if (id) return requireGroup(ctx, id);
  const name = allowName ? ctx.params.string("GroupName") : undefined;
  if (name) return groupByNameInDefaultVpc(ctx, name);
  throw new Ec2Error("MissingParameter", "The request must contain the parameter groupId");
}
