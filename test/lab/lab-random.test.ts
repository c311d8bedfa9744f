import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Lab } from "../../src/lab/lab.js";
import { Prober, type ProbeTarget } from "../../src/lab/probe.js";
import { renderTruthTables, verifyLab } from "../../src/lab/verify.js";
import type { RulePeer, SecurityGroupRule } from "../../src/model/estate.js";
import { ACCOUNT, EstateBuilder, sweepTestNamespaces } from "./estate-builder.js";

// Random groups, rules and memberships on a handful of lab instances, then every pair probed with
// real packets and compared with the evaluator: the kernel and the definition of "allowed" must
// agree on every cell. RINGFENCE_SEED=N replays a run.

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

const TARGETS: ProbeTarget[] = [
  { protocol: "tcp", port: 22 },
  { protocol: "tcp", port: 80 },
  { protocol: "udp", port: 53 },
  { protocol: "icmp", port: -1 },
];

const seed = Number(process.env.RINGFENCE_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`lab randomized policy vs evaluator (seed ${seed})`, () => {
  const lab = new Lab();
  const prober = new Prober(400);
  before(sweepTestNamespaces);
  after(async () => {
    await prober.close();
    await lab.close();
    await sweepTestNamespaces();
  });

  it("probes agree with the evaluator on every pair, port and family", async () => {
    console.log(`# randomized lab seed: ${seed} (replay with RINGFENCE_SEED=${seed})`);
    const random = mulberry32(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const b = new EstateBuilder();
    const vpc = b.vpc("10.80.0.0/16", "fd00:80::/56");
    const subnets = [
      { id: b.subnet(vpc, "10.80.1.0/24", "fd00:80:0:1::/64"), v4: "10.80.1", v6: "fd00:80:0:1" },
      { id: b.subnet(vpc, "10.80.2.0/24", "fd00:80:0:2::/64"), v4: "10.80.2", v6: "fd00:80:0:2" },
    ];
    const groups = Array.from({ length: 2 + Math.floor(random() * 3) }, (_, i) => b.group(vpc, `g${i}`));
    const count = 4 + Math.floor(random() * 3);
    const addresses: { v4: string; v6?: string }[] = [];
    for (let i = 0; i < count; i++) {
      const subnet = pick(subnets);
      const member = groups.filter(() => random() < 0.4);
      if (member.length === 0) member.push(pick(groups));
      const v4 = `${subnet.v4}.${10 + i}`;
      const v6 = random() < 0.7 ? `${subnet.v6}::${10 + i}` : undefined;
      addresses.push({ v4, ...(v6 ? { v6 } : {}) });
      b.instance(subnet.id, v4, member, v6);
    }
    const peers = (): RulePeer => {
      const choice = random();
      const someone = pick(addresses);
      if (choice < 0.35) return { kind: "group", groupId: pick(groups), userId: ACCOUNT };
      if (choice < 0.5) return { kind: "ipv4", cidr: "0.0.0.0/0" };
      if (choice < 0.6) return { kind: "ipv6", cidr: "::/0" };
      if (choice < 0.75) return { kind: "ipv4", cidr: `${pick(subnets).v4}.0/24` };
      if (choice < 0.9 || !someone.v6) return { kind: "ipv4", cidr: `${someone.v4}/32` };
      return { kind: "ipv6", cidr: `${someone.v6}/128` };
    };
    const service = (): Pick<SecurityGroupRule, "protocol" | "fromPort" | "toPort"> => {
      const choice = random();
      if (choice < 0.15) return { protocol: "-1", fromPort: -1, toPort: -1 };
      if (choice < 0.3) return { protocol: "tcp", fromPort: 0, toPort: 65535 };
      if (choice < 0.45) return { protocol: "tcp", fromPort: 20, toPort: 25 };
      if (choice < 0.6) return { protocol: "tcp", fromPort: 80, toPort: 80 };
      if (choice < 0.75) return { protocol: "udp", fromPort: 53, toPort: 53 };
      if (choice < 0.85) return { protocol: "icmp", fromPort: 8, toPort: -1 };
      if (choice < 0.92) return { protocol: "icmpv6", fromPort: -1, toPort: -1 };
      return { protocol: "icmp", fromPort: 0, toPort: -1 };
    };
    for (const g of groups) {
      // Most groups keep EC2's default all-egress rules; some lose them.
      if (random() < 0.7) {
        b.rule(g, {
          direction: "egress",
          protocol: "-1",
          fromPort: -1,
          toPort: -1,
          peer: { kind: "ipv4", cidr: "0.0.0.0/0" },
        });
        if (random() < 0.7) {
          b.rule(g, {
            direction: "egress",
            protocol: "-1",
            fromPort: -1,
            toPort: -1,
            peer: { kind: "ipv6", cidr: "::/0" },
          });
        }
      }
      const rules = 1 + Math.floor(random() * 4);
      for (let r = 0; r < rules; r++) {
        const peer = peers();
        const s = service();
        b.rule(g, { direction: random() < 0.7 ? "ingress" : "egress", ...s, peer });
      }
    }
    const estate = b.build();
    await lab.sync(estate, 1);
    const report = await verifyLab(estate, lab.hosts.values(), prober, { targets: TARGETS });
    const table = renderTruthTables(report);
    assert.ok(report.cells.length >= count * (count - 1) * TARGETS.length, "every IPv4 pair probed");
    assert.deepEqual(report.mismatches, [], `seed ${seed}\n${table}`);
  });
});
