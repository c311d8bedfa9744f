// The compiler at fleet scale and the agent's footprint:
//  - compile: HostPolicy + nftables table + full script for 1,000 hosts of an estate of 10,000
//    interfaces, 1,000 groups and 20,000 rules (aim: under 1 s in total for a revision; the first
//    after start, with the JIT still cold, is shown beside it);
//  - delta: the script for one rule change and for one membership change, next to the full
//    script of the same host (aim: proportional to the change, not to the policy);
//  - agent: resident memory of an agent process enforcing a large policy (aim: under 80 MB),
//    with real nft in its own namespace when run as root, else with a discarding kernel.
// Options: --hosts N (default 1000), --no-agent, --discard-kernel (measure the agent without nft).

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fullReplacement, tableDelta } from "../src/compile/delta.js";
import { type HostPolicy, hostPolicyFor, hostPolicyFromIndex } from "../src/compile/host-policy.js";
import { fullScript } from "../src/compile/nft-script.js";
import { compileHostPolicy } from "../src/compile/nftables.js";
import type { Estate, SecurityGroup } from "../src/model/estate.js";
import { PolicyIndex } from "../src/policy/policy-index.js";
import { compileEstate, groupId, instanceId, withLargeHost } from "./compile-estate.js";
import type { BenchOptions } from "./main.js";

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function compileHosts(index: PolicyIndex, estate: Estate, hosts: number) {
  const step = Math.max(1, Math.floor(estate.instances.length / hosts));
  let bytes = 0;
  let statements = 0;
  let compiled = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; compiled < hosts && i < estate.instances.length; i += step, compiled++) {
    const policy = hostPolicyFromIndex(index, instanceId(i)) as HostPolicy;
    const script = fullScript(compileHostPolicy(policy));
    bytes += script.length;
    for (let k = script.indexOf("\n"); k >= 0; k = script.indexOf("\n", k + 1)) statements++;
  }
  return { compiled, ms: ms(start), bytes, statements };
}

/** The estate at its next revision: one rule of group 0 moves to another port, as a change does. */
function nextRevision(estate: Estate, k: number): Estate {
  const g0 = estate.securityGroups[0] as SecurityGroup;
  const changed = g0.rules.findIndex((r) => r.protocol === "tcp");
  return {
    ...estate,
    securityGroups: [
      {
        ...g0,
        rules: g0.rules.map((r, i) => (i === changed ? { ...r, fromPort: 30000 + k, toPort: 30000 + k } : r)),
      },
      ...estate.securityGroups.slice(1),
    ],
  };
}

/** The index of an estate, then every host's policy, table and full script. */
function indexAndCompile(estate: Estate, hosts: number) {
  const t0 = process.hrtime.bigint();
  const index = PolicyIndex.build(estate);
  const indexMs = ms(t0);
  const compiled = compileHosts(index, estate, hosts);
  return {
    indexMs: round(indexMs),
    compileMs: round(compiled.ms),
    totalMs: round(indexMs + compiled.ms),
    compiled,
  };
}

const NEXT_REVISIONS = 5;

/**
 * A controller indexes its estate and compiles its hosts at every revision. The first time after
 * start pays for the JIT warming up on this code as well; the revisions after it show what a
 * change costs a running controller, which is what the aim is about. Each is a new estate and
 * index, so nothing derived from the previous revision is reused.
 */
function compileFleet(estate: Estate, hosts: number) {
  const first = indexAndCompile(estate, hosts);
  const next = Array.from({ length: NEXT_REVISIONS }, (_, k) =>
    indexAndCompile(nextRevision(estate, k), hosts),
  );
  next.sort((x, y) => x.totalMs - y.totalMs);
  const median = next[Math.floor(next.length / 2)] as (typeof next)[number];
  return {
    hosts: first.compiled.compiled,
    first: { indexMs: first.indexMs, compileMs: first.compileMs, totalMs: first.totalMs },
    nextRevision: {
      indexMs: median.indexMs,
      compileMs: median.compileMs,
      totalMs: median.totalMs,
      minMs: (next[0] as (typeof next)[number]).totalMs,
      maxMs: (next[next.length - 1] as (typeof next)[number]).totalMs,
      runs: next.length,
    },
    perHostMs: round(median.compileMs / first.compiled.compiled, 3),
    avgScriptBytes: Math.round(first.compiled.bytes / first.compiled.compiled),
    avgStatements: Math.round(first.compiled.statements / first.compiled.compiled),
  };
}

