// The estate of the compile benchmark: 10,000 interfaces (one instance each), 1,000 groups of 20
// rules (20,000 rules), about 40 % of them group references, plus CIDR and prefix-list rules.
// Interface i carries groups i mod 1000 and (7i+3) mod 1000, so every group has about 20 members.

import type {
  Estate,
  NetworkInterface,
  PrefixList,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
} from "../src/model/estate.js";
import { EMPTY_ESTATE } from "../src/model/estate.js";

export interface CompileEstateSize {
  readonly interfaces: number;
  readonly groups: number;
  readonly rulesPerGroup: number;
}

export const DEFAULT_SIZE: CompileEstateSize = { interfaces: 10_000, groups: 1_000, rulesPerGroup: 20 };

/** Deterministic pseudo-random numbers (mulberry32), so runs compare. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OWNER = "111122223333";
export const groupId = (g: number) => `sg-${g.toString(16).padStart(17, "0")}`;
export const instanceId = (i: number) => `i-${i.toString(16).padStart(17, "0")}`;
const ruleId = (g: number, k: number) => `sgr-${(g * 100 + k).toString(16).padStart(17, "0")}`;

export function interfaceAddress(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

export function compileEstate(size: CompileEstateSize = DEFAULT_SIZE): Estate {
  const next = random(42);
  const int = (n: number) => Math.floor(next() * n);
  const prefixLists: PrefixList[] = Array.from({ length: 10 }, (_, p) => ({
    id: `pl-${p.toString(16).padStart(17, "0")}`,
    name: `list-${p}`,
    ownerId: OWNER,
    addressFamily: "IPv4" as const,
    maxEntries: 20,
    entries: Array.from({ length: 10 }, () => ({ cidr: `192.168.${int(256)}.0/24` })),
  }));
  const groups: SecurityGroup[] = [];
  for (let g = 0; g < size.groups; g++) {
    const rules: SecurityGroupRule[] = [];
    for (let k = 0; k < size.rulesPerGroup; k++) {
      const kind = k % 10;
      let peer: RulePeer;
      if (kind < 4) peer = { kind: "group", groupId: groupId(int(size.groups)), userId: OWNER };
      else if (kind < 8) peer = { kind: "ipv4", cidr: `172.${16 + int(16)}.${int(256)}.0/24` };
      else if (kind === 8) peer = { kind: "prefix-list", prefixListId: prefixLists[int(10)]?.id as string };
      else peer = { kind: "ipv4", cidr: "0.0.0.0/0" };
      const protocol = kind === 9 ? "-1" : k % 7 === 0 ? "udp" : "tcp";
      const port = 1000 + int(60_000);
      rules.push({
        id: ruleId(g, k),
        groupId: groupId(g),
        direction: k % 4 === 3 ? "egress" : "ingress",
        protocol,
        fromPort: protocol === "-1" ? -1 : port,
        toPort: protocol === "-1" ? -1 : port + int(3),
        peer,
      });
    }
    groups.push({
      id: groupId(g),
      name: `group-${g}`,
      description: "bench",
      vpcId: "vpc-1",
      ownerId: OWNER,
      tags: {},
      rules,
    });
  }
  const interfaces: NetworkInterface[] = [];
  for (let i = 0; i < size.interfaces; i++) {
    interfaces.push({
      id: `eni-${i.toString(16).padStart(17, "0")}`,
      ownerId: OWNER,
      vpcId: "vpc-1",
      subnetId: "subnet-1",
      privateIpv4: [interfaceAddress(i)],
      ipv6: [],
      groupIds: [...new Set([groupId(i % size.groups), groupId((7 * i + 3) % size.groups)])],
      instanceId: instanceId(i),
      tags: {},
    });
  }
  return {
    ...EMPTY_ESTATE,
    securityGroups: groups,
    networkInterfaces: interfaces,
    prefixLists,
    instances: interfaces.map((eni) => ({
      id: eni.instanceId as string,
      ownerId: OWNER,
      state: "running",
      interfaceIds: [eni.id],
      tags: {},
    })),
  };
}

/** The same estate with one more interface on instance `instance`, carrying `groups` groups. */
export function withLargeHost(estate: Estate, instance: string, groups: number): Estate {
  const eni: NetworkInterface = {
    id: "eni-large",
    ownerId: OWNER,
    vpcId: "vpc-1",
    subnetId: "subnet-1",
    privateIpv4: ["10.200.0.1"],
    ipv6: [],
    groupIds: Array.from({ length: groups }, (_, g) => groupId(g)),
    instanceId: instance,
    tags: {},
  };
  return {
    ...estate,
    networkInterfaces: [...estate.networkInterfaces, eni],
    instances: [
      ...estate.instances,
      { id: instance, ownerId: OWNER, state: "running", interfaceIds: [eni.id], tags: {} },
    ],
  };
}
