import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  type IpPermission,
  RevokeSecurityGroupEgressCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { fetchControllerEstate } from "../../src/lab/controller.js";
import type { ProbeTarget } from "../../src/lab/probe.js";
import { labTopology } from "../../src/lab/topology.js";
import { renderTruthTables, verifyLab } from "../../src/lab/verify.js";
import { LabServer } from "../lab/server-harness.js";

// Random groups, rules and memberships made through the API (the SDK, for speed), on 4-6 lab
// instances; the estate read back from the controller as `ringfence lab verify` reads it; every
// cell of the probe matrix compared with the evaluator. RINGFENCE_SEED=N replays a run.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TARGETS: ProbeTarget[] = [
  { protocol: "tcp", port: 22 },
  { protocol: "tcp", port: 443 },
  { protocol: "udp", port: 53 },
  { protocol: "icmp", port: -1 },
];

const seed = Number(process.env.RINGFENCE_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe(`lab e2e: randomized groups through the API vs the evaluator (seed ${seed})`, () => {
  let lab: LabServer;
  let client: EC2Client;

  before(async () => {
    lab = await LabServer.start();
    client = new EC2Client({
      endpoint: lab.server.url,
      region: lab.server.region,
      credentials: { accessKeyId: lab.server.accessKeyId, secretAccessKey: lab.server.secretAccessKey },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client?.destroy();
    await lab?.close();
  });

  it("probes agree with the evaluator on every pair and port", async () => {
    console.log(`# randomized lab e2e seed: ${seed} (replay with RINGFENCE_SEED=${seed})`);
    const random = mulberry32(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const vpc = (await client.send(new CreateVpcCommand({ CidrBlock: "10.15.0.0/16" }))).Vpc?.VpcId as string;
    const subnets = await Promise.all(
      ["10.15.1.0/24", "10.15.2.0/24"].map(
        async (cidr) =>
          (await client.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr }))).Subnet
            ?.SubnetId as string,
      ),
    );
    const groups: string[] = [];
    for (let i = 0; i < 2 + Math.floor(random() * 3); i++) {
      const out = await client.send(
        new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: `g${i}`, Description: `g${i}` }),
      );
      groups.push(out.GroupId as string);
    }
    const permission = (): IpPermission => {
      const c = random();
      const service: IpPermission =
        c < 0.15
          ? { IpProtocol: "-1" }
          : c < 0.35
            ? { IpProtocol: "tcp", FromPort: 20, ToPort: 30 }
            : c < 0.55
              ? { IpProtocol: "tcp", FromPort: 443, ToPort: 443 }
              : c < 0.75
                ? { IpProtocol: "udp", FromPort: 0, ToPort: 65535 }
                : { IpProtocol: "icmp", FromPort: random() < 0.5 ? 8 : -1, ToPort: -1 };
      const p = random();
      if (p < 0.45) return { ...service, UserIdGroupPairs: [{ GroupId: pick(groups) }] };
      if (p < 0.65) return { ...service, IpRanges: [{ CidrIp: "0.0.0.0/0" }] };
      return {
        ...service,
        IpRanges: [{ CidrIp: pick(["10.15.1.0/24", "10.15.2.0/24", "10.15.0.0/16", "10.15.1.0/25"]) }],
      };
    };
    for (const g of groups) {
      if (random() < 0.3) {
        await client.send(
          new RevokeSecurityGroupEgressCommand({
            GroupId: g,
            IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
          }),
        );
        if (random() < 0.6)
          await client.send(
            new AuthorizeSecurityGroupEgressCommand({ GroupId: g, IpPermissions: [permission()] }),
          );
      }
      for (let r = 0; r < 1 + Math.floor(random() * 3); r++) {
        await client
          .send(new AuthorizeSecurityGroupIngressCommand({ GroupId: g, IpPermissions: [permission()] }))
          .catch((error: unknown) => {
            // The same random rule twice is a duplicate, as on EC2.
            if (!(error instanceof Error && error.name === "InvalidPermission.Duplicate")) throw error;
          });
      }
    }
    const count = 4 + Math.floor(random() * 3);
    for (let i = 0; i < count; i++) {
      const member = groups.filter(() => random() < 0.4);
      if (member.length === 0) member.push(pick(groups));
      await client.send(
        new RunInstancesCommand({
          ImageId: "ami-12345678",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: pick(subnets),
          SecurityGroupIds: member,
        }),
      );
    }

    const estate = await fetchControllerEstate({
      endpoint: lab.server.url,
      region: lab.server.region,
      accessKeyId: lab.server.accessKeyId,
      secretAccessKey: lab.server.secretAccessKey,
    });
    const hosts = [...labTopology(estate).hosts.values()];
    assert.equal(hosts.length, count, "every launched instance is a running lab host");
    const report = await verifyLab(estate, hosts, lab.prober, { targets: TARGETS });
    assert.equal(report.cells.length, count * (count - 1) * TARGETS.length);
    assert.deepEqual(report.mismatches, [], `seed ${seed}\n${renderTruthTables(report)}`);
  });
});
