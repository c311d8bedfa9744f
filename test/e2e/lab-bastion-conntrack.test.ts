import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EC2Client, ModifyNetworkInterfaceAttributeCommand } from "@aws-sdk/client-ec2";
import { execInNamespace } from "../../src/lab/iproute.js";
import { instanceNamespace } from "../../src/lab/names.js";
import { LabServer, type LaunchedInstance } from "../lab/server-harness.js";

// Who accepts ssh, what terminating the bastion does, and what a revoke does to new and to
// established connections (spec 3.11: tracked flows survive, untracked ones are cut).

describe("lab e2e: bastion and connection tracking (aws CLI, real packets)", () => {
  let lab: LabServer;
  let subnet: string;
  let bastionGroup: string;
  let dbGroup: string;
  let webGroup: string;
  let bastion: LaunchedInstance;
  let web: LaunchedInstance;
  let db: LaunchedInstance;
  let client: LaunchedInstance;

  before(async () => {
    lab = await LabServer.start();
    const vpc = await lab.vpc("10.12.0.0/16");
    subnet = await lab.subnet(vpc, "10.12.1.0/24");
    bastionGroup = await lab.group(vpc, "bastion");
    dbGroup = await lab.group(vpc, "db");
    webGroup = await lab.group(vpc, "web");
    const clientGroup = await lab.group(vpc, "client");
    await lab.ec2(
      "authorize-security-group-ingress",
      "--group-id",
      bastionGroup,
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "0.0.0.0/0",
    );
    await lab.ec2(
      "authorize-security-group-ingress",
      "--group-id",
      dbGroup,
      "--ip-permissions",
      `IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=${clientGroup}}]`,
    );
    // Open to the world while all egress is open: the flow is untracked (spec 3.11).
    await openToTheWorld("authorize", "tcp", 80);
    [bastion] = (await lab.launch(subnet, [bastionGroup])) as [LaunchedInstance];
    [web] = (await lab.launch(subnet, [webGroup])) as [LaunchedInstance];
    [db] = (await lab.launch(subnet, [dbGroup])) as [LaunchedInstance];
    [client] = (await lab.launch(subnet, [clientGroup])) as [LaunchedInstance];
  });
  after(async () => {
    await lab?.close();
  });

  /** A web rule open to 0.0.0.0/0: with web's all-open egress, its flows are untracked. */
  const openToTheWorld = (verb: "authorize" | "revoke", protocol: "tcp" | "udp", port: number) =>
    lab.ec2(
      `${verb}-security-group-ingress`,
      "--group-id",
      webGroup,
      "--protocol",
      protocol,
      "--port",
      String(port),
      "--cidr",
      "0.0.0.0/0",
    );

  it("only the bastion accepts tcp/22", async () => {
    assert.equal(await lab.probe(client, bastion, "tcp/22"), "open");
    for (const other of [web, db, client]) {
      for (const from of [client, bastion, web]) {
        if (from === other) continue;
        assert.equal(await lab.probe(from, other, "tcp/22"), "blocked", `${from.id} -> ${other.id}`);
      }
    }
  });

  it("revoking a rule blocks new connections at once; an established tracked one keeps working", async () => {
    const held = await lab.prober.hold(instanceNamespace(client.id), instanceNamespace(db.id), db.ip, 5432);
    assert.ok(held, "connection opened while the rule allowed it");
    try {
      await lab.ec2(
        "revoke-security-group-ingress",
        "--group-id",
        dbGroup,
        "--ip-permissions",
        `IpProtocol=tcp,FromPort=5432,ToPort=5432,UserIdGroupPairs=[{GroupId=${await clientGroupOf(lab, client)}}]`,
      );
      assert.equal(await lab.probe(client, db, "tcp/5432"), "blocked", "a new connection is refused");
      assert.equal(await held.exchange(), "open", "the tracked connection survives the revoke");
    } finally {
      await held.release();
    }
  });

  it("revoking the rule of an untracked flow cuts the established connection", async () => {
    const held = await lab.prober.hold(instanceNamespace(client.id), instanceNamespace(web.id), web.ip, 80);
    assert.ok(held);
    try {
      assert.equal(await held.exchange(), "open");
      await openToTheWorld("revoke", "tcp", 80);
      assert.equal(await held.exchange(), "blocked", "untracked traffic is evaluated per packet");
    } finally {
      await held.release();
    }
  });

  it("an untracked connection stays cut when the server speaks first after the revoke", async () => {
    await openToTheWorld("authorize", "tcp", 8080);
    const held = await lab.prober.hold(instanceNamespace(client.id), instanceNamespace(web.id), web.ip, 8080);
    assert.ok(held);
    try {
      assert.equal(await held.exchange(), "open");
      await openToTheWorld("revoke", "tcp", 8080);
      // The server's segment leaves through the all-open egress rule; were conntrack to take it
      // for the start of a connection, the client's side would be its replies from then on.
      await held.serverSends();
      assert.equal(await held.exchange(), "blocked", "the flow is not picked up mid-stream");
    } finally {
      await held.release();
    }
  });

  it("an ICMP error about an untracked flow gets through, as the rules allow", async () => {
    await openToTheWorld("authorize", "udp", 5353);
    // Nobody listens on web:5353: web's kernel answers port unreachable, which leaves through
    // web's all-open egress although conntrack knows no flow it belongs to (the flow is untracked).
    const agent = lab.prober.agent(instanceNamespace(client.id));
    const reply = await agent.request({ op: "udp-refused", host: web.ip, port: 5353, timeoutMs: 1000 });
    assert.equal(reply.refused, true, "the client hears that the port is closed");
  });

  it("an interface's TcpEstablishedTimeout is the idle timeout of its tracked connections", async () => {
    const described = await lab.ec2("describe-instances", "--instance-ids", client.id);
    const eniId = described.Reservations[0].Instances[0].NetworkInterfaces[0].NetworkInterfaceId as string;
    // through the SDK: Debian's aws CLI predates ConnectionTrackingSpecification
    const sdk = new EC2Client({
      endpoint: lab.server.url,
      region: lab.server.region,
      credentials: { accessKeyId: lab.server.accessKeyId, secretAccessKey: lab.server.secretAccessKey },
      maxAttempts: 1,
    });
    try {
      await sdk.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: eniId,
          ConnectionTrackingSpecification: { TcpEstablishedTimeout: 120 },
        }),
      );
    } finally {
      sdk.destroy();
    }
    // the client's connection out is tracked on the client (its ingress is not open to all)
    const held = await lab.prober.hold(
      instanceNamespace(client.id),
      instanceNamespace(bastion.id),
      bastion.ip,
      22,
    );
    assert.ok(held);
    try {
      const table = await execInNamespace(instanceNamespace(client.id), ["cat", "/proc/net/nf_conntrack"]);
      const entry = table.stdout
        .split("\n")
        .find(
          (line) =>
            line.includes(" ESTABLISHED ") &&
            line.includes(`dst=${bastion.ip} `) &&
            line.includes("dport=22 "),
        );
      assert.ok(entry, table.stdout);
      const seconds = Number(entry.trim().split(/\s+/)[4]);
      assert.ok(seconds > 60 && seconds <= 120, `remaining ${seconds} s: ${entry}`);
    } finally {
      await held.release();
    }
  });

  it("with the bastion terminated, nothing accepts tcp/22", async () => {
    await lab.ec2("terminate-instances", "--instance-ids", bastion.id);
    const agent = lab.prober.agent(instanceNamespace(client.id));
    const reply = await agent.request({
      op: "connect",
      proto: "tcp",
      host: bastion.ip,
      port: 22,
      timeoutMs: 400,
    });
    assert.equal(reply.open, false, "the bastion's address answers no more");
    for (const other of [web, db]) assert.equal(await lab.probe(client, other, "tcp/22"), "blocked");
    assert.equal(await lab.probe(web, db, "tcp/22"), "blocked");
  });
});

async function clientGroupOf(lab: LabServer, instance: LaunchedInstance): Promise<string> {
  const out = await lab.ec2("describe-instances", "--instance-ids", instance.id);
  return out.Reservations[0].Instances[0].SecurityGroups[0].GroupId as string;
}
