import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  type DescribeOutputs,
  pullSnapshotFiles,
  snapshotFiles,
  writeSnapshot,
} from "../../src/importers/ec2-api.js";
import { estateFromResponses, readSnapshot } from "../../src/importers/snapshot.js";
import { evaluateFlow } from "../../src/policy/evaluate.js";
import { PolicyIndex } from "../../src/policy/policy-index.js";
import { startControlPlane } from "../support/control-plane.js";

const scratch = await mkdtemp(join(tmpdir(), "rf-ec2api-"));
after(() => rm(scratch, { recursive: true, force: true }));

function outputs(parts: Partial<DescribeOutputs>): DescribeOutputs {
  return {
    securityGroups: [],
    securityGroupRules: [],
    instances: [],
    networkInterfaces: [],
    subnets: [],
    vpcs: [],
    networkAcls: [],
    managedPrefixLists: [],
    prefixListEntries: new Map(),
    addresses: [],
    ...parts,
  };
}

describe("SDK output to snapshot files", () => {
  test("pages are concatenated, metadata dropped, dates made text, rule ids and prefix-list entries attached", () => {
    const files = snapshotFiles(
      outputs({
        securityGroups: [
          {
            $metadata: { httpStatusCode: 200 },
            NextToken: "p2",
            SecurityGroups: [
              {
                GroupId: "sg-1",
                GroupName: "one",
                VpcId: "vpc-1",
                OwnerId: "111",
                IpPermissions: [
                  { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.0.0.0/8" }] },
                ],
                IpPermissionsEgress: [],
              },
            ],
          },
          {
            SecurityGroups: [
              { GroupId: "sg-2", GroupName: "two", IpPermissions: [], IpPermissionsEgress: [] },
            ],
          },
        ],
        securityGroupRules: [
          {
            SecurityGroupRules: [
              {
                SecurityGroupRuleId: "sgr-0123456789abcdef0",
                GroupId: "sg-1",
                IsEgress: false,
                IpProtocol: "tcp",
                FromPort: 22,
                ToPort: 22,
                CidrIpv4: "10.0.0.0/8",
              },
            ],
          },
        ],
        instances: [
          {
            Reservations: [
              {
                OwnerId: "111",
                Instances: [{ InstanceId: "i-1", LaunchTime: new Date("2024-01-02T03:04:05Z") }],
              },
            ],
          },
        ],
        managedPrefixLists: [
          { PrefixLists: [{ PrefixListId: "pl-1", AddressFamily: "IPv4", PrefixListName: "office" }] },
        ],
        prefixListEntries: new Map([["pl-1", [{ Entries: [{ Cidr: "203.0.113.0/24" }] }]]]),
      }),
    );
    assert.deepEqual([...files.keys()].sort(), [
      "describe-addresses.json",
      "describe-instances.json",
      "describe-managed-prefix-lists.json",
      "describe-network-acls.json",
      "describe-network-interfaces.json",
      "describe-security-groups.json",
      "describe-subnets.json",
      "describe-vpcs.json",
    ]);
    const text = JSON.stringify([...files.values()]);
    assert.equal(text.includes("$metadata"), false);
    assert.equal(text.includes("NextToken"), false);
    assert.equal(text.includes("2024-01-02T03:04:05.000Z"), true);
    const estate = estateFromResponses(files);
    assert.deepEqual(
      estate.securityGroups.map((g) => g.id),
      ["sg-1", "sg-2"],
    );
    assert.equal(estate.securityGroups[0]?.rules[0]?.id, "sgr-0123456789abcdef0");
    assert.deepEqual(estate.prefixLists[0]?.entries, [{ cidr: "203.0.113.0/24" }]);
    assert.equal(estate.instances[0]?.id, "i-1");
  });
});

describe("against ringfence's own server", () => {
  test("snapshot of a live estate: group reference flow, real rule ids, round trip through a directory", async () => {
    const cp = await startControlPlane();
    try {
      const ec2 = cp.ec2;
      const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }));
      const vpcId = vpc.Vpc?.VpcId as string;
      const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.42.1.0/24" }));
      const subnetId = subnet.Subnet?.SubnetId as string;
      const app = await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "app", Description: "app", VpcId: vpcId }),
      );
      const db = await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "db", Description: "db", VpcId: vpcId }),
      );
      const auth = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: db.GroupId,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 3306, ToPort: 3306, UserIdGroupPairs: [{ GroupId: app.GroupId }] },
          ],
        }),
      );
      const ruleId = auth.SecurityGroupRules?.[0]?.SecurityGroupRuleId;
      const run = (groupId: string) =>
        ec2.send(
          new RunInstancesCommand({
            ImageId: "ami-12345678",
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
            SecurityGroupIds: [groupId],
          }),
        );
      const appInstance = (await run(app.GroupId as string)).Instances?.[0]?.InstanceId as string;
      const dbInstance = (await run(db.GroupId as string)).Instances?.[0]?.InstanceId as string;

      const files = await pullSnapshotFiles({
        endpoint: cp.server.url,
        env: {
          RINGFENCE_ACCESS_KEY_ID: cp.server.accessKeyId,
          RINGFENCE_SECRET_ACCESS_KEY: cp.server.secretAccessKey,
        },
      });
      const live = estateFromResponses(files);
      const index = PolicyIndex.build(live);
      const eniOf = (instanceId: string) =>
        [...index.interfaces.values()].find((i) => i.instance?.id === instanceId)?.eni.id as string;
      const v = evaluateFlow(index, {
        source: { kind: "interface", interfaceId: eniOf(appInstance) },
        destination: { kind: "interface", interfaceId: eniOf(dbInstance) },
        traffic: { protocol: 6, port: 3306 },
      });
      assert.equal(v.allowed, true, JSON.stringify(v));
      assert.equal(
        v.steps.destinationIngress.kind === "allowed" && v.steps.destinationIngress.matches[0]?.ruleId,
        ruleId,
      );
      // the db cannot open 3306 to the app
      const back = evaluateFlow(index, {
        source: { kind: "interface", interfaceId: eniOf(dbInstance) },
        destination: { kind: "interface", interfaceId: eniOf(appInstance) },
        traffic: { protocol: 6, port: 3306 },
      });
      assert.equal(back.allowed, false);

      const dir = join(scratch, "live");
      await writeSnapshot(dir, files);
      assert.deepEqual(await readSnapshot(dir), live);
    } finally {
      await cp.close();
    }
  });

  test("an unreachable endpoint is an error, not a hang", async () => {
    await assert.rejects(
      pullSnapshotFiles({
        endpoint: "http://127.0.0.1:9",
        env: { RINGFENCE_ACCESS_KEY_ID: "a", RINGFENCE_SECRET_ACCESS_KEY: "b" },
      }),
      /cannot read the EC2 API at http:\/\/127\.0\.0\.1:9: ECONNREFUSED/,
    );
  });

  test("an endpoint that accepts and never answers, or answers without EC2, is an error that says so", async () => {
    const silent = createServer(() => {});
    const other = createHttpServer((_req, res) => res.writeHead(404).end("not here"));
    await Promise.all([
      new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve)),
      new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve)),
    ]);
    const at = (server: { address(): unknown }) =>
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      await assert.rejects(
        pullSnapshotFiles({
          endpoint: at(silent),
          requestTimeoutMs: 300,
          env: { RINGFENCE_ACCESS_KEY_ID: "a", RINGFENCE_SECRET_ACCESS_KEY: "b" },
        }),
        /cannot read the EC2 API at .*: ETIMEDOUT/,
      );
      assert.ok(Date.now() - started < 15_000);
      await assert.rejects(
        pullSnapshotFiles({
          endpoint: at(other),
          env: { RINGFENCE_ACCESS_KEY_ID: "a", RINGFENCE_SECRET_ACCESS_KEY: "b" },
        }),
        /HTTP 404 without an EC2 error/,
      );
    } finally {
      silent.close();
      other.close();
      other.closeAllConnections();
    }
  });
});
