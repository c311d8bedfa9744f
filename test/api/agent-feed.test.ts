import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { get as httpGet, type IncomingMessage } from "node:http";
import { after, before, test } from "node:test";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
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

test("status reports with a revision that is no revision are refused; a bad pid is dropped", async () => {
  const url = `${cp.server.url}/ringfence/v1/agents/${instanceId}/status`;
  const post = (body: unknown) =>
    fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  for (const appliedRevision of [1e300, -1, 1.5, "7", true]) {
    assert.equal((await post({ appliedRevision, healthy: true })).status, 400, String(appliedRevision));
  }
  assert.equal((await post([1, 2])).status, 400);
  assert.equal((await post({ appliedRevision: 3, healthy: true, pid: -5.5 })).status, 204);
  const [status] = cp.server.store.agentStatuses();
  assert.equal(status?.appliedRevision, 3);
  assert.equal(status?.pid, undefined);
});

/** A watch stream read with node's http client, which stops reading the socket while paused. */
function openStream(url: string, bearer: string) {
  const lines: { revision: number; policy?: unknown }[] = [];
  let ended = false;
  let waiters: (() => void)[] = [];
  const notify = () => {
    for (const wake of waiters) wake();
    waiters = [];
  };
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpGet(url, { headers: { Authorization: `Bearer ${bearer}` } }, (res) => {
      let buffered = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffered += chunk;
        for (let n = buffered.indexOf("\n"); n >= 0; n = buffered.indexOf("\n")) {
          lines.push(JSON.parse(buffered.slice(0, n)));
          buffered = buffered.slice(n + 1);
        }
        notify();
      });
      res.on("end", () => {
        ended = true;
        notify();
      });
      res.on("error", () => {});
      resolve(res);
    });
    req.on("error", reject);
  });
  return {
    lines,
    response,
    get ended() {
      return ended;
    },
    /** Resolves when `done` holds, checked after each line and at the end of the stream. */
    async until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

/** An instance in five groups of 59 rules: a policy of about 45 KB, so that socket buffers fill quickly. */
async function bigInstance(plane: TestControlPlane): Promise<{ instanceId: string; groupIds: string[] }> {
  const groupIds: string[] = [];
  for (let g = 0; g < 5; g++) {
    const id = (
      await plane.ec2.send(new CreateSecurityGroupCommand({ GroupName: `big-${g}`, Description: "big" }))
    ).GroupId as string;
    await plane.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 1000 + g,
            ToPort: 1000 + g,
            IpRanges: Array.from({ length: 59 }, (_, k) => ({ CidrIp: `10.${g}.${k}.0/24` })),
          },
        ],
      }),
    );
    groupIds.push(id);
  }
  const run = await plane.ec2.send(
    new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1, SecurityGroupIds: groupIds }),
  );
  return { instanceId: run.Instances?.[0]?.InstanceId as string, groupIds };
}

test("a stream that stops reading is sent only the newest policy when it reads again", async () => {
  const { instanceId: big, groupIds } = await bigInstance(cp);
  const bigToken = "rfa_test-token-for-the-big-instance";
  cp.server.store.addAgentToken(tokenDigest(bigToken), big);
  const stream = openStream(policyUrl(big, true), bigToken);
  const res = await stream.response;
  await stream.until(() => stream.lines.length > 0, "the first policy");
  res.pause();
  const pairs = 400;
  const permission = {
    IpProtocol: "tcp",
    FromPort: 4444,
    ToPort: 4444,
    IpRanges: [{ CidrIp: "192.0.2.0/24" }],
  };
  for (let k = 0; k < pairs; k++) {
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: groupIds[0], IpPermissions: [permission] }),
    );
    await cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: groupIds[0], IpPermissions: [permission] }),
    );
  }
  const last = cp.server.store.revision;
  res.resume();
  await stream.until(() => stream.lines.some((l) => l.revision === last && l.policy), "the newest policy");
  const policies = stream.lines.filter((l) => l.policy).length;
  assert.ok(policies < pairs, `${policies} policies sent for ${2 * pairs} changes`);
  const newest = stream.lines.filter((l) => l.policy).at(-1);
  assert.equal(newest?.revision, last);
  assert.ok(!JSON.stringify(newest?.policy).includes("192.0.2.0"), "the newest policy has the rule revoked");
  res.destroy();
});

test("one instance holds at most four streams: a fifth closes the oldest", async () => {
  const streams = [];
  for (let k = 0; k < 5; k++) {
    const stream = openStream(policyUrl(instanceId, true), token);
    await stream.response;
    await stream.until(() => stream.lines.length > 0, `stream ${k}'s policy`);
    streams.push(stream);
  }
  const [oldest, ...rest] = streams;
  await oldest?.until(() => oldest.ended, "the oldest stream to end");
  assert.ok(rest.every((s) => !s.ended));
  for (const stream of rest) (await stream.response).destroy();
});

/** The server's side of a connection, from the kernel's table: its state (`ESTAB`, `FIN-WAIT-1`, ...). */
function serverSideState(serverPort: number, clientPort: number): string | undefined {
  const out = execFileSync("ss", ["-tanH", `( sport = :${serverPort} and dport = :${clientPort} )`], {
    encoding: "utf8",
  });
  return out.trim().split(/\s+/)[0] || undefined;
}

