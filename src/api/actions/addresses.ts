// Elastic IPs (spec 2.20, 3.15): allocated from this server's public pool, associated with one
// private address of one interface. Security groups never see them; the analysis does.

import { Ec2Error, invalidCombination, invalidValue, missingParameter } from "../../model/errors.js";
import { checkId, newId } from "../../model/ids.js";
import type { AddressRecord, NetworkInterfaceRecord } from "../../model/resources.js";
import { parseIpv4 } from "../../net/address.js";
import { type Action, type ActionContext, presentTags } from "../context.js";
import { applyFilters, type FilterFields } from "../filters.js";
import { primaryInterface } from "./instances.js";
import { defaultVpc, requestedIds, requireOwn } from "./lookup.js";
import { allocatePublicIp, requireInterface, withLaunchPublicIp } from "./network-interfaces.js";
import { tagsFromSpecifications } from "./tags.js";

/**
 * The address without its association; the interface it leaves gets back the public address it
 * was launched with where it may (withLaunchPublicIp).
 */
function dissociate(ctx: ActionContext, address: AddressRecord): void {
  const left = address.association;
  if (!left) return;
  ctx.tx.put({ ...address, association: undefined });
  const eni = ctx.tx.get("eni", left.networkInterfaceId);
  if (!eni || left.privateIp !== eni.privateIps[0]) return;
  const instanceId = eni.attachment?.instanceId;
  const back = withLaunchPublicIp(ctx, eni, instanceId ? ctx.tx.get("instance", instanceId) : undefined);
  if (back !== eni) ctx.tx.put(back);
}

function addressByPublicIp(ctx: ActionContext, publicIp: string): AddressRecord {
  if (parseIpv4(publicIp) === undefined)
    throw new Ec2Error("InvalidAddress.Malformed", `Invalid address: '${publicIp}'`);
  const address = [...ctx.tx.scoped("address", ctx.account, ctx.region)].find((a) => a.publicIp === publicIp);
  if (!address) throw new Ec2Error("InvalidAddress.NotFound", `Address '${publicIp}' not found.`);
  return address;
}

/** AllocationId or (deprecated) PublicIp, never both. */
function selectedAddress(ctx: ActionContext): AddressRecord {
  const allocationId = ctx.params.string("AllocationId");
  const publicIp = ctx.params.string("PublicIp");
  if (allocationId && publicIp) {
    throw invalidCombination("You may specify public IP or allocation id, but not both in the same call");
  }
  if (allocationId) return requireOwn(ctx, "allocation", allocationId);
  if (publicIp) return addressByPublicIp(ctx, publicIp);
  throw missingParameter("AllocationId");
}

const allocateAddress: Action = (ctx) => {
  const domain = ctx.params.string("Domain") ?? "vpc";
  if (domain !== "vpc" && domain !== "standard")
    throw invalidValue(`Value (${domain}) for parameter domain is invalid.`);
  if (ctx.params.has("Address")) throw invalidValue("Bringing your own address is not supported.");
  // the region's own border group and Amazon's pool are the only ones there are here
  const pool = ctx.params.string("PublicIpv4Pool");
  const borderGroup = ctx.params.string("NetworkBorderGroup");
  ctx.params.refuseUnkept(
    [
      ...(pool !== undefined && pool !== "amazon" ? ["PublicIpv4Pool"] : []),
      ...(borderGroup !== undefined && borderGroup !== ctx.region ? ["NetworkBorderGroup"] : []),
      "CustomerOwnedIpv4Pool",
      "IpamPoolId",
    ],
    `an address comes from Amazon's pool (amazon) in the region's border group (${ctx.region})`,
  );
  const tags = tagsFromSpecifications(ctx, "elastic-ip");
  if ([...ctx.tx.scoped("address", ctx.account, ctx.region)].length >= ctx.quotas.addressesPerRegion) {
    throw new Ec2Error("AddressLimitExceeded", "The maximum number of addresses has been reached.");
  }
  const address = ctx.tx.put<AddressRecord>({
    kind: "address",
    id: newId("eipalloc"),
    account: ctx.account,
    region: ctx.region,
    tags,
    publicIp: allocatePublicIp(ctx),
  });
  return {
    PublicIp: address.publicIp,
    AllocationId: address.id,
    PublicIpv4Pool: "amazon",
    NetworkBorderGroup: ctx.region,
    Domain: "vpc",
  };
};

