import { createHash } from "node:crypto";

// Everything the lab creates is named with this prefix, so `ringfence lab down` can find it all,
// including the leftovers of a run that crashed. Namespace names are readable (derived from the
// EC2 id); interface names are limited to 15 bytes, so they carry a short stable hash instead.

export const LAB_PREFIX = "rf-";

/** Whether a namespace is one the lab makes: an instance's or a VPC router's. */
export function isLabNamespace(name: string): boolean {
  return name.startsWith(`${LAB_PREFIX}i-`) || name.startsWith(`${LAB_PREFIX}vpc-`);
}

/** The namespace that plays an instance: `rf-i-0123...`. */
export function instanceNamespace(instanceId: string): string {
  return `${LAB_PREFIX}${instanceId}`;
}

/** The namespace that routes between the subnets of one VPC: `rf-vpc-0123...`. */
export function routerNamespace(vpcId: string): string {
  return `${LAB_PREFIX}${vpcId}`;
}

function shortHash(id: string): string {
  return createHash("sha256").update(id).digest("hex").slice(0, 10);
}

/** The subnet's bridge inside its VPC's router namespace (15 bytes). */
export function subnetBridge(subnetId: string): string {
  return `${LAB_PREFIX}b${shortHash(subnetId)}`;
}

/** The router-side end of an instance's veth, enslaved to the subnet's bridge (15 bytes). */
export function instancePort(instanceId: string): string {
  return `${LAB_PREFIX}p${shortHash(instanceId)}`;
}

/**
 * A stable, locally administered MAC address for an id. Interfaces keep their address when they are
 * rebuilt (an instance stopped and started), as an ENI does, so neighbours' ARP caches stay right.
 */
export function stableMac(id: string): string {
  const hex = createHash("sha256").update(`mac:${id}`).digest("hex").slice(0, 10);
  return `02:${hex.match(/../g)?.join(":")}`;
}

/** The instance-side end of its veth, as on an EC2 instance. */
export const INSTANCE_INTERFACE = "eth0";
