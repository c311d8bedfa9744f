import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeKernel } from "../../src/agent/fake-kernel.js";
import { fullReplacement, tableDelta } from "../../src/compile/delta.js";
import { hostPolicyFor } from "../../src/compile/host-policy.js";
import type { NftTable } from "../../src/compile/nft-table.js";
import { compileHostPolicy } from "../../src/compile/nftables.js";
import type { Estate, SecurityGroup } from "../../src/model/estate.js";
import { eni, estate, group, rule } from "./estate-builder.js";
import { mutate, Random, randomEstate } from "./random-estate.js";

function tableOf(e: Estate, instanceId: string) {
  const policy = hostPolicyFor(e, instanceId);
  assert.ok(policy);
  return compileHostPolicy(policy);
}

const base = () =>
  estate(
    [
      group("sg-web", [
        rule("sgr-ssh", "sg-web", "ingress", "tcp", 22, 22, "sg-admin"),
        rule("sgr-http", "sg-web", "ingress", "tcp", 80, 80, "10.0.0.0/16"),
        rule("sgr-dns", "sg-web", "egress", "udp", 53, 53, "10.0.0.2/32"),
      ]),
      group("sg-admin", []),
    ],
    [
      eni("eni-web", ["sg-web"], ["10.0.0.5"], [], "i-web"),
      eni("eni-adm", ["sg-admin"], ["10.0.9.9"], [], "i-adm"),
    ],
  );

function lines(script: string): string[] {
  return script.split("\n").filter((l) => l !== "");
}

describe("tableDelta", () => {
  it("is empty between equal tables", () => {
    const d = tableDelta(tableOf(base(), "i-web"), tableOf(base(), "i-web"));
    assert.equal(d.script, "");
    assert.equal(d.statements, 0);
  });

  it("turns a membership change into one element statement, without touching rules", () => {
    const before = base();
    const after: Estate = {
      ...before,
      networkInterfaces: [
        ...before.networkInterfaces,
        eni("eni-adm2", ["sg-admin"], ["10.0.7.7"], [], "i-adm2"),
      ],
    };
    const d = tableDelta(tableOf(before, "i-web"), tableOf(after, "i-web"));
    assert.deepEqual(lines(d.script), ["add element inet ringfence g_sg-admin_v4 { 10.0.7.7 }"]);
    const back = tableDelta(tableOf(after, "i-web"), tableOf(before, "i-web"));
    assert.deepEqual(lines(back.script), ["delete element inet ringfence g_sg-admin_v4 { 10.0.7.7 }"]);
  });

  it("turns a CIDR change of a rule into element changes of that rule's set", () => {
    const before = base();
    const web = before.securityGroups[0] as SecurityGroup;
    const changed = {
      ...web,
      rules: web.rules.map((r) =>
        r.id === "sgr-http" ? { ...r, peer: { kind: "ipv4" as const, cidr: "10.1.0.0/16" } } : r,
      ),
    };
    const after = { ...before, securityGroups: [changed, ...before.securityGroups.slice(1)] };
    const d = tableDelta(tableOf(before, "i-web"), tableOf(after, "i-web"));
    assert.deepEqual(lines(d.script), [
      "delete element inet ringfence c_sgr-http_v4 { 10.0.0.0/16 }",
      "add element inet ringfence c_sgr-http_v4 { 10.1.0.0/16 }",
    ]);
  });

  it("rewrites only the chain whose rules changed", () => {
    const before = base();
    const web = before.securityGroups[0] as SecurityGroup;
    const changed = {
      ...web,
      rules: web.rules.map((r) => (r.id === "sgr-http" ? { ...r, fromPort: 8080, toPort: 8080 } : r)),
    };
    const after = { ...before, securityGroups: [changed, ...before.securityGroups.slice(1)] };
    const d = lines(tableDelta(tableOf(before, "i-web"), tableOf(after, "i-web")).script);
    assert.equal(d[0], "flush chain inet ringfence gin_sg-web_tcp");
    // the flush and the chain's three rules (sgr-ssh has an IPv4 and an IPv6 rule)
    assert.equal(d.length, 4, d.join("\n"));
    assert.ok(
      d.every((l) => l.includes("gin_sg-web_tcp")),
      d.join("\n"),
    );
    assert.ok(d.some((l) => /tcp dport 8080 ip6? saddr @\S+ counter accept/.test(l)));
  });

  it("marks connections untracked with the first untracked flow, and stops with the last", async () => {
    const tracked = base();
    const web = tracked.securityGroups[0] as SecurityGroup;
    const open = {
      ...web,
      rules: [
        ...web.rules,
        rule("sgr-world", "sg-web", "ingress", "tcp", 443, 443, "0.0.0.0/0"),
        rule("sgr-all-out", "sg-web", "egress", "-1", -1, -1, "0.0.0.0/0"),
      ],
    };
    const untracked = { ...tracked, securityGroups: [open, ...tracked.securityGroups.slice(1)] };
    const without = tableOf(tracked, "i-web");
    const withUntracked = tableOf(untracked, "i-web");
    for (const table of [without, withUntracked]) {
      assert.deepEqual(
        table.chains.filter((c) => c.hook).map((c) => c.name),
        ["input", "output"],
        "no chain of its own: untracked flows are marked in the interface chain",
      );
    }
    const mark =
      /^add rule inet ringfence in_\S+ meta nfproto ipv4 tcp dport 443 counter ct mark set ct mark \| 0x01000000 comment "sgr-world"$/;
    assert.ok(lines(tableDelta(without, withUntracked).script).some((l) => mark.test(l)));
    const removed = lines(tableDelta(withUntracked, without).script);
    assert.ok(!removed.some((l) => l.includes("ct mark set")), removed.join("\n"));
    const kernel = new FakeKernel();
    await kernel.apply(fullReplacement(without).script);
    await kernel.apply(tableDelta(without, withUntracked).script);
    await kernel.apply(tableDelta(withUntracked, without).script);
    const fresh = new FakeKernel();
    await fresh.apply(fullReplacement(without).script);
    assert.equal(await kernel.listTable(), await fresh.listTable());
  });

  /** Every host's table before and after 150 random changes of random estates. */
  async function eachRandomChange(seed: number, check: (from: NftTable, to: NftTable) => Promise<void>) {
    const r = new Random(seed);
    for (let n = 0; n < 150; n++) {
      const a = randomEstate(r);
      const b = mutate(r, a);
      for (const instance of a.instances) await check(tableOf(a, instance.id), tableOf(b, instance.id));
    }
  }

  it("applied to the old table in the fake kernel, yields exactly the new table (random changes)", async () => {
    await eachRandomChange(7, async (from, to) => {
      const incremental = new FakeKernel();
      await incremental.apply(fullReplacement(from).script);
      await incremental.apply(tableDelta(from, to).script);
      const fresh = new FakeKernel();
      await fresh.apply(fullReplacement(to).script);
      assert.equal(await incremental.listTable(), await fresh.listTable());
    });
  });

  it("names exactly the objects it changes (random changes)", async () => {
    const digestsOf = async (script: string) => {
      const kernel = new FakeKernel();
      await kernel.apply(script);
      return (await kernel.objectDigests()) ?? new Map<string, string>();
    };
    let named = 0;
    await eachRandomChange(11, async (from, to) => {
      const before = await digestsOf(fullReplacement(from).script);
      const after = await digestsOf(fullReplacement(to).script);
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
        (key) => before.get(key) !== after.get(key),
      );
      const delta = tableDelta(from, to);
      assert.deepEqual([...(delta.objects ?? [])].sort(), changed.sort(), delta.script);
      named += changed.length;
    });
    assert.ok(named > 100, `${named} objects changed in all`);
  });
});

