import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Lab } from "../../src/lab/lab.js";
import { instanceNamespace } from "../../src/lab/names.js";
import { Prober, type ProbeTarget } from "../../src/lab/probe.js";
import { renderTruthTables, verifyLab } from "../../src/lab/verify.js";
import type { NetworkAclEntry } from "../../src/model/estate.js";
import { ALL_TRAFFIC_TO, EstateBuilder, sweepTestNamespaces } from "./estate-builder.js";

// Network ACLs at the subnet boundary, in the VPC's router namespace: stateless, ordered by rule
// number, first match decides, catch-all deny, and never applied within a subnet.

const allowAll = (egress: boolean, ruleNumber = 100): NetworkAclEntry => ({
  ruleNumber,
  egress,
  protocol: "-1",
  action: "allow",
  cidr: "0.0.0.0/0",
});

describe("lab network ACLs (root, real nftables in the router)", () => {
  const lab = new Lab();
  const prober = new Prober(400);
  const b = new EstateBuilder();
  const vpc = b.vpc("10.65.0.0/16");
  const front = b.subnet(vpc, "10.65.1.0/24");
  const back = b.subnet(vpc, "10.65.2.0/24");
  const open = b.group(vpc, "open");
  b.rule(open, ALL_TRAFFIC_TO("0.0.0.0/0"));
  b.rule(open, {
    direction: "ingress",
    protocol: "-1",
    fromPort: -1,
    toPort: -1,
    peer: { kind: "ipv4", cidr: "10.65.0.0/16" },
  });
  b.acl(vpc, [front], [allowAll(false), allowAll(true)]);
  const backAcl = b.acl(
    vpc,
    [back],
    [
      {
        ruleNumber: 50,
        egress: false,
        protocol: "6",
        action: "allow",
        cidr: "10.65.1.11/32",
        portRange: { from: 22, to: 22 },
      },
      {
        ruleNumber: 100,
        egress: false,
        protocol: "6",
        action: "deny",
        cidr: "10.65.1.0/24",
        portRange: { from: 22, to: 22 },
      },
      allowAll(false, 200),
      allowAll(true),
    ],
  );
  const f1 = b.instance(front, "10.65.1.10", [open]);
  const f2 = b.instance(front, "10.65.1.11", [open]);
  const b1 = b.instance(back, "10.65.2.10", [open]);
  const b2 = b.instance(back, "10.65.2.11", [open]);
  // Another VPC, reachable by the groups' CIDR rules but not routed to: never compared.
  const elsewhere = b.vpc("10.66.0.0/16");
  const outsider = b.instance(b.subnet(elsewhere, "10.66.1.0/24"), "10.66.1.10", []);
  const ns = instanceNamespace;
  const ssh: ProbeTarget = { protocol: "tcp", port: 22 };
  let revision = 0;

  before(async () => {
    await sweepTestNamespaces();
    await lab.sync(b.build(), ++revision);
  });
  after(async () => {
    await prober.close();
    await lab.close();
    await sweepTestNamespaces();
  });

  it("denies by the first matching entry, in rule-number order", async () => {
    assert.equal(await prober.probe(ns(f1), ns(b1), "10.65.2.10", ssh), "blocked", "rule 100 denies");
    assert.equal(await prober.probe(ns(f2), ns(b1), "10.65.2.10", ssh), "open", "rule 50 allows first");
    assert.equal(
      await prober.probe(ns(f1), ns(b1), "10.65.2.10", { protocol: "tcp", port: 80 }),
      "open",
      "rule 200",
    );
  });

  it("does not filter traffic within a subnet", async () => {
    assert.equal(await prober.probe(ns(b2), ns(b1), "10.65.2.10", ssh), "open");
  });

  it("is stateless: without an outbound entry for the replies, nothing gets through", async () => {
    b.setAcl(backAcl, [allowAll(false)]);
    await lab.sync(b.build(), ++revision);
    assert.equal(await prober.probe(ns(f1), ns(b1), "10.65.2.10", { protocol: "tcp", port: 80 }), "blocked");
    assert.equal(await prober.probe(ns(b1), ns(f1), "10.65.1.10", { protocol: "tcp", port: 80 }), "blocked");
  });

  it("agrees with the evaluator where requests and replies pass alike", async () => {
    b.setAcl(backAcl, [
      {
        ruleNumber: 100,
        egress: false,
        protocol: "6",
        action: "deny",
        cidr: "10.65.1.10/32",
        portRange: { from: 22, to: 22 },
      },
      {
        ruleNumber: 110,
        egress: false,
        protocol: "1",
        action: "deny",
        cidr: "10.65.1.0/24",
        icmp: { type: 8, code: -1 },
      },
      allowAll(false, 200),
      allowAll(true),
    ]);
    await lab.sync(b.build(), ++revision);
    const targets: ProbeTarget[] = [
      ssh,
      { protocol: "tcp", port: 80 },
      { protocol: "udp", port: 53 },
      { protocol: "icmp", port: -1 },
    ];
    const report = await verifyLab(b.build(), lab.hosts.values(), prober, { targets });
    assert.deepEqual(report.mismatches, [], renderTruthTables(report));
    assert.ok(!report.cells.some((c) => c.source === outsider || c.destination === outsider));
    assert.equal(report.cells.length, 4 * 3 * targets.length, "every ordered pair within the VPC");
    const cell = (from: string, to: string, target: ProbeTarget) =>
      report.cells.find((c) => c.source === from && c.destination === to && c.target === target);
    assert.equal(cell(f1, b1, ssh)?.actual, "blocked");
    assert.equal(cell(f2, b1, ssh)?.actual, "open");
    assert.equal(cell(f1, b2, targets[3] as ProbeTarget)?.actual, "blocked", "echo denied into back");
    assert.equal(cell(b1, f1, targets[3] as ProbeTarget)?.actual, "open", "echo out of back allowed");
  });

  it("stops filtering when the subnets lose their ACLs", async () => {
    b.acls.length = 0;
    await lab.sync(b.build(), ++revision);
    assert.equal(await prober.probe(ns(f1), ns(b1), "10.65.2.10", ssh), "open");
  });
});
