import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { HostPolicy } from "../../src/compile/host-policy.js";
import { execInNamespace, listNamespaces, runProgram } from "../../src/lab/iproute.js";
import { Lab } from "../../src/lab/lab.js";
import { instanceNamespace, LAB_PREFIX, routerNamespace } from "../../src/lab/names.js";
import { Prober } from "../../src/lab/probe.js";
import { EstateBuilder, sweepTestNamespaces } from "./estate-builder.js";

// The lab's plumbing with real namespaces, and a firewall that only records what it was asked to
// apply: connectivity here is the network's, not a policy's.

class RecordingFirewalls {
  readonly applied: { instanceId: string; policy: HostPolicy }[] = [];
  readonly closed: string[] = [];
  readonly factory = (_namespace: string, instanceId: string) => ({
    apply: async (policy: HostPolicy) => {
      this.applied.push({ instanceId, policy });
    },
    close: async () => {
      this.closed.push(instanceId);
    },
  });
  take(): string[] {
    const ids = this.applied.map((a) => a.instanceId).sort();
    this.applied.length = 0;
    return ids;
  }
}

describe("lab network (root, real namespaces)", () => {
  const firewalls = new RecordingFirewalls();
  const lab = new Lab({ firewall: firewalls.factory });
  const prober = new Prober(500);
  const b = new EstateBuilder();
  const vpc = b.vpc("10.50.0.0/16", "fd00:50::/56");
  const front = b.subnet(vpc, "10.50.1.0/24", "fd00:50:0:1::/64");
  const back = b.subnet(vpc, "10.50.2.0/24", "fd00:50:0:2::/64");
  // A second VPC with the very same CIDR: isolated by its own router namespace.
  const other = b.vpc("10.50.0.0/16");
  const otherSubnet = b.subnet(other, "10.50.1.0/24");
  const sg = b.group(vpc, "web");
  const a = b.instance(front, "10.50.1.10", [sg], "fd00:50:0:1::10");
  const a2 = b.instance(front, "10.50.1.11", [sg]);
  const c = b.instance(back, "10.50.2.10", [sg], "fd00:50:0:2::10");
  const x = b.instance(otherSubnet, "10.50.1.12", []);

  before(sweepTestNamespaces);
  after(async () => {
    await prober.close();
    await lab.close();
    await sweepTestNamespaces();
  });

  it("creates one namespace per running instance and one router per VPC", async () => {
    const report = await lab.syncWithReport(b.build(), 1);
    assert.deepEqual([...report.network.created].sort(), [a, a2, c, x].sort());
    const names = new Set(await listNamespaces());
    for (const id of [a, a2, c, x]) assert.ok(names.has(instanceNamespace(id)), id);
    assert.ok(names.has(routerNamespace(vpc)));
    assert.ok(names.has(routerNamespace(other)));
    assert.deepEqual(firewalls.take(), [a, a2, c, x].sort(), "every new host gets its policy");
  });

  it("configures the instance's address and a default route via the subnet router", async () => {
    const addr = await execInNamespace(instanceNamespace(a), ["ip", "-o", "addr", "show", "dev", "eth0"]);
    assert.match(addr.stdout, /inet 10\.50\.1\.10\/24/);
    assert.match(addr.stdout, /inet6 fd00:50:0:1::10\/64/);
    const routes = await execInNamespace(instanceNamespace(a), ["ip", "route", "show", "default"]);
    assert.match(routes.stdout, /default via 10\.50\.1\.1 dev eth0/);
  });

  it("carries traffic within a subnet and routes it between subnets, over IPv4 and IPv6", async () => {
    const tcp = { protocol: "tcp", port: 8080 } as const;
    assert.equal(await prober.probe(instanceNamespace(a), instanceNamespace(a2), "10.50.1.11", tcp), "open");
    assert.equal(await prober.probe(instanceNamespace(a), instanceNamespace(c), "10.50.2.10", tcp), "open");
    assert.equal(
      await prober.probe(instanceNamespace(c), instanceNamespace(a), "fd00:50:0:1::10", tcp),
      "open",
    );
    assert.equal(
      await prober.probe(instanceNamespace(a), instanceNamespace(c), "10.50.2.10", {
        protocol: "udp",
        port: 5353,
      }),
      "open",
    );
    assert.equal(
      await prober.probe(instanceNamespace(a), instanceNamespace(c), "fd00:50:0:2::10", {
        protocol: "icmp",
        port: -1,
      }),
      "open",
    );
  });

  it("reports a port without a listener, and a VPC it cannot reach, as blocked", async () => {
    const agent = prober.agent(instanceNamespace(a));
    const closed = await agent.request({
      op: "connect",
      proto: "tcp",
      host: "10.50.2.10",
      port: 9,
      timeoutMs: 300,
    });
    assert.equal(closed.open, false);
    // x has a's subnet address space but lives in another VPC: a's neighbour 10.50.1.12 does not exist.
    assert.equal(
      await prober.probe(instanceNamespace(a), instanceNamespace(x), "10.50.1.12", {
        protocol: "tcp",
        port: 8080,
      }),
      "blocked",
    );
  });

  it("puts no lab interface or address in the machine's own namespace", async () => {
    const links = await runProgram("ip", ["-o", "link", "show"]);
    assert.ok(!links.stdout.includes(LAB_PREFIX), links.stdout);
    const addrs = await runProgram("ip", ["-o", "addr", "show"]);
    assert.ok(!addrs.stdout.includes("10.50."), addrs.stdout);
    assert.ok(!addrs.stdout.includes("fd00:50:"), addrs.stdout);
  });

  it("does nothing on a sync with an unchanged estate", async () => {
    const report = await lab.syncWithReport(b.build(), 2);
    assert.deepEqual(report.network.created, []);
    assert.deepEqual(report.network.removed, []);
    assert.deepEqual(report.enforced, []);
    assert.equal(lab.revision, 2);
  });

  it("re-applies the policy only of the hosts a rule change concerns", async () => {
    b.rule(sg, {
      direction: "ingress",
      protocol: "tcp",
      fromPort: 22,
      toPort: 22,
      peer: { kind: "ipv4", cidr: "10.0.0.0/8" },
    });
    const report = await lab.syncWithReport(b.build(), 3);
    assert.deepEqual([...report.enforced].sort(), [a, a2, c].sort());
    assert.deepEqual(firewalls.take(), [a, a2, c].sort());
  });

  it("takes a stopped instance down, brings it back on start, and removes a terminated one", async () => {
    b.setInstance(a2, { state: "stopped" });
    b.setInstance(x, { state: "terminated" });
    let report = await lab.syncWithReport(b.build(), 4);
    assert.deepEqual([...report.network.removed].sort(), [a2, x].sort());
    let names = new Set(await listNamespaces());
    assert.ok(!names.has(instanceNamespace(a2)));
    assert.ok(!names.has(instanceNamespace(x)));
    assert.ok(!names.has(routerNamespace(other)), "a VPC without running instances has no router");
    assert.ok(firewalls.closed.includes(a2));

    b.setInstance(a2, { state: "running" });
    report = await lab.syncWithReport(b.build(), 5);
    assert.deepEqual(report.network.created, [a2]);
    assert.deepEqual(firewalls.take(), [a2], "a re-created namespace gets its policy again");
    names = new Set(await listNamespaces());
    assert.ok(names.has(instanceNamespace(a2)));
    assert.equal(
      await prober.probe(instanceNamespace(a), instanceNamespace(a2), "10.50.1.11", {
        protocol: "tcp",
        port: 8081,
      }),
      "open",
    );
  });

  it("replaces a leftover namespace of the same name instead of trusting it", async () => {
    const fresh = new Lab({ firewall: firewalls.factory });
    try {
      // Another Lab (as after a crash and restart) syncing the same estate.
      const report = await fresh.syncWithReport(b.build(), 6);
      assert.deepEqual([...report.network.created].sort(), [a, a2, c].sort());
      assert.equal(
        await prober.probe(instanceNamespace(c), instanceNamespace(a), "10.50.1.10", {
          protocol: "tcp",
          port: 8082,
        }),
        "open",
      );
    } finally {
      await fresh.close();
    }
    await assert.rejects(fresh.sync(b.build(), 7), /closed/, "a closed lab builds nothing");
    await fresh.close();
    const names = await listNamespaces();
    assert.ok(!names.some((n) => n === instanceNamespace(a) || n === routerNamespace(vpc)));
  });
  it("builds everything again after its namespaces were removed under it (ringfence lab down)", async () => {
    const again = new Lab({ firewall: firewalls.factory });
    let d = "";
    try {
      await again.sync(b.build(), 8);
      for (const name of [routerNamespace(vpc), instanceNamespace(a), instanceNamespace(c)]) {
        await runProgram("ip", ["netns", "del", name]);
      }
      // the next sync notices, though nothing in the estate changed, and builds it all again
      const rebuilt = await again.syncWithReport(b.build(), 9);
      assert.deepEqual([...rebuilt.network.created].sort(), [a, a2, c].sort());
      d = b.instance(front, "10.50.1.20", [sg]);
      const report = await again.syncWithReport(b.build(), 10);
      assert.deepEqual(report.network.created, [d]);
      assert.equal(
        await prober.probe(instanceNamespace(d), instanceNamespace(c), "10.50.2.10", {
          protocol: "tcp",
          port: 8083,
        }),
        "open",
      );
    } finally {
      await again.close();
    }
    const names = await listNamespaces();
    for (const id of [a, c, d]) assert.ok(!names.includes(instanceNamespace(id)), id);
    assert.ok(!names.includes(routerNamespace(vpc)));
  });
  it("with real firewalls (an nft in each host), a host removed under the lab is wired again in one sync", async () => {
    const real = new Lab();
    try {
      await real.sync(b.build(), 13);
      // the host's nft keeps the removed namespace, and its veth, alive
      await runProgram("ip", ["netns", "del", instanceNamespace(c)]);
      const report = await real.syncWithReport(b.build(), 14);
      assert.deepEqual(report.network.created, [c]);
      const table = await execInNamespace(instanceNamespace(c), [
        "nft",
        "list",
        "table",
        "inet",
        "ringfence",
      ]);
      assert.equal(table.code, 0, table.stderr);
    } finally {
      await real.close();
    }
  });

  it("at its first sync, removes what an earlier run left of instances no longer running, and only that", async () => {
    const crashed = new Lab({ firewall: firewalls.factory });
    const extra = b.instance(front, "10.50.1.30", [sg]);
    await crashed.sync(b.build(), 11);
    // the server went away without cleaning up (kill -9); meanwhile the instance was stopped
    b.setInstance(extra, { state: "stopped" });
    const unrelated = `${LAB_PREFIX}i-0${"f".repeat(16)}`;
    await runProgram("ip", ["netns", "add", unrelated]);
    const restarted = new Lab({ firewall: firewalls.factory });
    try {
      await restarted.sync(b.build(), 12);
      const names = new Set(await listNamespaces());
      assert.ok(!names.has(instanceNamespace(extra)), "the stopped instance's namespace is gone");
      assert.ok(names.has(instanceNamespace(a)), "a running one is there");
      assert.ok(names.has(unrelated), "a namespace of no instance of this estate is another lab's");
    } finally {
      await restarted.close();
      await runProgram("ip", ["netns", "del", unrelated]);
    }
  });

  it("keeps the other hosts when one host's firewall keeps failing, and retries only that one", async () => {
    let failing = true;
    const applied: string[] = [];
    const picky = new Lab({
      firewall: (_namespace, instanceId) => ({
        apply: async () => {
          if (failing && instanceId === c) throw new Error("nft refused the table");
          applied.push(instanceId);
        },
      }),
    });
    try {
      await assert.rejects(picky.sync(b.build(), 11), /nft refused/);
      applied.length = 0;
      await assert.rejects(picky.sync(b.build(), 12), /nft refused/);
      assert.deepEqual(applied, [], "a failing sync applies nothing anew to the hosts that are fine");
      failing = false;
      const report = await picky.syncWithReport(b.build(), 13);
      // the failed host was never wired (no firewall, no network); the others were, and stay
      assert.deepEqual(report.network.created, [c], "only the failed host is built");
      assert.deepEqual(report.enforced, [c], "only the failed host's policy is applied");
      assert.deepEqual(applied.sort(), [c], "the second failing sync touched no other host");
    } finally {
      await picky.close();
    }
  });
});
