import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { Agent, type AgentEvent, type AgentOptions } from "../../src/agent/agent.js";
import { FakeKernel } from "../../src/agent/fake-kernel.js";
import { ControllerProtocolDouble } from "./controller-double.js";
import { webPolicy } from "./policies.js";

const TOKEN = "token-web";
const running: Agent[] = [];
const controllers: ControllerProtocolDouble[] = [];
const directories: string[] = [];

afterEach(async () => {
  for (const agent of running.splice(0)) await agent.stop();
  for (const controller of controllers.splice(0)) await controller.stop();
});
after(async () => {
  for (const dir of directories) await rm(dir, { recursive: true, force: true });
});

async function controller(): Promise<ControllerProtocolDouble> {
  const c = new ControllerProtocolDouble(50);
  c.tokens.set("i-web", TOKEN);
  c.tokens.set("i-other", "token-other");
  await c.start();
  controllers.push(c);
  return c;
}

async function startAgent(overrides: Partial<AgentOptions> & Pick<AgentOptions, "url">) {
  const kernel = overrides.kernel ?? new FakeKernel();
  const events: AgentEvent[] = [];
  const agent = new Agent({
    token: TOKEN,
    instanceId: "i-web",
    backoff: { initialMs: 20, maxMs: 200 },
    idleTimeoutMs: 1000,
    repairIntervalMs: 60_000,
    statusIntervalMs: 60_000,
    ...overrides,
    kernel,
  });
  agent.onEvent((e) => events.push(e));
  running.push(agent);
  await agent.start();
  return { agent, kernel: kernel as FakeKernel, events };
}