const associateAddress: Action = (ctx) => {
  const address = selectedAddress(ctx);
  const instanceId = ctx.params.string("InstanceId");
  const eniId = ctx.params.string("NetworkInterfaceId");
  if (instanceId && eniId)
    throw invalidCombination("You may specify an instance or a network interface, but not both.");
  let eni: NetworkInterfaceRecord;
  if (instanceId) {
    const instance = requireOwn(ctx, "instance", instanceId);
    if (instance.state !== "running" && instance.state !== "stopped" && instance.state !== "pending") {
      throw new Ec2Error(
        "IncorrectInstanceState",
        `The instance '${instance.id}' is not in a valid state for this operation.`,
      );
    }
    eni = primaryInterface(ctx, instance);
  } else if (eniId) {
    eni = requireInterface(ctx, eniId);
  } else {
    throw missingParameter("InstanceId");
  }
  const privateIp = ctx.params.string("PrivateIpAddress") ?? (eni.privateIps[0] as string);
  if (!eni.privateIps.includes(privateIp)) {
    throw invalidValue(`The private IP address ${privateIp} is not assigned to network interface ${eni.id}.`);
  }
  const current = address.association;
  if (current && current.networkInterfaceId === eni.id && current.privateIp === privateIp) {
    return { AssociationId: current.id };
  }
  // In a VPC reassociation is automatic; AllowReassociation=false asks for an error instead.
  if (current && ctx.params.bool("AllowReassociation") === false) {
    throw new Ec2Error(
      "Resource.AlreadyAssociated",
      `resource ${address.id} is already associated with associate-id ${current.id}`,
    );
  }

  // One Elastic IP per private address: an address already there moves off.
  for (const other of ctx.tx.scoped("address", ctx.account, ctx.region)) {
    if (
      other.id !== address.id &&
      other.association?.networkInterfaceId === eni.id &&
      other.association.privateIp === privateIp
    ) {
      ctx.tx.put({ ...other, association: undefined });
    }
  }
  // the address moves from where it was, which may get its launch address back
  if (current) dissociate(ctx, address);
  const target = ctx.tx.get("eni", eni.id) ?? eni;
  if (target.publicIp && privateIp === target.privateIps[0]) ctx.tx.put({ ...target, publicIp: undefined });
  const association = {
    id: newId("eipassoc"),
    networkInterfaceId: eni.id,
    privateIp,
  };
  ctx.tx.put({ ...address, association });
  return { AssociationId: association.id };
};

const disassociateAddress: Action = (ctx) => {
  const associationId = ctx.params.string("AssociationId");
  const publicIp = ctx.params.string("PublicIp");
  let address: AddressRecord | undefined;
  if (associationId) {
    checkId("association", associationId);
    address = [...ctx.tx.scoped("address", ctx.account, ctx.region)].find(
      (a) => a.association?.id === associationId,
    );
    // Disassociating is idempotent: an association that is already gone is not an error.
    if (!address) return {};
  } else if (publicIp) {
    address = addressByPublicIp(ctx, publicIp);
  } else {
    throw missingParameter("AssociationId");
  }
  dissociate(ctx, address);
  return {};
};

const releaseAddress: Action = (ctx) => {
  const address = selectedAddress(ctx);
  if (address.association) {
    const eni = ctx.tx.get("eni", address.association.networkInterfaceId);
    if (eni && eni.vpcId !== defaultVpc(ctx)?.id) {
      throw new Ec2Error("InvalidIPAddress.InUse", `Address ${address.publicIp} is in use.`);
    }
  }
  dissociate(ctx, address);
  ctx.tx.delete(address);
  return {};
};

/** The instance an address serves is whatever its interface is attached to now. */
function instanceOf(ctx: ActionContext, address: AddressRecord): string | undefined {
  const eniId = address.association?.networkInterfaceId;
  return eniId ? ctx.tx.get("eni", eniId)?.attachment?.instanceId : undefined;
}

const addressFilters = (ctx: ActionContext): FilterFields<AddressRecord> => ({
  "allocation-id": (a) => [a.id],
  "association-id": (a) => [a.association?.id],
  "instance-id": (a) => [instanceOf(ctx, a)],
  "network-border-group": (a) => [a.region],
  "network-interface-id": (a) => [a.association?.networkInterfaceId],
  "network-interface-owner-id": (a) => [a.association ? a.account : undefined],
  "private-ip-address": (a) => [a.association?.privateIp],
  "public-ip": (a) => [a.publicIp],
  domain: () => ["vpc"],
});

const describeAddresses: Action = (ctx) => {
  const ids = requestedIds(ctx, "AllocationIds");
  const ips = ctx.params.strings("PublicIps");
  let addresses = [...ctx.tx.scoped("address", ctx.account, ctx.region)];
  if (ids.length > 0 || ips.length > 0) {
    const selected = [
      ...ids.map((id) => requireOwn(ctx, "allocation", id)),
      ...ips.map((ip) => addressByPublicIp(ctx, ip)),
    ];
    const wanted = new Set(selected.map((a) => a.id));
    addresses = addresses.filter((a) => wanted.has(a.id));
  }
  return {
    Addresses: applyFilters(ctx, addresses, addressFilters(ctx)).map((a) => ({
      PublicIp: a.publicIp,
      AllocationId: a.id,
      Domain: "vpc",
      AssociationId: a.association?.id,
      InstanceId: instanceOf(ctx, a),
      NetworkInterfaceId: a.association?.networkInterfaceId,
      NetworkInterfaceOwnerId: a.association ? a.account : undefined,
      PrivateIpAddress: a.association?.privateIp,
      PublicIpv4Pool: "amazon",
      NetworkBorderGroup: a.region,
      Tags: presentTags(a.tags),
    })),
  };
};

export const addressActions: Record<string, Action> = {
  AllocateAddress: allocateAddress,
  AssociateAddress: associateAddress,
  DisassociateAddress: disassociateAddress,
  ReleaseAddress: releaseAddress,
  DescribeAddresses: describeAddresses,
};
