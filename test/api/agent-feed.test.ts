import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { tokenDigest } from "../../src/api/agent-feed.js";
import { startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let web: string;
let instanceId: string;
let otherInstanceId: string;
const token = "rfa_test-token-for-the-web-instance";

before(async () => {
  cp = await startControlPlane();
  web = (await cp.ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web" })))
    .GroupId as string;
  const run = await cp.ec2.send(
    new RunInstancesCommand({ ImageId: "ami-1", MinCount: 2, MaxCount: 2, SecurityGroupIds: [web] }),
  );
  instanceId = run.Instances?.[0]?.InstanceId as string;
  otherInstanceId = run.Instances?.[1]?.InstanceId as string;
  cp.server.store.addAgentToken(tokenDigest(token), instanceId);
});

after(async () => {
  await cp.close();
});

const policyUrl = (id: string, watch = false) =>
  `${cp.server.url}/ringfence/v1/agents/${id}/policy${watch ? "?watch=true" : ""}`;

test("tokens open exactly one instance's policy", async () => {
  assert.equal((await fetch(policyUrl(instanceId))).status, 401);
  assert.equal(
    (await fetch(policyUrl(instanceId), { headers: { Authorization: "Bearer nope" } })).status,
    401,
  );
  assert.equal(
    (await fetch(policyUrl(otherInstanceId), { headers: { Authorization: `Bearer ${token}` } })).status,
    403,
  );
  const ok = await fetch(policyUrl(instanceId), { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { revision: number; policy: { interfaces: { groupIds?: string[] }[] } };
  assert.equal(body.revision, cp.server.store.revision);
  assert.ok(JSON.stringify(body.policy).includes(web), "the policy names the instance's group");
});

test("the watch stream sends the policy at once and again when a rule of its group changes", async () => {
  const controller = new AbortController();
  const response = await fetch(policyUrl(instanceId, true), {
    headers: { Authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  assert.equal(response.headers.get("content-type"), "application/x-ndjson");
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const nextLine = async (): Promise<{ revision: number; policy?: unknown }> => {
    for (;;) {
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        return JSON.parse(line);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended");
      buffered += decoder.decode(value, { stream: true });
    }
  };
  const first = await nextLine();
  assert.ok(first.policy, "the first line carries the policy");
  assert.ok(!JSON.stringify(first.policy).includes("8443"));
  await cp.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: web,
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 8443, ToPort: 8443, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
      ],
    }),
  );
  const second = await nextLine();
  assert.equal(second.revision, cp.server.store.revision);
  assert.ok(JSON.stringify(second.policy).includes("8443"), "the new rule reaches the agent");
  controller.abort();
});

test("status reports are validated and kept", async () => {
  const url = `${cp.server.url}/ringfence/v1/agents/${instanceId}/status`;
  const post = (body: string) =>
    fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body,
    });
  assert.equal((await post("{not json")).status, 400);
  assert.equal((await post(JSON.stringify({ healthy: true }))).status, 400);
  assert.equal(
    (await post(JSON.stringify({ appliedRevision: 7, healthy: true, hostname: "web-1", pid: 42 }))).status,
    204,
  );
  const [status] = cp.server.store.agentStatuses();
  assert.deepEqual(
    [status?.instanceId, status?.appliedRevision, status?.healthy, status?.hostname, status?.pid],
    [instanceId, 7, true, "web-1", 42],
  );
  // an agent that holds no policy yet (locked down, or it refused one) reports too
  assert.equal((await post(JSON.stringify({ appliedRevision: null, healthy: false }))).status, 204);
  assert.equal(cp.server.store.agentStatuses()[0]?.appliedRevision, null);
  assert.equal((await post(JSON.stringify({ appliedRevision: "7", healthy: true }))).status, 400);
});
