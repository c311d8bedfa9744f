// `ringfence agents`, `agents token` and `agents revoke` on a data directory, as an operator runs
// them beside (or without) a running server.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { RunInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { tokenDigest } from "../../src/api/agent-feed.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";
import { startControlPlane } from "../support/control-plane.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "ringfence-agents-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const ringfence = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });

test("tokens are issued and revoked per instance; agents shows who is behind, ahead or silent", async () => {
  const cp = await startControlPlane({ dataDir });
  const run = await cp.ec2.send(new RunInstancesCommand({ ImageId: "ami-1", MinCount: 2, MaxCount: 2 }));
  const [a, b] = (run.Instances ?? []).map((i) => i.InstanceId as string) as [string, string];
  await cp.close();

  const issued = ringfence("agents", "token", a, "--data", dataDir);
  assert.equal(issued.status, 0, issued.stderr);
  const token = issued.stdout.trim();
  assert.match(token, /^rfa_/);
  assert.equal(ringfence("agents", "token", "i-00000000000000000", "--data", dataDir).status, 1);
  assert.equal(ringfence("agents", "revoke", "vpc-1", "--data", dataDir).status, 2);

  const store = new SqliteStore(dataDir);
  assert.equal(store.agentTokenInstance(tokenDigest(token)), a);
  const current = store.revision;
  await store.saveAgentStatus({
    instanceId: a,
    appliedRevision: current + 5,
    healthy: true,
    reportedAt: new Date().toISOString(),
  });
  await store.saveAgentStatus({
    instanceId: b,
    appliedRevision: current - 1,
    healthy: true,
    reportedAt: new Date(Date.now() - 10 * 60_000).toISOString(),
  });
  store.close();

  const listed = ringfence("agents", "--data", dataDir);
  assert.equal(listed.status, 0, listed.stderr);
  const line = (id: string) => listed.stdout.split("\n").find((l) => l.startsWith(id)) ?? "";
  assert.match(line(a), /AHEAD of the control plane/);
  assert.match(line(a), / {2}reported /);
  assert.match(line(b), /\(1 behind\)/);
  assert.match(line(b), /SILENT since/);

  const revoked = ringfence("agents", "revoke", a, "--data", dataDir);
  assert.equal(revoked.status, 0, revoked.stderr);
  assert.match(revoked.stdout, /1 token of i-\S+ revoked/);
  const after = new SqliteStore(dataDir);
  assert.equal(after.agentTokenInstance(tokenDigest(token)), undefined);
  after.close();
});

test("what an agent reports is shown as text: its control characters cannot forge rows or move the cursor", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ringfence-agents-escapes-"));
  try {
    const cp = await startControlPlane({ dataDir: dir });
    const run = await cp.ec2.send(new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1 }));
    const id = run.Instances?.[0]?.InstanceId as string;
    await cp.close();
    const store = new SqliteStore(dir);
    await store.saveAgentStatus({
      instanceId: id,
      appliedRevision: store.revision,
      healthy: false,
      hostname: "web1\u001b[2K\r",
      message: "x\ni-0123456789abcdef0  healthy\u001b]0;pwned\u0007\u202e",
      reportedAt: new Date().toISOString(),
    });
    store.close();
    const listed = ringfence("agents", "--data", dir);
    assert.equal(listed.status, 0, listed.stderr);
    const rows = listed.stdout.split("\n").filter((l) => l.startsWith("i-"));
    assert.equal(rows.length, 1, "one row, and no forged one");
    assert.match(rows[0] as string, /UNHEALTHY {2}web1\\u001b\[2K\\u000d/);
    assert.match(rows[0] as string, /x\\u000ai-0123456789abcdef0 {2}healthy\\u001b\]0;pwned\\u0007\\u202e$/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: their absence is the point
    assert.doesNotMatch(listed.stdout, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    // the JSON is JSON: the text as reported
    const json = JSON.parse(ringfence("agents", "--data", dir, "--json").stdout);
    assert.equal(json.agents[0].hostname, "web1\u001b[2K\r");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("no token for a terminated instance", async () => {
  const dir = mkdtempSync(join(tmpdir(), "ringfence-agents-terminated-"));
  try {
    const cp = await startControlPlane({ dataDir: dir });
    const run = await cp.ec2.send(new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1 }));
    const id = run.Instances?.[0]?.InstanceId as string;
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await cp.close();
    const issued = ringfence("agents", "token", id, "--data", dir);
    assert.equal(issued.status, 1);
    assert.match(issued.stderr, /is terminated/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
