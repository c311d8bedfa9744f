// Durability: a burst of writes against a real server process, kill -9 in the middle of it, then a
// restart: every write the server acknowledged is there, and the state is consistent.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";

const CLI = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const KEY = { id: "AKRFCRASHTEST0000001", secret: "crash-test-secret" };
const dataDir = mkdtempSync(join(tmpdir(), "ringfence-crash-"));
const children: ChildProcess[] = [];

after(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function startServerProcess(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, "server", "--data", dataDir, "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, RINGFENCE_ACCESS_KEY_ID: KEY.id, RINGFENCE_SECRET_ACCESS_KEY: KEY.secret },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("listening on")) resolve();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  return child;
}

const client = (port: number) =>
  new EC2Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret },
    maxAttempts: 1,
  });

test("every acknowledged write survives kill -9", async () => {
  const port = await freePort();
  const server = await startServerProcess(port);
  const ec2 = client(port);
  const acknowledged: { groupId: string; ruleId: string }[] = [];
  let failures = 0;
  const writer = async (n: number) => {
    for (let i = 0; ; i++) {
      try {
        const created = await ec2.send(
          new CreateSecurityGroupCommand({ GroupName: `burst-${n}-${i}`, Description: "burst" }),
        );
        const groupId = created.GroupId as string;
        const rule = await ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: [
              {
                IpProtocol: "tcp",
                FromPort: 1000 + i,
                ToPort: 1000 + i,
                IpRanges: [{ CidrIp: "10.0.0.0/8" }],
              },
            ],
          }),
        );
        acknowledged.push({ groupId, ruleId: rule.SecurityGroupRules?.[0]?.SecurityGroupRuleId as string });
      } catch {
        failures++;
        return;
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, n) => writer(n));
  // Let the burst run, then kill the server while requests are in flight.
  while (acknowledged.length < 150) await new Promise((resolve) => setTimeout(resolve, 5));
  server.kill("SIGKILL");
  await Promise.all(writers);
  ec2.destroy();
  assert.ok(failures > 0, "the kill interrupted the writers");

  const restarted = await startServerProcess(port);
  const after = client(port);
  const groups = (await after.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  const groupIds = new Set(groups.map((g) => g.GroupId));
  const rules = (await after.send(new DescribeSecurityGroupRulesCommand({}))).SecurityGroupRules ?? [];
  const ruleIds = new Set(rules.map((r) => r.SecurityGroupRuleId));
  for (const { groupId, ruleId } of acknowledged) {
    assert.ok(groupIds.has(groupId), `acknowledged group ${groupId} is missing`);
    assert.ok(ruleIds.has(ruleId), `acknowledged rule ${ruleId} is missing`);
  }
  // Whatever was written is whole: every burst group has its egress rule, every rule its group.
  for (const rule of rules)
    assert.ok(groupIds.has(rule.GroupId), `rule ${rule.SecurityGroupRuleId} lost its group`);
  for (const group of groups)
    assert.ok((group.IpPermissionsEgress?.length ?? 0) > 0, `${group.GroupId} lost its egress rule`);
  after.destroy();
  restarted.kill("SIGKILL");
});