describe("connection-tracking timeouts", () => {
  const withTimeouts = (seconds: number): Estate => {
    const e = base();
    return {
      ...e,
      networkInterfaces: e.networkInterfaces.map((i) =>
        i.id === "eni-web" ? { ...i, connectionTracking: { tcpEstablishedTimeout: seconds } } : i,
      ),
    };
  };

  it("become shared ct timeout objects set on the interface's new connections, both ways", () => {
    const table = tableOf(withTimeouts(3600), "i-web");
    assert.deepEqual(
      table.timeouts?.map((t) => t.name),
      ["ctt_tcp4_3600", "ctt_udp4_30_180"],
      "the unset UDP timeouts keep EC2's defaults; no IPv6 object without IPv6 addresses",
    );
    const script = fullReplacement(table).script;
    assert.match(
      script,
      /add ct timeout inet ringfence ctt_tcp4_3600 \{ protocol tcp; l3proto ip; policy = \{ established: 3600 \}; \}/,
    );
    assert.match(script, /policy = \{ unreplied: 30, replied: 180 \}/);
    // not for a connection that opens as an untracked flow: EC2 gives those no timeout
    for (const [chain, mask] of [
      ["in_eni-web", "0x0f000000"],
      ["out_eni-web", "0xf0000000"],
    ]) {
      assert.match(
        script,
        new RegExp(
          `add rule inet ringfence ${chain} meta nfproto ipv4 meta l4proto 6 ct state new ct mark & ${mask} == 0 ct timeout set "ctt_tcp4_3600"`,
        ),
      );
    }
    assert.equal(tableOf(base(), "i-web").timeouts, undefined, "nothing where no interface sets any");
  });

  it("a changed timeout is a new object, the old one goes once no rule refers to it", async () => {
    const kernel = new FakeKernel();
    const before = tableOf(withTimeouts(3600), "i-web");
    await kernel.apply(fullReplacement(before).script);
    const after = tableOf(withTimeouts(120), "i-web");
    const delta = tableDelta(before, after);
    assert.match(delta.script, /add ct timeout inet ringfence ctt_tcp4_120 /);
    assert.match(delta.script, /delete ct timeout inet ringfence ctt_tcp4_3600/);
    await kernel.apply(delta.script);
    assert.deepEqual(kernel.ctTimeouts(), ["ctt_tcp4_120", "ctt_udp4_30_180"]);
    const full = new FakeKernel();
    await full.apply(fullReplacement(after).script);
    assert.equal(await kernel.listTable(), await full.listTable(), "the delta ends where a full apply does");
    // and back to no timeouts at all
    await kernel.apply(tableDelta(after, tableOf(base(), "i-web")).script);
    assert.deepEqual(kernel.ctTimeouts(), []);
  });
});
