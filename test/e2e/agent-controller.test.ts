// The real agent process following the real controller: the agent runs `ringfence agent` against
// the server over loopback and enforces inside a network namespace created for this test (root).

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { tokenDigest } from "../../src/api/agent-feed.js";
import { startControlPlane, type TestControlPlane } from "../support/control-plane.js";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const namespace = `rf-t-agent-${randomBytes(3).toString("hex")}`;
const stateDir = mkdtempSync(join(tmpdir(), "ringfence-agent-state-"));
const isRoot = process.getuid?.() === 0;
let cp: TestControlPlane;
let agent: ChildProcess | undefined;

function table(): string {
  try {
    return execFileSync("ip", ["netns", "exec", namespace, "nft", "list", "table", "inet", "ringfence"], {
      encoding: "utf8",
    });
  } catch {
    return "";
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

before(async () => {
  if (!isRoot) return;
  execFileSync("ip", ["netns", "add", namespace]);
  cp = await startControlPlane();
});

after(async () => {
  agent?.kill("SIGKILL");
  if (isRoot) execFileSync("ip", ["netns", "delete", namespace], { stdio: "ignore" });
  await cp?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

test("an agent enforces its instance's policy and follows rule changes", {
  skip: !isRoot && "needs root",
}, async () => {
  const web = (await cp.ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web" })))
    .GroupId as string;
  await cp.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: web,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
    }),
  );
  const run = await cp.ec2.send(
    new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1, SecurityGroupIds: [web] }),
  );
  const instanceId = run.Instances?.[0]?.InstanceId as string;
  const token = `rfa_${randomBytes(12).toString("hex")}`;
  cp.server.store.addAgentToken(tokenDigest(token), instanceId);

  agent = spawn(
    process.execPath,
    [
      CLI,
      "agent",
      "--controller",
      cp.server.url,
      "--instance-id",
      instanceId,
      "--netns",
      namespace,
      "--state-dir",
      stateDir,
      "--status-interval",
      "1",
    ],
    { env: { ...process.env, RINGFENCE_AGENT_TOKEN: token }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let agentLog = "";
  agent.stderr?.on("data", (chunk: Buffer) => {
    agentLog += chunk.toString();
  });

  await until("the first policy in the kernel", () => table().includes("8080")).catch((error: Error) => {
    throw new Error(`${error.message}\nagent said: ${agentLog}`);
  });
  assert.doesNotMatch(table(), /9090/);

  await cp.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: web,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 9090, ToPort: 9090, IpRanges: [{ CidrIp: "192.0.2.0/24" }] },
      ],
    }),
  );
  const revision = cp.server.store.revision;
  await until("the new rule in the kernel", () => table().includes("9090"));
  await until("a status report at the current revision", () =>
    cp.server.store
      .agentStatuses()
      .some((s) => s.instanceId === instanceId && (s.appliedRevision ?? 0) >= revision && s.healthy),
  );

  // The agent going away leaves the table enforced: it lives in the kernel, not in the process.
  agent.kill("SIGKILL");
  await new Promise((resolve) => agent?.once("exit", resolve));
  assert.match(table(), /9090/);
});
