// The control plane's records of one region, all accounts, as the Estate the policy engine, the
// compiler and the lab read. Cross-account group references resolve because every account is in.

import { awsManagedPrefixList } from "../model/aws-managed-prefix-lists.js";
import type { Estate, NetworkInterface } from "../model/estate.js";
import type { GroupRecord, PrefixListRecord } from "../model/resources.js";
import type { Transaction } from "./transaction.js";

/** The estate of one region, or of every region when none is given (ids never repeat across regions). */
export function estateOf(view: Transaction, region?: string): Estate {
  const inRegion = <R extends { region: string }>(records: Iterable<R>) =>
    [...records].filter((r) => region === undefined || r.region === region);
  const addresses = inRegion(view.all("address"));
  // an interface's own public address is the one on its primary private address; an Elastic IP
  // on a secondary one is in `addresses` only
  const elasticByPrimary = new Map<string, string>();
  for (const address of addresses) {
    if (address.association) {
      const { networkInterfaceId, privateIp } = address.association;
      elasticByPrimary.set(`${networkInterfaceId}/${privateIp}`, address.publicIp);
    }
  }
  const networkInterfaces: NetworkInterface[] = inRegion(view.all("eni")).map((eni) => ({
    id: eni.id,
    ownerId: eni.account,
    vpcId: eni.vpcId,
    subnetId: eni.subnetId,
    privateIpv4: eni.privateIps,
    ipv6: eni.ipv6Addresses,
    groupIds: eni.groupIds,
    instanceId: eni.attachment?.instanceId,
    deviceIndex: eni.attachment?.deviceIndex,
    publicIp: elasticByPrimary.get(`${eni.id}/${eni.privateIps[0]}`) ?? eni.publicIp,
    description: eni.description,
    interfaceType: eni.interfaceType,
    ...(eni.connectionTracking ? { connectionTracking: eni.connectionTracking } : {}),
    tags: eni.tags,
  }));
  const eniById = new Map(networkInterfaces.map((eni) => [eni.id, eni]));
  return {
    vpcs: inRegion(view.all("vpc")).map((vpc) => ({
      id: vpc.id,
      ownerId: vpc.account,
      cidrs: [vpc.cidr],
      ipv6Cidrs: vpc.ipv6Cidr ? [vpc.ipv6Cidr] : [],
      isDefault: vpc.isDefault,
      tags: vpc.tags,
    })),
    subnets: inRegion(view.all("subnet")).map((subnet) => ({
      id: subnet.id,
      vpcId: subnet.vpcId,
      ownerId: subnet.account,
      cidr: subnet.cidr,
      ipv6Cidrs: subnet.ipv6Cidr ? [subnet.ipv6Cidr] : [],
      availabilityZone: subnet.availabilityZone,
      tags: subnet.tags,
    })),
    securityGroups: inRegion(view.all("group")).map((group) => ({
      id: group.id,
      name: group.name,
      description: group.description,
      vpcId: group.vpcId,
      ownerId: group.account,
      tags: group.tags,
      rules: group.rules.map((rule) => ({
        id: rule.id,
        groupId: group.id,
        direction: rule.egress ? "egress" : "ingress",
        protocol: rule.protocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        peer: rule.peer,
        description: rule.description,
      })),
    })),
    networkInterfaces,
    instances: inRegion(view.all("instance")).map((instance) => {
      const primary = eniById.get(instance.interfaceIds[0] ?? "");
      return {
        id: instance.id,
        ownerId: instance.account,
        state: instance.state,
        vpcId: instance.vpcId,
        subnetId: instance.subnetId,
        privateIp: primary?.privateIpv4[0],
        publicIp: primary?.publicIp,
        interfaceIds: instance.interfaceIds,
        tags: instance.tags,
      };
    }),
    networkAcls: inRegion(view.all("network-acl")).map((acl) => ({
      id: acl.id,
      vpcId: acl.vpcId,
      ownerId: acl.account,
      isDefault: acl.isDefault,
      entries: acl.entries,
      subnetIds: acl.associations.map((a) => a.subnetId),
      tags: acl.tags,
    })),
    prefixLists: [
      ...inRegion(view.all("prefix-list")),
      ...awsListsReferenced(inRegion(view.all("group"))),
    ].map((list) => ({
      id: list.id,
      name: list.name,
      ownerId: list.account,
      addressFamily: list.addressFamily,
      maxEntries: list.maxEntries,
      entries: list.entries,
    })),
    addresses: addresses.map((address) => ({
      allocationId: address.id,
      publicIp: address.publicIp,
      networkInterfaceId: address.association?.networkInterfaceId,
      privateIp: address.association?.privateIp,
      instanceId: address.association && eniById.get(address.association.networkInterfaceId)?.instanceId,
    })),
  };
}

/** The AWS-managed lists that rules name: they are not records, but the rules need their entries. */
function awsListsReferenced(groups: readonly GroupRecord[]): PrefixListRecord[] {
  const lists = new Map<string, PrefixListRecord>();
  for (const group of groups) {
    for (const rule of group.rules) {
      if (rule.peer.kind !== "prefix-list" || lists.has(rule.peer.prefixListId)) continue;
      const list = awsManagedPrefixList(group.region, rule.peer.prefixListId);
      if (list) lists.set(list.id, list);
    }
  }
  return [...lists.values()];
}