async function until(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("Agent against the controller protocol double", () => {
  it("applies the policy on connect, then pushed changes as deltas, and reports status", async () => {
    const c = await controller();
    const first = c.publish("i-web", webPolicy(["10.0.9.9"]));
    const { agent, kernel, events } = await startAgent({ url: c.url });
    await until("first apply", () => agent.appliedRevision === first);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.9"]);
    await until("status", () => c.statuses.some((s) => s.status.appliedRevision === first));
    const status = c.statuses.find((s) => s.status.appliedRevision === first)?.status;
    assert.equal(status?.healthy, true);
    assert.equal(status?.pid, process.pid);
    assert.equal(typeof status?.hostname, "string");

    const second = c.publish("i-web", webPolicy(["10.0.9.9", "10.0.9.50"]));
    await until("second apply", () => agent.appliedRevision === second);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.50", "10.0.9.9"]);
    const applied = events
      .filter((e) => e.kind === "applied")
      .map((e) => (e.kind === "applied" ? e.outcome.mode : ""));
    assert.deepEqual(applied, ["delta", "delta"], "lockdown first, then deltas from it");

    // another host's change moves the revision on; heartbeats carry it to this agent
    const elsewhere = c.publish("i-other", webPolicy());
    await until("heartbeat revision", () => agent.appliedRevision === elsewhere);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.50", "10.0.9.9"]);
  });

  it("keeps enforcing while the controller is away, and resynchronises on its return", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy(["10.0.9.9"]));
    const { agent, kernel, events } = await startAgent({ url: c.url });
    await until("first apply", () => agent.appliedRevision === 1);
    const port = c.port;
    await c.stop();
    await until("disconnect noticed", () => events.some((e) => e.kind === "disconnected"));
    await new Promise((r) => setTimeout(r, 300)); // several failed reconnects
    assert.deepEqual(
      kernel.elements("g_sg-admin_v4"),
      ["10.0.9.9"],
      "the table stays while the controller is away",
    );
    const failures = events.filter((e) => e.kind === "disconnected").length;
    assert.ok(failures >= 2, `retried ${failures} times`);

    c.publish("i-web", webPolicy(["10.0.9.77"])); // changed while the agent could not hear
    await c.start(port);
    await until("resync", () => agent.appliedRevision === 2);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.77"]);
    await until("status after resync", () => c.statuses.some((s) => s.status.appliedRevision === 2));
  });

  it("reconnects when the stream goes silent", async () => {
    const c = new ControllerProtocolDouble(60_000); // no heartbeats within the idle timeout
    c.tokens.set("i-web", TOKEN);
    await c.start();
    controllers.push(c);
    c.publish("i-web", webPolicy());
    const { events } = await startAgent({ url: c.url, idleTimeoutMs: 200 });
    await until("idle disconnect", () =>
      events.some((e) => e.kind === "disconnected" && /no message for 200 ms/.test(e.error)),
    );
    await until("second connection", () => c.connections.length >= 2);
  });

  it("does not apply anything with a bad token or another instance's token, and stays locked down", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    const bad = await startAgent({ url: c.url, token: "wrong" });
    await until("401", () => bad.events.some((e) => e.kind === "disconnected" && /401/.test(e.error)));
    const other = await startAgent({ url: c.url, token: "token-other" });
    await until("403", () => other.events.some((e) => e.kind === "disconnected" && /403/.test(e.error)));
    const unknown = await startAgent({ url: c.url, instanceId: "i-unknown" });
    await until("404", () => unknown.events.some((e) => e.kind === "disconnected" && /404/.test(e.error)));
    for (const { agent, kernel, events } of [bad, other, unknown]) {
      assert.equal(agent.appliedRevision, undefined);
      assert.ok(events.some((e) => e.kind === "lockdown"));
      assert.deepEqual(kernel.elements("in_v4"), [], "no interface is let in");
      assert.ok(kernel.rules("input")?.some((r) => r.includes("ct state established,related")));
    }
    assert.equal(c.statuses.length, 0);
  });

  it("restarts from its saved policy before reaching the controller", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rf-agent-state-"));
    directories.push(dir);
    const c = await controller();
    c.publish("i-web", webPolicy(["10.0.9.9", "10.0.9.30"]));
    const first = await startAgent({ url: c.url, stateDir: dir });
    await until("apply", () => first.agent.appliedRevision === 1);
    await first.agent.stop();
    await c.stop();

    const kernel = new FakeKernel(); // e.g. after a reboot: empty kernel
    const second = await startAgent({ url: "http://127.0.0.1:9", stateDir: dir, kernel });
    assert.equal(second.agent.appliedRevision, 1);
    assert.ok(second.events.some((e) => e.kind === "restored"));
    assert.ok(!second.events.some((e) => e.kind === "lockdown"));
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.30", "10.0.9.9"]);
    // a state directory of another instance is not used
    const stranger = await startAgent({ url: "http://127.0.0.1:9", stateDir: dir, instanceId: "i-other" });
    assert.ok(stranger.events.some((e) => e.kind === "lockdown"));
  });

  it("repairs drift on its interval and says so in its status", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    const { agent, kernel, events } = await startAgent({ url: c.url, repairIntervalMs: 50 });
    await until("apply", () => agent.appliedRevision === 1);
    kernel.tamper("flush table inet ringfence\n");
    await until("repair", () => events.some((e) => e.kind === "repaired"));
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.9"]);
    await until("status", () => c.statuses.some((s) => /repaired drift/.test(s.status.message)));
  });

  it("a drift check that fails once makes the host unhealthy only until one passes", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    let failures = 0;
    class FlakyKernel extends FakeKernel {
      override async objectDigests(objects?: readonly string[]) {
        if (objects === undefined && failures > 0) {
          failures--;
          throw new Error("nft exited before it answered");
        }
        return super.objectDigests(objects);
      }
    }
    const { agent } = await startAgent({ url: c.url, repairIntervalMs: 40, kernel: new FlakyKernel() });
    await until("apply", () => agent.appliedRevision === 1);
    failures = 1;
    await until("unhealthy", () => c.statuses.some((s) => /drift repair failed/.test(s.status.message)));
    await until("healthy again", () => c.statuses.at(-1)?.status.healthy === true);
    assert.match(c.statuses.at(-1)?.status.message ?? "", /drift check passes again/);
    // and the host follows the controller's revision again
    const next = c.publish("i-web", webPolicy(["10.0.9.77"]));
    await until("next revision", () => agent.appliedRevision === next);
  });

  it("reports an unhealthy status when a policy cannot be applied, keeps the old table, and tries again", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    const { agent, kernel, events } = await startAgent({
      url: c.url,
      backoff: { initialMs: 150, maxMs: 300 },
    });
    await until("apply", () => agent.appliedRevision === 1);
    // the delta and the full table fail, and so does the first retry (again both)
    kernel.failNextApplies(4, "nft exploded");
    c.publish("i-web", webPolicy(["10.0.9.99"]));
    await until("unhealthy status", () => c.statuses.some((s) => s.status.healthy === false));
    const status = c.statuses.find((s) => s.status.healthy === false)?.status;
    assert.equal(status?.appliedRevision, 1);
    assert.match(status?.message ?? "", /revision 2.*nft exploded.*trying again in 150 ms/);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.9"]);

    // heartbeats (every 50 ms) do not make the host current while revision 2 is not in the kernel
    await until("a heartbeat", () => events.some((e) => e.kind === "heartbeat" && e.revision === 2));
    assert.equal(agent.appliedRevision, 1);

    await until("retried apply", () => agent.appliedRevision === 2);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.99"]);
    const failures = events.filter((e) => e.kind === "apply-failed");
    assert.deepEqual(
      failures.map((e) => (e.kind === "apply-failed" ? e.retryInMs : undefined)),
      [150, 300],
      "the retry backs off",
    );
    await until("healthy status", () => c.statuses.at(-1)?.status.healthy === true);
    assert.equal(c.statuses.at(-1)?.status.appliedRevision, 2);
  });

  it("a drift repair while a policy is not applied does not report the host healthy", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    const { agent, kernel, events } = await startAgent({
      url: c.url,
      repairIntervalMs: 40,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    await until("apply", () => agent.appliedRevision === 1);
    kernel.failNextApplies(2, "nft exploded");
    c.publish("i-web", webPolicy(["10.0.9.99"]));
    await until("failure", () => events.some((e) => e.kind === "apply-failed"));
    kernel.tamper("flush table inet ringfence\n");
    await until("repair", () => events.some((e) => e.kind === "repaired"));
    await until("status", () => c.statuses.some((s) => /repaired drift/.test(s.status.message)));
    const status = c.statuses.find((s) => /repaired drift/.test(s.status.message))?.status;
    assert.equal(status?.healthy, false);
    assert.equal(status?.appliedRevision, 1);
    assert.match(status?.message ?? "", /revision 2 is not applied yet/);
  });

  it("locks down when its saved state is unreadable, then follows the controller", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rf-agent-state-"));
    directories.push(dir);
    await writeFile(join(dir, "policy.json"), '{"instanceId": "i-web", "revi');
    const kernel = new FakeKernel();
    const { events } = await startAgent({ url: "http://127.0.0.1:9", stateDir: dir, kernel });
    assert.ok(events.some((e) => e.kind === "state-unreadable"));
    assert.ok(events.some((e) => e.kind === "lockdown"));
    assert.ok(kernel.rules("input") !== undefined, "a table is in the kernel");
  });

  it("takes a saved policy that is no policy for unreadable state, and locks down", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rf-agent-state-"));
    directories.push(dir);
    const policy = webPolicy(["10.0.9.9"], 22.5);
    await writeFile(join(dir, "policy.json"), JSON.stringify({ instanceId: "i-web", revision: 3, policy }));
    const kernel = new FakeKernel();
    const { agent, events } = await startAgent({ url: "http://127.0.0.1:9", stateDir: dir, kernel });
    const unreadable = events.find((e) => e.kind === "state-unreadable");
    assert.match(unreadable?.kind === "state-unreadable" ? unreadable.error : "", /fromPort/);
    assert.ok(events.some((e) => e.kind === "lockdown"));
    assert.equal(agent.appliedRevision, undefined);
  });

  it("refuses a malformed policy from the controller and keeps enforcing the last good one", async () => {
    const c = await controller();
    const first = c.publish("i-web", webPolicy());
    const { agent, kernel, events } = await startAgent({ url: c.url });
    await until("first apply", () => agent.appliedRevision === first);
    const bad = c.publish("i-web", webPolicy(["10.0.9.9 } ; flush ruleset"]));
    await until("the controller told", () =>
      c.statuses.some((s) => !s.status.healthy && /malformed policy.*ipv4\[0\]/.test(s.status.message)),
    );
    const told = c.statuses.find((s) => !s.status.healthy)?.status;
    assert.equal(told?.appliedRevision, first, "the revision the kernel holds");
    assert.match(told?.message ?? "", new RegExp(`revision ${bad} carries a malformed policy`));
    assert.ok(!events.some((e) => e.kind === "disconnected"), "the stream goes on");
    assert.equal(agent.appliedRevision, first);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.9"]);
    const fixed = c.publish("i-web", webPolicy(["10.0.9.10"]));
    await until("the next good policy", () => agent.appliedRevision === fixed);
    assert.deepEqual(kernel.elements("g_sg-admin_v4"), ["10.0.9.10"]);
  });

  it("enforces before the controller's address is known, and compiles it in once it is", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    let attempts = 0;
    const { agent, kernel, events } = await startAgent({
      url: c.url,
      resolveCompile: async () => {
        attempts++;
        if (attempts < 3) throw new Error("getaddrinfo EAI_AGAIN controller.internal");
        return { controlChannel: { addresses: ["192.0.2.10"], port: 4780 } };
      },
    });
    // one lookup before the lockdown failed: locked down without the exemption
    assert.deepEqual(
      events.slice(0, 2).map((e) => e.kind),
      ["control-channel-unresolved", "lockdown"],
    );
    assert.ok(!(kernel.rules("output") ?? []).some((rule) => rule.includes("192.0.2.10")));
    await until("apply", () => agent.appliedRevision === 1);
    assert.equal(events.filter((e) => e.kind === "control-channel-unresolved").length, 2);
    assert.ok((kernel.rules("output") ?? []).some((rule) => rule.includes("192.0.2.10")));
  });

  it("looks the controller up again before each connection, and lets its new address through", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    let answer: string[] | Error = ["192.0.2.10"];
    const { agent, kernel, events } = await startAgent({
      url: c.url,
      resolveCompile: async () => {
        if (answer instanceof Error) throw answer;
        return { controlChannel: { addresses: answer, port: 4780 } };
      },
    });
    await until("apply", () => agent.appliedRevision === 1);
    const channel = () => (kernel.rules("output") ?? []).filter((rule) => rule.includes("control-channel"));
    assert.match(channel().join("\n"), /192\.0\.2\.10/);

    // the name moves, both families: the next connection compiles the new addresses in
    answer = ["192.0.2.20", "2001:db8::20"];
    const connections = () => events.filter((e) => e.kind === "connected").length;
    const before = connections();
    await c.stop();
    await c.start();
    await until("reconnected", () => connections() > before);
    assert.equal(channel().length, 2, channel().join("\n"));
    assert.match(channel().join("\n"), /192\.0\.2\.20/);
    assert.match(channel().join("\n"), /2001:db8::20/);
    assert.doesNotMatch(channel().join("\n"), /192\.0\.2\.10/);

    // a lookup that fails later keeps what was resolved, and does not keep the agent away
    answer = new Error("getaddrinfo EAI_AGAIN controller.internal");
    const again = connections();
    await c.stop();
    await c.start();
    await until("reconnected despite DNS", () => connections() > again);
    assert.match(channel().join("\n"), /192\.0\.2\.20/);
    assert.ok(events.some((e) => e.kind === "control-channel-unresolved"));
  });

  it("looks the controller up before locking down, so that the lockdown lets it through", async () => {
    const kernel = new FakeKernel();
    const { events } = await startAgent({
      url: "http://127.0.0.1:9",
      kernel,
      resolveCompile: async () => ({ controlChannel: { addresses: ["192.0.2.10"], port: 4780 } }),
    });
    assert.ok(events.some((e) => e.kind === "lockdown"));
    assert.ok(
      (kernel.rules("output") ?? []).some((rule) => rule.includes("192.0.2.10")),
      "the first lockdown table already has the exemption",
    );
    assert.equal(kernel.applied.length, 1, "and it was written once");
  });

  it("a retry pending at stop() does not fire afterwards", async () => {
    const c = await controller();
    c.publish("i-web", webPolicy());
    const { agent, kernel, events } = await startAgent({
      url: c.url,
      backoff: { initialMs: 100, maxMs: 100 },
    });
    await until("apply", () => agent.appliedRevision === 1);
    kernel.failNextApplies(2, "nft exploded");
    c.publish("i-web", webPolicy(["10.0.9.99"]));
    await until("failure", () => events.some((e) => e.kind === "apply-failed"));
    await agent.stop();
    const attempts = kernel.attempted.length;
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(kernel.attempted.length, attempts, "nothing reached the kernel after stop()");
  });

  it("refuses a policy addressed to another instance", async () => {
    const c = await controller();
    c.publish("i-web", { ...webPolicy(), instanceId: "i-other" });
    const { agent, events } = await startAgent({ url: c.url });
    await until("refusal", () => events.some((e) => e.kind === "apply-failed"));
    assert.equal(agent.appliedRevision, undefined);
    await until("unhealthy status", () => c.statuses.some((s) => s.status.healthy === false));
    assert.match(c.statuses.at(-1)?.status.message ?? "", /policy of i-other/);
  });
});
