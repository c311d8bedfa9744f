// New TCP connections per second between two lab instances, with no firewall and with the policy
// of a large estate (1,000 groups, 20,000 rules, 10,000 group members) compiled for the server
// instance, measured side by side in alternating rounds, with the ratio. A third pair runs a table
// that only tracks connections and accepts everything: it splits the firewall's cost into what
// any stateful firewall pays (connection tracking) and what the compiled rules add. The client and the echo
// server are the lab's Node probe agents, so the absolute rates are theirs; the ratio is the cost
// of the firewall. Each connection is a full connect, one echo round trip and close. Needs root:
// it creates and removes its own namespaces.

import { randomBytes } from "node:crypto";
import { NftSessionKernel } from "../src/agent/nft-session.js";
import { hostPolicyFor } from "../src/compile/host-policy.js";
import { execInNamespace } from "../src/lab/iproute.js";
import { Lab } from "../src/lab/lab.js";
import { instanceNamespace } from "../src/lab/names.js";
import { Prober } from "../src/lab/probe.js";
import type {
  Estate,
  Instance,
  NetworkInterface,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
} from "../src/model/estate.js";
import { EMPTY_ESTATE } from "../src/model/estate.js";
import type { BenchOptions } from "./main.js";

const ACCOUNT = "123456789012";
const PORT = 8080;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number) => randomBytes(n).toString("hex");

interface Pair {
  readonly estate: Estate;
  readonly client: Instance & { privateIp: string };
  readonly server: Instance & { privateIp: string };
}

interface Scale {
  readonly groups: number;
  readonly rulesPerGroup: number;
  readonly members: number;
}

/**
 * A VPC with a client and a server instance. With a scale, the VPC also holds that many groups,
 * rules and member interfaces, the server carries five of the groups whose rules reference others,
 * and the rule that admits the client is the last one of the server's last group.
 */
function buildPair(cidrByte: number, scale: Scale | undefined, seed: number): Pair {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const vpcId = `vpc-0${hex(8)}`;
  const subnetId = `subnet-0${hex(8)}`;
  const memberSubnetId = `subnet-0${hex(8)}`;
  const vpc: Vpc = {
    id: vpcId,
    ownerId: ACCOUNT,
    cidrs: [`10.${cidrByte}.0.0/16`],
    ipv6Cidrs: [],
    isDefault: false,
    tags: {},
  };
  const subnets: Subnet[] = [
    {
      id: subnetId,
      vpcId,
      ownerId: ACCOUNT,
      cidr: `10.${cidrByte}.1.0/24`,
      ipv6Cidrs: [],
      availabilityZone: "us-east-1a",
      tags: {},
    },
    {
      id: memberSubnetId,
      vpcId,
      ownerId: ACCOUNT,
      cidr: `10.${cidrByte}.64.0/18`,
      ipv6Cidrs: [],
      availabilityZone: "us-east-1a",
      tags: {},
    },
  ];
  const groupIds = Array.from({ length: scale?.groups ?? 0 }, () => `sg-0${hex(8)}`);
  const clientGroup = `sg-0${hex(8)}`;
  let ruleCount = 0;
  const rule = (groupId: string, r: Omit<SecurityGroupRule, "id" | "groupId">): SecurityGroupRule => ({
    ...r,
    id: `sgr-0${(++ruleCount).toString(16).padStart(16, "0")}`,
    groupId,
  });
  const allEgress = (g: string) =>
    rule(g, {
      direction: "egress",
      protocol: "-1",
      fromPort: -1,
      toPort: -1,
      peer: { kind: "ipv4", cidr: "0.0.0.0/0" },
    });
  const randomPeer = (): RulePeer => {
    const c = random();
    if (c < 0.5 && groupIds.length > 0) return { kind: "group", groupId: pick(groupIds), userId: ACCOUNT };
    if (c < 0.9)
      return { kind: "ipv4", cidr: `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.0/24` };
    return { kind: "ipv6", cidr: `fd00:${Math.floor(random() * 65536).toString(16)}::/48` };
  };
  const randomRule = (g: string): SecurityGroupRule => {
    const c = random();
    const port = 1 + Math.floor(random() * 60000);
    const service =
      c < 0.6
        ? {
            protocol: "tcp",
            fromPort: port,
            toPort: port + (random() < 0.3 ? Math.floor(random() * 100) : 0),
          }
        : c < 0.85
          ? { protocol: "udp", fromPort: port, toPort: port }
          : { protocol: "icmp", fromPort: Math.floor(random() * 16), toPort: -1 };
    return rule(g, { direction: random() < 0.7 ? "ingress" : "egress", ...service, peer: randomPeer() });
  };
  const groups: SecurityGroup[] = groupIds.map((id, i) => ({
    id,
    name: `g${i}`,
    description: `g${i}`,
    vpcId,
    ownerId: ACCOUNT,
    tags: {},
    rules: [allEgress(id), ...Array.from({ length: (scale?.rulesPerGroup ?? 1) - 1 }, () => randomRule(id))],
  }));
  const serverGroups = groupIds.slice(0, 5);
  if (serverGroups.length === 0) serverGroups.push(`sg-0${hex(8)}`);
  const last = serverGroups[serverGroups.length - 1] as string;
  const admit = rule(last, {
    direction: "ingress",
    protocol: "tcp",
    fromPort: PORT,
    toPort: PORT,
    peer: { kind: "group", groupId: clientGroup, userId: ACCOUNT },
  });
  const lastIndex = groups.findIndex((g) => g.id === last);
  if (lastIndex >= 0) {
    const g = groups[lastIndex] as SecurityGroup;
    groups[lastIndex] = { ...g, rules: [...g.rules, admit] };
  } else {
    groups.push({
      id: last,
      name: "server",
      description: "server",
      vpcId,
      ownerId: ACCOUNT,
      tags: {},
      rules: [allEgress(last), admit],
    });
  }
  groups.push({
    id: clientGroup,
    name: "client",
    description: "client",
    vpcId,
    ownerId: ACCOUNT,
    tags: {},
    rules: [allEgress(clientGroup)],
  });

  const interfaces: NetworkInterface[] = [];
  for (let m = 0; m < (scale?.members ?? 0); m++) {
    const memberGroups = new Set([pick(groupIds)]);
    if (random() < 0.5) memberGroups.add(pick(groupIds));
    interfaces.push({
      id: `eni-0${hex(8)}`,
      ownerId: ACCOUNT,
      vpcId,
      subnetId: memberSubnetId,
      privateIpv4: [`10.${cidrByte}.${64 + Math.floor(m / 256)}.${m % 256}`],
      ipv6: [],
      groupIds: [...memberGroups],
      tags: {},
    });
  }
  const instance = (ip: string, groupIdsOf: readonly string[]) => {
    const id = `i-0${hex(8)}`;
    const eniId = `eni-0${hex(8)}`;
    interfaces.push({
      id: eniId,
      ownerId: ACCOUNT,
      vpcId,
      subnetId,
      privateIpv4: [ip],
      ipv6: [],
      groupIds: groupIdsOf,
      instanceId: id,
      deviceIndex: 0,
      tags: {},
    });
    return {
      id,
      ownerId: ACCOUNT,
      state: "running",
      vpcId,
      subnetId,
      privateIp: ip,
      interfaceIds: [eniId],
      tags: {},
    };
  };
  const client = instance(`10.${cidrByte}.1.10`, [clientGroup]);
  const server = instance(`10.${cidrByte}.1.20`, serverGroups);
  return {
    estate: {
      ...EMPTY_ESTATE,
      vpcs: [vpc],
      subnets,
      securityGroups: groups,
      networkInterfaces: interfaces,
      instances: [client, server],
    },
    client,
    server,
  };
}