function deltas(estate: Estate) {
  const host = instanceId(0); // carries groups 0 and 3
  const before = compileHostPolicy(hostPolicyFor(estate, host) as HostPolicy);
  const full = fullReplacement(before);

  // one rule of group 0 moves to another port
  const g0 = estate.securityGroups[0] as SecurityGroup;
  const changed = g0.rules.findIndex((r) => r.protocol === "tcp");
  const ruleChange: Estate = {
    ...estate,
    securityGroups: [
      { ...g0, rules: g0.rules.map((r, k) => (k === changed ? { ...r, fromPort: 22, toPort: 22 } : r)) },
      ...estate.securityGroups.slice(1),
    ],
  };
  const afterRule = compileHostPolicy(hostPolicyFor(ruleChange, host) as HostPolicy);
  const rule = tableDelta(before, afterRule);

  // one interface joins a group that a rule of this host refers to
  const policy = hostPolicyFor(estate, host) as HostPolicy;
  const referenced = policy.groups[0]?.groupId ?? groupId(1);
  const joiner = estate.networkInterfaces[5000];
  const membership: Estate = {
    ...estate,
    networkInterfaces: estate.networkInterfaces.map((e) =>
      e === joiner ? { ...e, groupIds: [...e.groupIds, referenced] } : e,
    ),
  };
  const afterJoin = compileHostPolicy(hostPolicyFor(membership, host) as HostPolicy);
  const join = tableDelta(before, afterJoin);
  return {
    fullBytes: full.script.length,
    fullStatements: full.statements,
    ruleChangeBytes: rule.script.length,
    ruleChangeStatements: rule.statements,
    membershipChangeBytes: join.script.length,
    membershipChangeStatements: join.statements,
  };
}

