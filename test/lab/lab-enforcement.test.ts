import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { execInNamespace } from "../../src/lab/iproute.js";
import { Lab } from "../../src/lab/lab.js";
import { instanceNamespace } from "../../src/lab/names.js";
import { Prober, parseProbeTarget } from "../../src/lab/probe.js";
import { renderTruthTables, verifyLab } from "../../src/lab/verify.js";
import { ACCOUNT, ALL_TRAFFIC_TO, EstateBuilder, sweepTestNamespaces } from "./estate-builder.js";

// Real policies in real namespaces, probed with real packets: the hand-built counterpart of the
// end-to-end tests that go through the API.

const tcp = (port: number) => ({ protocol: "tcp", port }) as const;

describe("lab enforcement (root, real nftables)", () => {
  const lab = new Lab();
  const prober = new Prober(400);
  const b = new EstateBuilder();
  const vpc = b.vpc("10.60.0.0/16", "fd00:60::/56");
  const appNet = b.subnet(vpc, "10.60.1.0/24", "fd00:60:0:1::/64");
  const dbNet = b.subnet(vpc, "10.60.2.0/24", "fd00:60:0:2::/64");
  const app = b.group(vpc, "appserver");
  const db = b.group(vpc, "dbserver");
  const loose = b.group(vpc, "stranger");
  for (const g of [app, db, loose]) b.rule(g, ALL_TRAFFIC_TO("0.0.0.0/0"));
  for (const g of [app, db, loose]) b.rule(g, ALL_TRAFFIC_TO("::/0"));
  const allow3306 = b.rule(db, {
    direction: "ingress",
    protocol: "tcp",
    fromPort: 3306,
    toPort: 3306,
    peer: { kind: "group", groupId: app, userId: ACCOUNT },
  });
  const appHost = b.instance(appNet, "10.60.1.10", [app], "fd00:60:0:1::10");
  const dbHost = b.instance(dbNet, "10.60.2.10", [db], "fd00:60:0:2::10");
  const stranger = b.instance(appNet, "10.60.1.20", [loose], "fd00:60:0:1::20");
  const ns = instanceNamespace;
  let revision = 0;
  const sync = () => lab.syncWithReport(b.build(), ++revision);

  before(async () => {
    await sweepTestNamespaces();
    await sync();
  });
  after(async () => {
    await prober.close();
    await lab.close();
    await sweepTestNamespaces();
  });

  it("lets the app group reach the database on tcp/3306 by group reference, and no one else", async () => {
    assert.equal(await prober.probe(ns(appHost), ns(dbHost), "10.60.2.10", tcp(3306)), "open");
    assert.equal(await prober.probe(ns(stranger), ns(dbHost), "10.60.2.10", tcp(3306)), "blocked");
    assert.equal(await prober.probe(ns(appHost), ns(dbHost), "10.60.2.10", tcp(3307)), "blocked");
    assert.equal(await prober.probe(ns(appHost), ns(dbHost), "fd00:60:0:2::10", tcp(3306)), "open");
  });

  it("admits a new member of the referenced group with no rule changed", async () => {
    const late = b.instance(appNet, "10.60.1.30", [app]);
    const report = await sync();
    assert.ok(report.enforced.includes(dbHost), "the database host learns the new member");
    assert.equal(await prober.probe(ns(late), ns(dbHost), "10.60.2.10", tcp(3306)), "open");
  });

  it("changes a running instance's groups in place", async () => {
    b.setInstance(stranger, { groupIds: [loose, app] });
    const report = await sync();
    assert.deepEqual(report.network.created, [], "no namespace rebuilt");
    assert.equal(await prober.probe(ns(stranger), ns(dbHost), "10.60.2.10", tcp(3306)), "open");
    b.setInstance(stranger, { groupIds: [loose] });
    await sync();
    assert.equal(await prober.probe(ns(stranger), ns(dbHost), "10.60.2.10", tcp(3306)), "blocked");
  });

  it("keeps a tracked connection after the rule is revoked, while new ones are refused", async () => {
    const held = await prober.hold(ns(appHost), ns(dbHost), "10.60.2.10", 3306);
    assert.ok(held, "connection opened while allowed");
    try {
      b.revoke(allow3306);
      await sync();
      assert.equal(await prober.probe(ns(appHost), ns(dbHost), "10.60.2.10", tcp(3306)), "blocked");
      assert.equal(await held.exchange(), "open", "established flow survives (spec 3.11)");
    } finally {
      await held.release();
    }
  });

  it("agrees with the evaluator on every pair, port and family", async () => {
    const targets = ["tcp/22", "tcp/3306", "udp/53", "icmp"].map((t) => {
      const parsed = parseProbeTarget(t);
      assert.ok(parsed);
      return parsed;
    });
    b.rule(db, {
      direction: "ingress",
      protocol: "icmp",
      fromPort: -1,
      toPort: -1,
      peer: { kind: "ipv4", cidr: "10.60.1.0/24" },
    });
    b.rule(loose, {
      direction: "ingress",
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      peer: { kind: "ipv6", cidr: "::/0" },
    });
    b.rule(app, {
      direction: "ingress",
      protocol: "udp",
      fromPort: 53,
      toPort: 53,
      peer: { kind: "group", groupId: db, userId: ACCOUNT },
    });
    await sync();
    const report = await verifyLab(b.build(), lab.hosts.values(), prober, { targets });
    assert.ok(report.cells.length > 0);
    const table = renderTruthTables(report);
    if (process.env.RINGFENCE_SHOW_TABLES) console.log(table);
    assert.deepEqual(report.mismatches, [], table);
    assert.ok(
      report.cells.some((c) => c.actual === "open") && report.cells.some((c) => c.actual === "blocked"),
    );
  });
  it("probes the rest of the matrix when another program holds a probed port in one instance", async () => {
    const { spawn } = await import("node:child_process");
    const holder = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns(dbHost),
        "python3",
        "-c",
        "import socket,time\ns=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\ns.bind(('::',6000))\nprint('bound',flush=True)\ntime.sleep(60)",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
      const targets = [tcp(3306), { protocol: "udp", port: 6000 } as const];
      const report = await verifyLab(b.build(), lab.hosts.values(), prober, { targets });
      assert.deepEqual(
        report.skipped.map((s) => [s.instance, s.target]),
        [[dbHost, { protocol: "udp", port: 6000 }]],
      );
      assert.ok(!report.cells.some((c) => c.destination === dbHost && c.target.protocol === "udp"));
      assert.ok(report.cells.some((c) => c.destination === appHost && c.target.protocol === "udp"));
      assert.deepEqual(report.mismatches, []);
      assert.match(renderTruthTables(report), /NOT PROBED udp\/6000 to i-\S+ \(\?\): another program/);
    } finally {
      holder.kill();
    }
  });

  it("reports a flow the policy allows but a host drops as a mismatch, even after a second try", async () => {
    // Someone adds a rule of their own in the app host that drops udp/53.
    const drift = await execInNamespace(
      ns(appHost),
      ["nft", "-f", "-"],
      [
        "add table inet drift",
        "add chain inet drift c { type filter hook input priority -10; policy accept; }",
        "add rule inet drift c udp dport 53 drop",
        "",
      ].join("\n"),
    );
    assert.equal(drift.code, 0, drift.stderr);
    const targets = [{ protocol: "udp", port: 53 } as const];
    const report = await verifyLab(b.build(), lab.hosts.values(), prober, { targets });
    const dropped = report.mismatches.filter((c) => c.destination === appHost);
    assert.ok(dropped.length > 0, renderTruthTables(report));
    for (const c of dropped) {
      assert.equal(c.expected, "open");
      assert.equal(c.actual, "blocked");
    }
    assert.ok(
      report.mismatches.every((c) => c.destination === appHost),
      "only the drifted host disagrees",
    );
  });
});