test("a stream that does not read and is no longer followed is cut, not left holding its socket", async () => {
  // heartbeats of 1 s: the stall check of a followed stream (six of them) stays out of the way
  const quick = await startControlPlane({ agentHeartbeatMs: 1000 });
  try {
    const { instanceId: id, groupIds } = await bigInstance(quick);
    quick.server.store.addAgentToken(tokenDigest(token), id);
    const url = `${quick.server.url}/ringfence/v1/agents/${id}/policy?watch=true`;
    const serverPort = Number(new URL(quick.server.url).port);
    const stalled = openStream(url, token);
    const res = await stalled.response;
    await stalled.until(() => stalled.lines.length > 0, "the first policy");
    res.pause();
    const clientPort = res.socket.localPort as number;
    const permission = {
      IpProtocol: "tcp",
      FromPort: 4444,
      ToPort: 4444,
      IpRanges: [{ CidrIp: "192.0.2.0/24" }],
    };
    // far more policy text than loopback buffers hold
    for (let k = 0; k < 100; k++) {
      await quick.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupIds[0], IpPermissions: [permission] }),
      );
      await quick.ec2.send(
        new RevokeSecurityGroupIngressCommand({ GroupId: groupIds[0], IpPermissions: [permission] }),
      );
    }
    assert.equal(serverSideState(serverPort, clientPort), "ESTAB");
    // four newer streams of the instance push the stalled one out of the feed
    const newer = [];
    for (let k = 0; k < 4; k++) {
      const stream = openStream(url, token);
      await stream.response;
      await stream.until(() => stream.lines.length > 0, `stream ${k}'s policy`);
      newer.push(stream);
    }
    const deadline = Date.now() + 3000;
    while (serverSideState(serverPort, clientPort) === "ESTAB" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.notEqual(serverSideState(serverPort, clientPort), "ESTAB", "the server let go of the socket");
    res.destroy();
    for (const stream of newer) (await stream.response).destroy();
  } finally {
    await quick.close();
  }
});

test("a terminated instance's stream ends, its agent is refused, and no empty policy is sent", async () => {
  const group = (
    await cp.ec2.send(new CreateSecurityGroupCommand({ GroupName: "gone", Description: "gone" }))
  ).GroupId as string;
  const run = await cp.ec2.send(
    new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1, SecurityGroupIds: [group] }),
  );
  const id = run.Instances?.[0]?.InstanceId as string;
  const goneToken = "rfa_test-token-for-an-instance-to-terminate";
  cp.server.store.addAgentToken(tokenDigest(goneToken), id);
  const url = `${cp.server.url}/ringfence/v1/agents/${id}`;
  const stream = openStream(`${url}/policy?watch=true`, goneToken);
  await stream.response;
  await stream.until(() => stream.lines.length > 0, "the first policy");
  await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  await stream.until(() => stream.ended, "the stream to end");
  assert.deepEqual(
    stream.lines.filter((l) => l.policy).length,
    1,
    "the policy it had, and no policy without interfaces after it",
  );
  const headers = { Authorization: `Bearer ${goneToken}` };
  assert.equal((await fetch(`${url}/policy`, { headers })).status, 404);
  const status = await fetch(`${url}/status`, {
    method: "POST",
    headers,
    body: JSON.stringify({ appliedRevision: 1, healthy: true }),
  });
  assert.equal(status.status, 404);
});

test("a revoked token's open stream is closed at the next heartbeat, and the token is refused", async () => {
  const quick = await startControlPlane({ agentHeartbeatMs: 100 });
  try {
    const group = (await quick.ec2.send(new CreateSecurityGroupCommand({ GroupName: "g", Description: "g" })))
      .GroupId as string;
    const run = await quick.ec2.send(
      new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1, SecurityGroupIds: [group] }),
    );
    const id = run.Instances?.[0]?.InstanceId as string;
    quick.server.store.addAgentToken(tokenDigest(token), id);
    const url = `${quick.server.url}/ringfence/v1/agents/${id}/policy`;
    const stream = openStream(`${url}?watch=true`, token);
    await stream.response;
    await stream.until(() => stream.lines.some((l) => !l.policy), "a heartbeat");
    assert.equal(quick.server.store.removeAgentTokens(id), 1);
    await stream.until(() => stream.ended, "the stream to close", 2000);
    assert.equal((await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).status, 401);
  } finally {
    await quick.close();
  }
});

test("a revision is sent with one policy only, however reads and writes interleave", async () => {
  const seen = new Map<number, string>();
  const read = async () => {
    const response = await fetch(policyUrl(instanceId), { headers: { Authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { revision: number; policy: unknown };
    const text = JSON.stringify(body.policy);
    const before = seen.get(body.revision);
    assert.ok(before === undefined || before === text, `revision ${body.revision} came with two policies`);
    seen.set(body.revision, text);
  };
  for (let k = 0; k < 40; k++) {
    const change = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: web,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 20000 + k,
            ToPort: 20000 + k,
            IpRanges: [{ CidrIp: "10.9.0.0/16" }],
          },
        ],
      }),
    );
    await Promise.all([change, ...Array.from({ length: 8 }, read)]);
  }
  assert.ok(seen.size > 1);
});