/** A controller stand-in for the memory run: one policy stream, heartbeats, status accepted. */
async function serveOne(instance: string, token: string) {
  let revision = 1;
  let policy: HostPolicy | undefined;
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
    if (req.method === "POST") {
      req.resume();
      req.on("end", () => res.writeHead(204).end());
      return;
    }
    if (!req.url?.startsWith(`/ringfence/v1/agents/${instance}/policy`)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write(`${JSON.stringify({ revision, policy })}\n`);
    streams.add(res);
    const beat = setInterval(() => res.write(`${JSON.stringify({ revision })}\n`), 1000);
    res.on("close", () => {
      clearInterval(beat);
      streams.delete(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    publish(next: HostPolicy) {
      revision++;
      policy = next;
      for (const s of streams) s.write(`${JSON.stringify({ revision, policy })}\n`);
      return revision;
    },
    async close() {
      for (const s of streams) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The V8 flags docs/ringfence-agent.service starts the agent with (a small, steady heap). */
const AGENT_NODE_FLAGS = ["--optimize-for-size", "--max-semi-space-size=1"];

/** Membership changes sent to the agent after its first policy, one after another. */
const CHANGES = 20;

function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rssMb: round(kb("VmRSS") / 1024), peakMb: round(kb("VmHWM") / 1024) };
}

async function agentMemory(estate: Estate, discard: boolean) {
  const instance = "i-0000000000000large";
  const large = withLargeHost(estate, instance, 50);
  const policy = hostPolicyFor(large, instance) as HostPolicy;
  const table = compileHostPolicy(policy);
  const script = fullScript(table);
  const elements = table.sets.reduce((n, s) => n + s.elements.length, 0);
  const rules = table.chains.reduce((n, c) => n + c.rules.length, 0);
  const root = !discard && process.getuid?.() === 0 && spawnSync("nft", ["--version"]).status === 0;
  const netns = root ? `rf-b-${randomBytes(3).toString("hex")}` : undefined;
  if (netns) spawnSync("ip", ["netns", "add", netns]);
  const token = randomBytes(16).toString("hex");
  const controller = await serveOne(instance, token);
  controller.publish(policy);
  const child = spawn(
    process.execPath,
    [
      ...AGENT_NODE_FLAGS,
      fileURLToPath(new URL("./compile-agent-child.js", import.meta.url)),
      controller.url,
      token,
      instance,
      ...(netns ? [netns] : []),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    let applied = 0;
    let lastMode = "";
    let lastAppliedAt = 0;
    child.stdout.on("data", (b: Buffer) => {
      for (const line of b.toString().split("\n").filter(Boolean)) {
        const event = JSON.parse(line) as { kind: string; outcome?: { mode: string } };
        if (event.kind === "applied") {
          applied++;
          lastMode = event.outcome?.mode ?? "";
          lastAppliedAt = performance.now();
        }
        if (event.kind === "apply-failed") throw new Error(`agent could not apply: ${line}`);
      }
    });
    const until = async (n: number) => {
      const deadline = Date.now() + 60_000;
      while (applied < n) {
        if (Date.now() > deadline) throw new Error("agent did not apply in time");
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(1);
    // Membership changes on top of the large policy, one at a time: from the controller's write
    // of the change to the agent's "applied", which it logs once the kernel holds the change and
    // the table has been read back for drift checks.
    const changeMs: number[] = [];
    for (let k = 0; k < CHANGES; k++) {
      const groups = policy.groups.map((g, i) =>
        i === k ? { ...g, ipv4: [...g.ipv4, `10.250.0.${k + 1}`] } : g,
      );
      const sent = performance.now();
      controller.publish({ ...policy, groups });
      await until(k + 2);
      changeMs.push(lastAppliedAt - sent);
    }
    changeMs.sort((a, b) => a - b);
    await new Promise((r) => setTimeout(r, 2500)); // one drift check with the table in place
    const memory = memoryOf(child.pid as number);
    return {
      kernel: netns ? "nft in a namespace" : "discarding",
      nodeFlags: AGENT_NODE_FLAGS.join(" "),
      policyRules: policy.interfaces.reduce((n, i) => n + i.ingress.length + i.egress.length, 0),
      nftRules: rules,
      setElements: elements,
      fullScriptBytes: script.length,
      lastApply: lastMode,
      changes: CHANGES,
      changeP50Ms: round(changeMs[Math.floor(CHANGES / 2)] ?? 0),
      changeMaxMs: round(changeMs[CHANGES - 1] ?? 0),
      ...memory,
    };
  } finally {
    child.kill("SIGTERM");
    await controller.close();
    if (netns) spawnSync("ip", ["netns", "del", netns]);
  }
}

export async function run(options: BenchOptions): Promise<void> {
  const { values } = parseArgs({
    args: options.args,
    options: {
      hosts: { type: "string" },
      "no-agent": { type: "boolean" },
      "discard-kernel": { type: "boolean" },
    },
  });
  const hosts = values.hosts ? Number(values.hosts) : 1000;
  const t0 = process.hrtime.bigint();
  const estate = compileEstate();
  const generateMs = round(ms(t0));
  const compile = compileFleet(estate, hosts);
  const delta = deltas(estate);
  const agent = values["no-agent"] ? undefined : await agentMemory(estate, values["discard-kernel"] === true);
  const result = {
    loadAverage: round(loadavg()[0] ?? 0, 2),
    cpus: cpus().length,
    estate: {
      interfaces: estate.networkInterfaces.length,
      groups: estate.securityGroups.length,
      rules: estate.securityGroups.reduce((n, g) => n + g.rules.length, 0),
      generateMs,
    },
    compile,
    delta,
    ...(agent ? { agent } : {}),
  };
  const rows: [string, string][] = [
    [
      "estate",
      `${result.estate.interfaces} interfaces, ${result.estate.groups} groups, ${result.estate.rules} rules`,
    ],
    [
      "first, after start (cold JIT)",
      `index ${compile.first.indexMs} ms + ${compile.hosts} hosts ${compile.first.compileMs} ms = ${compile.first.totalMs} ms`,
    ],
    [
      `next revision (median of ${compile.nextRevision.runs})`,
      `index ${compile.nextRevision.indexMs} ms + ${compile.hosts} hosts ${compile.nextRevision.compileMs} ms = ${compile.nextRevision.totalMs} ms (${compile.perHostMs} ms/host; aim < 1000 ms: ${compile.nextRevision.totalMs < 1000 ? "met" : "not met"})`,
    ],
    ["next revision, range", `${compile.nextRevision.minMs}-${compile.nextRevision.maxMs} ms`],
    ["load average (1 min)", `${result.loadAverage} on ${result.cpus} CPUs`],
    ["avg full script", `${compile.avgScriptBytes} bytes, ${compile.avgStatements} statements`],
    ["full script of host 0", `${delta.fullBytes} bytes, ${delta.fullStatements} statements`],
    ["delta: one rule change", `${delta.ruleChangeBytes} bytes, ${delta.ruleChangeStatements} statements`],
    [
      "delta: one membership change",
      `${delta.membershipChangeBytes} bytes, ${delta.membershipChangeStatements} statements`,
    ],
  ];
  if (agent) {
    rows.push(
      [
        "agent: large policy",
        `${agent.policyRules} rules -> ${agent.nftRules} nft rules, ${agent.setElements} set elements, ${agent.fullScriptBytes} bytes`,
      ],
      ["agent: kernel, node flags", `${agent.kernel}, ${agent.nodeFlags}`],
      [
        `agent: membership change (${agent.changes})`,
        `p50 ${agent.changeP50Ms} ms, max ${agent.changeMaxMs} ms, from the controller's write to the agent's "applied"`,
      ],
      ["agent: RSS now / peak", `${agent.rssMb} MB / ${agent.peakMb} MB (aim < 80 MB)`],
    );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  if (options.json) console.log(JSON.stringify(result));
}
