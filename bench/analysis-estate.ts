// A seeded generator of realistic estates for the analysis benchmark and the matrix cross-checks:
// per 10 interfaces one group; about 20 rules per group; services (one group each plus a fixed
// choice of shared groups) spread over the three AZ subnets of their tier, so that instances of a
// service share a policy as autoscaling groups do; group references between services, CIDR rules,
// prefix lists, a few world-open ports, custom NACLs on private subnets, some public and Elastic
// IPs and some IPv6.

import type {
  ElasticAddress,
  Estate,
  Instance,
  NetworkAcl,
  NetworkAclEntry,
  NetworkInterface,
  PrefixList,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
} from "../src/model/estate.js";

/** mulberry32: small, fast, good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GeneratedEstateOptions {
  readonly interfaces: number;
  readonly seed?: number;
  /** Groups per interface (default 0.1: 10k interfaces, 1k groups). */
  readonly groupRatio?: number;
  /** Rules per group on average (default 20). */
  readonly rulesPerGroup?: number;
}

const PORTS = [22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9090, 9200, 11211, 27017, 53, 123, 2049];
const ACCOUNT = "123456789012";

export function generateEstate(options: GeneratedEstateOptions): Estate {
  const rnd = seededRandom(options.seed ?? 1);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const hex = (n: number, width = 17) => n.toString(16).padStart(width, "0");
  const total = options.interfaces;
  const vpcCount = Math.max(1, Math.ceil(total / 20000));
  const groupCount = Math.max(8, Math.round(total * (options.groupRatio ?? 0.1)));
  const rulesPerGroup = options.rulesPerGroup ?? 20;

  const vpcs: Vpc[] = [];
  const subnets: Subnet[] = [];
  const acls: NetworkAcl[] = [];
  const subnetTiers: { public: Subnet[]; private: Subnet[] }[] = [];
  for (let v = 0; v < vpcCount; v++) {
    const vpcId = `vpc-${hex(v + 1)}`;
    // 10.v.0.0/16 would not fit 20k interfaces in six subnets comfortably: use 10.(4v).0.0/14
    const base = 4 * v;
    vpcs.push({
      id: vpcId,
      ownerId: ACCOUNT,
      cidrs: [`10.${base}.0.0/14`],
      ipv6Cidrs: [`2600:1f18:${hex(v, 4)}::/56`],
      isDefault: false,
      tags: {},
    });
    const tiers = { public: [] as Subnet[], private: [] as Subnet[] };
    for (let s = 0; s < 6; s++) {
      const subnet: Subnet = {
        id: `subnet-${hex(v * 16 + s + 1)}`,
        vpcId,
        ownerId: ACCOUNT,
        cidr: `10.${base + Math.floor(s / 2)}.${(s % 2) * 128}.0/17`,
        ipv6Cidrs: [`2600:1f18:${hex(v, 4)}:${s.toString(16)}::/64`],
        availabilityZone: `us-east-1${"abc"[s % 3]}`,
        tags: { Name: `${s < 3 ? "public" : "private"}-${v}-${s % 3}` },
      };
      subnets.push(subnet);
      (s < 3 ? tiers.public : tiers.private).push(subnet);
    }
    subnetTiers.push(tiers);
    acls.push({
      id: `acl-${hex(v * 2 + 1)}`,
      vpcId,
      ownerId: ACCOUNT,
      isDefault: true,
      entries: [
        { ruleNumber: 100, egress: false, protocol: "-1", action: "allow", cidr: "0.0.0.0/0" },
        { ruleNumber: 100, egress: true, protocol: "-1", action: "allow", cidr: "0.0.0.0/0" },
      ],
      subnetIds: tiers.public.map((s) => s.id),
      tags: {},
    });
    const entries: NetworkAclEntry[] = [
      {
        ruleNumber: 50,
        egress: false,
        protocol: "6",
        action: "deny",
        cidr: "10.200.0.0/16",
        portRange: { from: 0, to: 65535 },
      },
      {
        ruleNumber: 90,
        egress: false,
        protocol: "6",
        action: "deny",
        cidr: `10.${base}.0.0/24`,
        portRange: { from: 22, to: 22 },
      },
      { ruleNumber: 100, egress: false, protocol: "-1", action: "allow", cidr: `10.${base}.0.0/14` },
      {
        ruleNumber: 110,
        egress: false,
        protocol: "6",
        action: "allow",
        cidr: "0.0.0.0/0",
        portRange: { from: 1024, to: 65535 },
      },
      {
        ruleNumber: 120,
        egress: false,
        protocol: "6",
        action: "allow",
        cidr: "0.0.0.0/0",
        portRange: { from: 443, to: 443 },
      },
      {
        ruleNumber: 130,
        egress: false,
        protocol: "1",
        action: "allow",
        cidr: "0.0.0.0/0",
        icmp: { type: 8, code: -1 },
      },
      { ruleNumber: 100, egress: true, protocol: "-1", action: "allow", cidr: "0.0.0.0/0" },
      {
        ruleNumber: 100,
        egress: false,
        protocol: "-1",
        action: "allow",
        cidr: `2600:1f18:${hex(v, 4)}::/56`,
      },
    ];
    acls.push({
      id: `acl-${hex(v * 2 + 2)}`,
      vpcId,
      ownerId: ACCOUNT,
      isDefault: false,
      entries,
      subnetIds: tiers.private.map((s) => s.id),
      tags: {},
    });
  }

  const prefixLists: PrefixList[] = [];
  for (let p = 0; p < 5; p++) {
    const entries = Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => ({
      cidr: `${52 + Math.floor(rnd() * 40)}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.0/24`,
    }));
    prefixLists.push({
      id: `pl-${hex(p + 1)}`,
      name: `pl-${p}`,
      ownerId: ACCOUNT,
      addressFamily: "IPv4",
      maxEntries: 10,
      entries,
    });
  }

  // Groups: per VPC a default (self-referencing) group, a bastion group and ssh-from-bastion;
  // everything else is one service group each.
  const groups: { id: string; vpc: number; rules: SecurityGroupRule[]; name: string }[] = [];
  let ruleSeq = 0;
  const rule = (
    groupId: string,
    direction: "ingress" | "egress",
    protocol: string,
    fromPort: number,
    toPort: number,
    peer: RulePeer,
  ): SecurityGroupRule => ({
    id: `sgr-${hex(++ruleSeq)}`,
    groupId,
    direction,
    protocol,
    fromPort,
    toPort,
    peer,
  });
  const shared: { defaultId: string; bastionId: string; sshId: string }[] = [];
  let gSeq = 0;
  const newGroupId = () => `sg-${hex(++gSeq)}`;
  for (let v = 0; v < vpcCount; v++) {
    const defaultId = newGroupId();
    const bastionId = newGroupId();
    const sshId = newGroupId();
    groups.push({
      id: defaultId,
      vpc: v,
      name: "default",
      rules: [
        rule(defaultId, "ingress", "-1", -1, -1, { kind: "group", groupId: defaultId, userId: ACCOUNT }),
        rule(defaultId, "egress", "-1", -1, -1, { kind: "ipv4", cidr: "0.0.0.0/0" }),
      ],
    });
    groups.push({
      id: bastionId,
      vpc: v,
      name: "bastion",
      rules: [
        rule(bastionId, "ingress", "tcp", 22, 22, { kind: "ipv4", cidr: "203.0.113.0/24" }),
        rule(bastionId, "egress", "-1", -1, -1, { kind: "ipv4", cidr: "0.0.0.0/0" }),
      ],
    });
    groups.push({
      id: sshId,
      vpc: v,
      name: "ssh-from-bastion",
      rules: [rule(sshId, "ingress", "tcp", 22, 22, { kind: "group", groupId: bastionId, userId: ACCOUNT })],
    });
    shared.push({ defaultId, bastionId, sshId });
  }
  const serviceIds: { id: string; vpc: number }[] = [];
  while (groups.length < groupCount) {
    const v = serviceIds.length % vpcCount;
    const id = newGroupId();
    groups.push({ id, vpc: v, name: `svc-${serviceIds.length}`, rules: [] });
    serviceIds.push({ id, vpc: v });
  }
  const groupById = new Map(groups.map((g) => [g.id, g]));
  for (const s of serviceIds) {
    const g = groupById.get(s.id) as (typeof groups)[number];
    const target = Math.max(2, Math.round(rulesPerGroup * (0.5 + rnd())));
    const sameVpc = serviceIds.filter((s) => s.vpc === g.vpc);
    const allOut = rnd() < 0.85;
    if (allOut) g.rules.push(rule(g.id, "egress", "-1", -1, -1, { kind: "ipv4", cidr: "0.0.0.0/0" }));
    // dual-stack services also open IPv6 egress, as the console does for VPCs with IPv6
    if (allOut && rnd() < 0.5)
      g.rules.push(rule(g.id, "egress", "-1", -1, -1, { kind: "ipv6", cidr: "::/0" }));
    while (g.rules.length < target) {
      const r = rnd();
      const port = pick(PORTS);
      const proto = rnd() < 0.9 ? "tcp" : "udp";
      const direction = !allOut && rnd() < 0.4 ? "egress" : "ingress";
      if (r < 0.45) {
        const other = pick(sameVpc);
        g.rules.push(
          rule(g.id, direction, proto, port, port, { kind: "group", groupId: other.id, userId: ACCOUNT }),
        );
      } else if (r < 0.85) {
        const base = 4 * g.vpc + Math.floor(rnd() * 4);
        const prefix = pick([16, 20, 24, 26, 28, 32]);
        const third = Math.floor(rnd() * 256);
        const cidr =
          prefix === 16
            ? `10.${base}.0.0/16`
            : `10.${base}.${third}.${prefix === 32 ? Math.floor(rnd() * 256) : 0}/${prefix}`;
        const wide = rnd() < 0.2;
        g.rules.push(
          rule(g.id, direction, proto, wide ? 1024 : port, wide ? 65535 : port, {
            kind: "ipv4",
            cidr: canonical(cidr),
          }),
        );
      } else if (r < 0.93) {
        g.rules.push(
          rule(g.id, direction, "tcp", 443, 443, { kind: "prefix-list", prefixListId: pick(prefixLists).id }),
        );
      } else if (r < 0.97) {
        g.rules.push(
          rule(g.id, "ingress", "tcp", pick([80, 443, 22, 3389]), 0, { kind: "ipv4", cidr: "0.0.0.0/0" }),
        );
        const last = g.rules.pop() as SecurityGroupRule;
        g.rules.push({ ...last, toPort: last.fromPort });
      } else {
        g.rules.push(rule(g.id, "ingress", "icmp", 8, -1, { kind: "ipv4", cidr: "10.0.0.0/8" }));
      }
    }
  }
  const securityGroups: SecurityGroup[] = groups.map((g) => ({
    id: g.id,
    name: g.name,
    description: g.name,
    vpcId: `vpc-${hex(g.vpc + 1)}`,
    ownerId: ACCOUNT,
    tags: {},
    rules: g.rules,
  }));

  // Each service has a fixed set of extra groups and a tier; its instances spread over the tier's AZs.
  const services = serviceIds.map((s) => ({
    ...s,
    groupIds: [
      s.id,
      ...(rnd() < 0.3 ? [(shared[s.vpc] as (typeof shared)[number]).defaultId] : []),
      ...(rnd() < 0.4 ? [(shared[s.vpc] as (typeof shared)[number]).sshId] : []),
    ],
    tier: rnd() < 0.3 ? ("public" as const) : ("private" as const),
  }));
  const networkInterfaces: NetworkInterface[] = [];
  const instances: Instance[] = [];
  const addresses: ElasticAddress[] = [];
  const nextHost = new Map<string, number>();
  const hostIn = (subnet: Subnet): string => {
    const k = (nextHost.get(subnet.id) ?? 4) + 1;
    nextHost.set(subnet.id, k);
    const [a, b, c] = (subnet.cidr as string).split(".").map(Number) as [number, number, number];
    const offset = (c ?? 0) * 256 + k;
    return `${a}.${b}.${Math.floor(offset / 256)}.${offset % 256}`;
  };
  let eniSeq = 0;
  let instSeq = 0;
  while (networkInterfaces.length < total) {
    const k = networkInterfaces.length;
    // a few bastions per VPC, then services round-robin with skew
    const bastion = k % 500 === 0;
    const service = services[Math.floor(rnd() ** 1.3 * services.length)] as (typeof services)[number];
    const v = bastion ? (k / 500) % vpcCount : service.vpc;
    const tier = bastion ? "public" : service.tier;
    const subnet = pick((subnetTiers[v] as (typeof subnetTiers)[number])[tier]);
    const groupIds = bastion ? [(shared[v] as (typeof shared)[number]).bastionId] : service.groupIds;
    const instanceId = `i-${hex(++instSeq)}`;
    const enis = rnd() < 0.05 ? 2 : 1;
    const ids: string[] = [];
    for (let e = 0; e < enis && networkInterfaces.length < total; e++) {
      const id = `eni-${hex(++eniSeq)}`;
      const publicIp =
        tier === "public" && rnd() < 0.4
          ? `54.${Math.floor(eniSeq / 65536) % 256}.${Math.floor(eniSeq / 256) % 256}.${eniSeq % 256}`
          : undefined;
      const ipv6 =
        rnd() < 0.2
          ? [`${(subnet.ipv6Cidrs[0] as string).replace("::/64", "")}::${eniSeq.toString(16)}`]
          : [];
      networkInterfaces.push({
        id,
        ownerId: ACCOUNT,
        vpcId: subnet.vpcId,
        subnetId: subnet.id,
        privateIpv4: [hostIn(subnet)],
        ipv6,
        groupIds,
        instanceId,
        deviceIndex: e,
        ...(publicIp ? { publicIp } : {}),
        tags: {},
      });
      if (publicIp && rnd() < 0.1)
        addresses.push({ allocationId: `eipalloc-${hex(eniSeq)}`, publicIp, networkInterfaceId: id });
      ids.push(id);
    }
    instances.push({
      id: instanceId,
      ownerId: ACCOUNT,
      state: "running",
      vpcId: subnet.vpcId,
      subnetId: subnet.id,
      interfaceIds: ids,
      tags: { Role: bastion ? "bastion" : `svc-${services.indexOf(service)}` },
    });
  }
  return {
    vpcs,
    subnets,
    securityGroups,
    networkInterfaces,
    instances,
    networkAcls: acls,
    prefixLists,
    addresses,
  };
}

function canonical(cidr: string): string {
  const [ip, prefixText] = cidr.split("/") as [string, string];
  const prefix = Number(prefixText);
  const value = ip.split(".").reduce((acc, p) => acc * 256 + Number(p), 0);
  const size = 2 ** (32 - prefix);
  const base = Math.floor(value / size) * size;
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join(".")}/${prefix}`;
}
