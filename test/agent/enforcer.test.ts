import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HostEnforcer } from "../../src/agent/enforcer.js";
import { FakeKernel } from "../../src/agent/fake-kernel.js";
import { webPolicy } from "./policies.js";

describe("HostEnforcer", () => {
  it("installs the full table first, then deltas, and nothing for an equal policy", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    assert.equal(enforcer.appliedRevision, undefined);
    const first = await enforcer.apply(1, webPolicy());
    assert.equal(first.mode, "full");
    assert.equal(enforcer.appliedRevision, 1);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.9"]);

    const second = await enforcer.apply(2, webPolicy(["10.0.9.9", "10.0.9.20"]));
    assert.equal(second.mode, "delta");
    assert.equal(second.statements, 1);
    assert.equal(kernel.applied.at(-1), "add element inet ringfence g_sg-admin_v4 { 10.0.9.20 }\n");
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.20", "10.0.9.9"]);

    const third = await enforcer.apply(3, webPolicy(["10.0.9.9", "10.0.9.20"]));
    assert.equal(third.mode, "unchanged");
    assert.equal(kernel.applied.length, 2);
    assert.equal(enforcer.appliedRevision, 3);
  });

  it("falls back to a full replacement when a delta fails", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    await enforcer.apply(1, webPolicy());
    kernel.failNextApplies(1);
    const outcome = await enforcer.apply(2, webPolicy(["10.0.9.10"], 2222));
    assert.equal(outcome.mode, "full");
    assert.equal(outcome.fellBack, true);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.10"]);
    assert.ok(kernel.rules("gin_sg-web_tcp")?.[0]?.includes("tcp dport 2222"));
  });

  it("keeps the previous table and revision when even the full replacement fails", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    await enforcer.apply(1, webPolicy());
    const before = await kernel.listTable();
    kernel.failNextApplies(2);
    await assert.rejects(enforcer.apply(2, webPolicy(["10.0.9.10"])), /injected failure/);
    assert.equal(enforcer.appliedRevision, 1);
    assert.equal(await kernel.listTable(), before);
    // and the next policy still applies (in full, since the delta's base is uncertain only if it fails)
    const outcome = await enforcer.apply(3, webPolicy(["10.0.9.11"]));
    assert.equal(enforcer.appliedRevision, 3);
    assert.notEqual(outcome.mode, "unchanged");
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.11"]);
  });

  it("repairs drift: a flushed, edited or deleted table is written again", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    assert.equal(await enforcer.repair(), false, "nothing applied yet, nothing to repair");
    await enforcer.apply(1, webPolicy());
    const intended = await kernel.listTable();
    assert.equal(await enforcer.repair(), false);

    kernel.tamper("flush table inet ringfence\n");
    assert.notEqual(await kernel.listTable(), intended);
    assert.equal(await enforcer.repair(), true);
    assert.equal(await kernel.listTable(), intended);

    kernel.tamper("add element inet ringfence g_sg-admin_v4 { 192.0.2.66 }\n");
    assert.equal(await enforcer.repair(), true);
    assert.equal(await kernel.listTable(), intended);

    await kernel.deleteTable();
    assert.equal(await enforcer.repair(), true);
    assert.equal(await kernel.listTable(), intended);
    assert.equal(await enforcer.repair(), false);
  });

  it("replaces the whole table when an object a delta changes was edited, so the edit does not survive", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    await enforcer.apply(1, webPolicy());
    kernel.tamper("add element inet ringfence g_sg-admin_v4 { 192.0.2.66 }\n");
    const outcome = await enforcer.apply(2, webPolicy(["10.0.9.9", "10.0.9.20"]));
    assert.equal(outcome.mode, "full");
    assert.equal(outcome.drifted, true);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.20", "10.0.9.9"], "the edit is gone");
    assert.equal(await enforcer.repair(), false, "the new baseline is the table this enforcer wrote");

    // an equal policy sends nothing and records nothing, so the repair still sees an edit
    kernel.tamper("add element inet ringfence g_sg-admin_v4 { 192.0.2.66 }\n");
    const again = await enforcer.apply(3, webPolicy(["10.0.9.9", "10.0.9.20"]));
    assert.equal(again.mode, "unchanged");
    assert.equal(await enforcer.repair(), true);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.20", "10.0.9.9"]);
  });

  it("sends a delta past an edit of an object it does not change, and the repair then finds the edit", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    await enforcer.apply(1, webPolicy());
    kernel.tamper("add rule inet ringfence input tcp dport 23 accept\n");
    const outcome = await enforcer.apply(2, webPolicy(["10.0.9.9", "10.0.9.20"]));
    assert.deepEqual([outcome.mode, outcome.drifted], ["delta", false]);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.20", "10.0.9.9"]);
    // the delta read back only the set it changed: the edited chain is not taken for this enforcer's
    assert.equal(await enforcer.repair(), true);
    assert.ok(!kernel.rules("input")?.some((rule) => rule.includes("dport 23")), "the edit is gone");
    assert.equal(await enforcer.repair(), false);
  });

  it("without drift tracking never lists the table, sends deltas onto edits and repairs nothing", async () => {
    class CountingKernel extends FakeKernel {
      /** What each listing asked for: "table", or the objects. */
      readonly asked: string[] = [];
      override async objectDigests(objects?: readonly string[]) {
        this.asked.push(objects ? objects.join(", ") : "table");
        return super.objectDigests(objects);
      }
    }
    const kernel = new CountingKernel();
    const enforcer = new HostEnforcer(kernel, { tracksDrift: false });
    await enforcer.apply(1, webPolicy());
    kernel.tamper("add rule inet ringfence input tcp dport 23 accept\n");
    const outcome = await enforcer.apply(2, webPolicy(["10.0.9.9", "10.0.9.20"]));
    assert.deepEqual([outcome.mode, outcome.drifted], ["delta", false]);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.20", "10.0.9.9"]);
    assert.ok(
      kernel.rules("input")?.some((rule) => rule.includes("dport 23")),
      "the edit stays",
    );
    assert.equal(await enforcer.repair(), false);
    assert.deepEqual(kernel.asked, []);

    const tracking = new CountingKernel();
    const tracked = new HostEnforcer(tracking);
    await tracked.apply(1, webPolicy());
    await tracked.apply(2, webPolicy(["10.0.9.9", "10.0.9.20"]));
    // a rule change rewrites a chain: the whole table is listed around it
    await tracked.apply(3, { ...webPolicy(["10.0.9.9", "10.0.9.20"]), interfaces: [] });
    assert.deepEqual(
      tracking.asked,
      ["table", "set g_sg-admin_v4", "set g_sg-admin_v4", "table", "table"],
      "the whole table after the full apply; before and after a membership delta, only the set it changes",
    );
  });

  it("locks a host without policy down, then moves to the first policy by delta", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    const lockdown = await enforcer.applyLockdown();
    assert.equal(lockdown?.mode, "full");
    assert.ok(kernel.rules("input")?.some((r) => r.includes("ct state established,related")));
    assert.equal(enforcer.appliedRevision, undefined);
    const first = await enforcer.apply(5, webPolicy());
    assert.equal(first.mode, "delta");
    assert.equal(await enforcer.applyLockdown(), undefined, "never replaces an enforced policy");
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.9"]);
  });

  it("removes its table", async () => {
    const kernel = new FakeKernel();
    const enforcer = new HostEnforcer(kernel);
    await enforcer.apply(1, webPolicy());
    await enforcer.remove();
    assert.equal(kernel.hasTable, false);
    assert.equal(enforcer.appliedRevision, undefined);
  });
});