function option(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function run({ json, args }: BenchOptions): Promise<void> {
  const rounds = option(args, "--rounds", 10);
  const durationMs = option(args, "--seconds", 1) * 1000;
  const concurrency = option(args, "--concurrency", 8);
  const scale: Scale = { groups: 1000, rulesPerGroup: 20, members: 10_000 };
  const bare = buildPair(210, undefined, 1);
  const policy = buildPair(211, scale, 2);
  const counts = {
    groups: policy.estate.securityGroups.length,
    rules: policy.estate.securityGroups.reduce((n, g) => n + g.rules.length, 0),
    members: policy.estate.networkInterfaces.filter((e) => e.groupIds.length > 0).length,
  };
  const serverPolicy = hostPolicyFor(policy.estate, policy.server.id);
  const hostRules = (serverPolicy?.interfaces ?? []).reduce(
    (n, i) => n + i.ingress.length + i.egress.length,
    0,
  );
  const hostMembers = (serverPolicy?.groups ?? []).reduce((n, g) => n + g.ipv4.length + g.ipv6.length, 0);

  const tracked = buildPair(212, undefined, 3);
  const bareLab = new Lab({ firewall: () => ({ apply: async () => {} }) });
  const trackedLab = new Lab({ firewall: trackingOnly });
  const policyLab = new Lab();
  const prober = new Prober(1000);
  try {
    const syncStart = performance.now();
    await policyLab.sync(policy.estate, 1);
    const policySyncMs = performance.now() - syncStart;
    await bareLab.sync(bare.estate, 1);
    await trackedLab.sync(tracked.estate, 1);
    for (const pair of [bare, tracked, policy]) {
      // Many short connections from one address: reuse TIME_WAIT ports as a busy client would.
      const tuned = await execInNamespace(instanceNamespace(pair.client.id), [
        "sysctl",
        "-qw",
        "net.ipv4.tcp_tw_reuse=1",
        "net.ipv4.ip_local_port_range=1024 65535",
      ]);
      if (tuned.code !== 0) throw new Error(`sysctl: ${tuned.stderr}`);
      const check = await prober.probe(
        instanceNamespace(pair.client.id),
        instanceNamespace(pair.server.id),
        pair.server.privateIp,
        { protocol: "tcp", port: PORT },
      );
      if (check !== "open") throw new Error("the client cannot reach the server before measuring");
    }
    const measure = async (pair: Pair): Promise<{ rate: number; failed: number }> => {
      const reply = await prober.agent(instanceNamespace(pair.client.id)).request({
        op: "rate",
        host: pair.server.privateIp,
        port: PORT,
        durationMs,
        concurrency,
      });
      return { rate: ((reply.completed ?? 0) * 1000) / durationMs, failed: reply.failed ?? 0 };
    };
    const bareRates: number[] = [];
    const trackedRates: number[] = [];
    const policyRates: number[] = [];
    let failed = 0;
    const cases = [
      { pair: bare, rates: bareRates },
      { pair: tracked, rates: trackedRates },
      { pair: policy, rates: policyRates },
    ];
    // A round of each that is not counted: the first connections of a probe agent pay for its JIT.
    for (const { pair } of cases) await measure(pair);
    for (let r = 0; r < rounds; r++) {
      // Each round starts with the next case, so that no case always follows the same one.
      for (let k = 0; k < cases.length; k++) {
        const { pair, rates } = cases[(r + k) % cases.length] as (typeof cases)[number];
        const measured = await measure(pair);
        rates.push(measured.rate);
        failed += measured.failed;
      }
    }
    const ratioOf = (num: number[], den: number[]) =>
      Math.round(median(num.map((p, i) => p / (den[i] || 1))) * 1000) / 1000;
    const result = {
      benchmark: "dataplane",
      estate: counts,
      serverHost: { rules: hostRules, memberAddresses: hostMembers },
      policySyncMs: Math.round(policySyncMs),
      rounds,
      secondsPerRound: durationMs / 1000,
      concurrency,
      noFirewallConnPerSec: Math.round(median(bareRates)),
      trackingOnlyConnPerSec: Math.round(median(trackedRates)),
      policyConnPerSec: Math.round(median(policyRates)),
      // Each round pairs a no-firewall and a policy measurement taken back to back: the median of
      // the per-round ratios is robust to the machine's load changing between rounds.
      ratio: ratioOf(policyRates, bareRates),
      trackingOnlyRatio: ratioOf(trackedRates, bareRates),
      policyToTrackingRatio: ratioOf(policyRates, trackedRates),
      ratioOfMedians: Math.round((median(policyRates) / median(bareRates)) * 1000) / 1000,
      failedConnections: failed,
    };
    console.log(
      `dataplane: new TCP connections/s between two lab instances (median of ${rounds} rounds of ${durationMs / 1000} s after one uncounted, the order rotating, ${concurrency} lanes)`,
    );
    console.log(
      `policy estate: ${counts.groups} groups, ${counts.rules} rules, ${counts.members} members; server host: ${hostRules} rules, ${hostMembers} member addresses; first apply ${result.policySyncMs} ms`,
    );
    console.log(`${"case".padEnd(14)}${"conn/s".padStart(10)}   rounds`);
    console.log(
      `${"no firewall".padEnd(14)}${String(result.noFirewallConnPerSec).padStart(10)}   ${bareRates.map(Math.round).join(" ")}`,
    );
    console.log(
      `${"tracking only".padEnd(14)}${String(result.trackingOnlyConnPerSec).padStart(10)}   ${trackedRates.map(Math.round).join(" ")}`,
    );
    console.log(
      `${"policy".padEnd(14)}${String(result.policyConnPerSec).padStart(10)}   ${policyRates.map(Math.round).join(" ")}`,
    );
    console.log(
      `${"ratio".padEnd(14)}${result.ratio.toFixed(3).padStart(10)}   median of per-round ratios (ratio of medians ${result.ratioOfMedians.toFixed(3)}); failed connections: ${failed}`,
    );
    console.log(
      `${"".padEnd(14)}${"".padStart(10)}   tracking only / no firewall ${result.trackingOnlyRatio.toFixed(3)}; policy / tracking only ${result.policyToTrackingRatio.toFixed(3)}`,
    );
    if (json) console.log(JSON.stringify(result));
  } finally {
    await prober.close();
    await bareLab.close();
    await trackedLab.close();
    await policyLab.close();
  }
}

/** A table that tracks every connection and accepts everything: a stateful firewall's floor. */
function trackingOnly(namespace: string) {
  const kernel = new NftSessionKernel({ netns: namespace });
  const chain = (hook: string) =>
    `chain ${hook} { type filter hook ${hook} priority filter; policy accept; ct state established,related accept; ct state invalid drop; }`;
  return {
    apply: async () => {
      await kernel.apply(`table inet ringfence {\n${chain("input")}\n${chain("output")}\n}\n`);
    },
    close: () => kernel.close(),
  };
}
