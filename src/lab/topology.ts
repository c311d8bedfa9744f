import {
  type Estate,
  type Instance,
  type NetworkInterface,
  type Subnet,
  subnetBlocks,
} from "../model/estate.js";
import { formatIp, parseIp } from "../net/address.js";
import { type Cidr, cidrContains, parseCidr } from "../net/cidr.js";
import { instanceNamespace, instancePort, routerNamespace, subnetBridge } from "./names.js";

// What the lab network should look like for an estate: one router namespace per VPC that has
// instances up, one bridge per subnet in it carrying the subnet's router address (base + 1, as in
// EC2), and one namespace per running instance wired into its subnet's bridge. Pure data: the
// LabNetwork turns differences between two of these into iproute2 commands.

/** States in which an instance has a running namespace. */
export const RUNNING_STATES: ReadonlySet<string> = new Set(["pending", "running"]);

export interface InterfaceAddress {
  readonly address: string;
  readonly prefix: number;
}

export interface SubnetSegment {
  readonly subnetId: string;
  readonly bridge: string;
  /** The subnet's router addresses with the subnet's prefix length. */
  readonly gateways: readonly InterfaceAddress[];
}

export interface VpcRouter {
  readonly vpcId: string;
  readonly namespace: string;
  readonly segments: readonly SubnetSegment[];
}

export interface LabHost {
  readonly instanceId: string;
  readonly namespace: string;
  readonly vpcId: string;
  readonly subnetId: string;
  readonly routerNamespace: string;
  readonly bridge: string;
  readonly port: string;
  /** Private IPv4 addresses (primary first), then IPv6 addresses. */
  readonly addresses: readonly InterfaceAddress[];
  readonly gateway4?: string;
  readonly gateway6?: string;
}

export interface LabTopology {
  readonly routers: ReadonlyMap<string, VpcRouter>;
  readonly hosts: ReadonlyMap<string, LabHost>;
}

function firstUsable(cidr: Cidr): InterfaceAddress {
  return { address: formatIp({ family: cidr.family, value: cidr.base + 1n }), prefix: cidr.prefix };
}

function subnetCidrs(subnet: Subnet): Cidr[] {
  return subnetBlocks(subnet)
    .map((text) => parseCidr(text)?.cidr)
    .filter((c): c is Cidr => c !== undefined);
}

/** The interface that carries an instance's primary address (device index 0). */
export function primaryInterface(estate: Estate, instance: Instance): NetworkInterface | undefined {
  const own = estate.networkInterfaces.filter(
    (eni) => eni.instanceId === instance.id || instance.interfaceIds.includes(eni.id),
  );
  return (
    own.find((eni) => eni.deviceIndex === 0) ??
    own.find((eni) => instance.privateIp !== undefined && eni.privateIpv4.includes(instance.privateIp)) ??
    own[0]
  );
}

function hostFor(instance: Instance, eni: NetworkInterface, subnet: Subnet): LabHost | undefined {
  const cidrs = subnetCidrs(subnet);
  const addresses: InterfaceAddress[] = [];
  for (const text of [...eni.privateIpv4, ...eni.ipv6]) {
    const ip = parseIp(text);
    if (!ip) continue;
    const home = cidrs.find((c) => cidrContains(c, ip));
    if (home) addresses.push({ address: formatIp(ip), prefix: home.prefix });
  }
  if (addresses.length === 0) return undefined;
  const v4 = cidrs.find((c) => c.family === 4);
  const v6 = cidrs.find((c) => c.family === 6);
  const hasV6 = addresses.some((a) => a.address.includes(":"));
  return {
    instanceId: instance.id,
    namespace: instanceNamespace(instance.id),
    vpcId: subnet.vpcId,
    subnetId: subnet.id,
    routerNamespace: routerNamespace(subnet.vpcId),
    bridge: subnetBridge(subnet.id),
    port: instancePort(instance.id),
    addresses,
    ...(v4 ? { gateway4: firstUsable(v4).address } : {}),
    ...(v6 && hasV6 ? { gateway6: firstUsable(v6).address } : {}),
  };
}

export function labTopology(estate: Estate): LabTopology {
  const subnets = new Map(estate.subnets.map((s) => [s.id, s]));
  const hosts = new Map<string, LabHost>();
  for (const instance of estate.instances) {
    if (!RUNNING_STATES.has(instance.state)) continue;
    const eni = primaryInterface(estate, instance);
    const subnet = subnets.get(eni?.subnetId ?? instance.subnetId ?? "");
    if (!eni || !subnet) continue;
    const host = hostFor(instance, eni, subnet);
    if (host) hosts.set(instance.id, host);
  }
  const routers = new Map<string, VpcRouter>();
  const vpcsInUse = new Set([...hosts.values()].map((h) => h.vpcId));
  for (const vpcId of vpcsInUse) {
    const segments = estate.subnets
      .filter((s) => s.vpcId === vpcId)
      .map((s) => ({
        subnetId: s.id,
        bridge: subnetBridge(s.id),
        gateways: subnetCidrs(s).map(firstUsable),
      }));
    routers.set(vpcId, { vpcId, namespace: routerNamespace(vpcId), segments });
  }
  return { routers, hosts };
}
