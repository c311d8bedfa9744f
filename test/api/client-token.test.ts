// ClientToken on every create that takes one (RunInstances, CreateNetworkAcl,
// CreateManagedPrefixList, CreateNetworkInterface): the same request again answers with what the
// first made; the token with any other parameter is IdempotentParameterMismatch (spec 1.11).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateManagedPrefixListCommand,
  type CreateManagedPrefixListCommandInput,
  CreateNetworkAclCommand,
  type CreateNetworkAclCommandInput,
  CreateNetworkInterfaceCommand,
  type CreateNetworkInterfaceCommandInput,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let vpcId: string;
let subnetId: string;

before(async () => {
  cp = await startControlPlane();
  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.50.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId as string;
  const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.50.1.0/24" }));
  subnetId = subnet.Subnet?.SubnetId as string;
});

after(async () => {
  await cp.close();
});

const tag = (
  ResourceType: "instance" | "network-acl" | "prefix-list" | "network-interface",
  Value: string,
) => [{ ResourceType, Tags: [{ Key: "Name", Value }] }];

describe("ClientToken", () => {
  test("RunInstances: the same launch returns the first reservation; other parameters are a mismatch", async () => {
    const launch = (input: Partial<RunInstancesCommandInput>) =>
      cp.ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-0123456789abcdef0",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
          ClientToken: "run-1",
          ...input,
        }),
      );
    const first = await launch({});
    const again = await launch({});
    assert.equal(again.ReservationId, first.ReservationId);
    const others: Partial<RunInstancesCommandInput>[] = [
      { MaxCount: 2 },
      { InstanceType: "m5.large" },
      { TagSpecifications: tag("instance", "x") },
    ];
    for (const other of others) {
      assert.equal(await errorCode(launch(other)), "IdempotentParameterMismatch", JSON.stringify(other));
    }
    const all = await cp.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "client-token", Values: ["run-1"] }] }),
    );
    assert.equal(all.Reservations?.flatMap((r) => r.Instances ?? []).length, 1);
    // at most 64 ASCII characters (the model's constraint)
    assert.equal(await errorCode(launch({ ClientToken: "t".repeat(65) })), "InvalidParameterValue");
    assert.equal(await errorCode(launch({ ClientToken: "tökén" })), "InvalidParameterValue");
    const longest = await launch({ ClientToken: "t".repeat(64) });
    assert.equal(longest.Instances?.length, 1);
  });

  test("CreateNetworkAcl: another VPC or another TagSpecification is a mismatch", async () => {
    const create = (input: Partial<CreateNetworkAclCommandInput>) =>
      cp.ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId, ClientToken: "acl-1", ...input }));
    const first = await create({ TagSpecifications: tag("network-acl", "a") });
    const again = await create({ TagSpecifications: tag("network-acl", "a") });
    assert.equal(again.NetworkAcl?.NetworkAclId, first.NetworkAcl?.NetworkAclId);
    assert.equal(again.ClientToken, "acl-1");
    assert.equal(
      await errorCode(create({ TagSpecifications: tag("network-acl", "b") })),
      "IdempotentParameterMismatch",
    );
    assert.equal(await errorCode(create({})), "IdempotentParameterMismatch");
  });

  test("CreateManagedPrefixList: other entries or tags are a mismatch", async () => {
    const create = (input: Partial<CreateManagedPrefixListCommandInput>) =>
      cp.ec2.send(
        new CreateManagedPrefixListCommand({
          PrefixListName: "tokened",
          MaxEntries: 5,
          AddressFamily: "IPv4",
          ClientToken: "pl-1",
          Entries: [{ Cidr: "10.0.0.0/8" }],
          ...input,
        }),
      );
    const first = await create({});
    const again = await create({});
    assert.equal(again.PrefixList?.PrefixListId, first.PrefixList?.PrefixListId);
    assert.equal(
      await errorCode(create({ Entries: [{ Cidr: "192.168.0.0/16" }] })),
      "IdempotentParameterMismatch",
    );
    assert.equal(
      await errorCode(create({ TagSpecifications: tag("prefix-list", "x") })),
      "IdempotentParameterMismatch",
    );
  });

  test("CreateNetworkInterface: the same request returns the first interface; another is a mismatch", async () => {
    const create = (input: Partial<CreateNetworkInterfaceCommandInput>) =>
      cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, ClientToken: "eni-1", ...input }));
    const first = await create({ Description: "one" });
    const again = await create({ Description: "one" });
    assert.equal(again.NetworkInterface?.NetworkInterfaceId, first.NetworkInterface?.NetworkInterfaceId);
    assert.equal(again.ClientToken, "eni-1");
    assert.equal(await errorCode(create({ Description: "two" })), "IdempotentParameterMismatch");
  });
});

test("a record made before request digests were kept answers its token as it did then", async () => {
  const first = await cp.ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId, ClientToken: "legacy-token" }));
  const id = first.NetworkAcl?.NetworkAclId as string;
  // as an older release stored it: the token, no digest
  const tx = cp.server.store.begin();
  const { requestDigest: _digest, ...legacy } = tx.get("network-acl", id) as NonNullable<
    ReturnType<typeof tx.get<"network-acl">>
  >;
  tx.put(legacy);
  await cp.server.store.commit(tx, {
    account: "123456789012",
    region: "us-east-1",
    action: "Test",
    requestId: "r",
  }).durable;
  const again = await cp.ec2.send(
    new CreateNetworkAclCommand({
      VpcId: vpcId,
      ClientToken: "legacy-token",
      TagSpecifications: [{ ResourceType: "network-acl", Tags: [{ Key: "k", Value: "v" }] }],
    }),
  );
  assert.equal(again.NetworkAcl?.NetworkAclId, id);
});
