// CreateTags / DeleteTags / DescribeTags across every taggable resource type, the limits and the
// DeleteTags value semantics, against the real server through the SDK and the aws CLI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AllocateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateNetworkAclCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteTagsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
  type Tag,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
/** One resource of every taggable type, by its DescribeTags resource type. */
const resources: Record<string, string> = {};

async function tagsOf(resourceId: string): Promise<Record<string, string>> {
  const out = await cp.ec2.send(
    new DescribeTagsCommand({ Filters: [{ Name: "resource-id", Values: [resourceId] }] }),
  );
  return Object.fromEntries((out.Tags ?? []).map((t) => [t.Key as string, t.Value as string]));
}

async function tag(resourceIds: string[], tags: Tag[]): Promise<void> {
  await cp.ec2.send(new CreateTagsCommand({ Resources: resourceIds, Tags: tags }));
}

async function newVpc(cidr: string): Promise<string> {
  const out = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: cidr }));
  return out.Vpc?.VpcId as string;
}

before(async () => {
  cp = await startControlPlane();
  const vpc = await newVpc("10.80.0.0/16");
  resources.vpc = vpc;
  const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.80.1.0/24" }));
  resources.subnet = subnet.Subnet?.SubnetId as string;
  const group = await cp.ec2.send(
    new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: "tagged", Description: "tagged" }),
  );
  resources["security-group"] = group.GroupId as string;
  const rule = await cp.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: group.GroupId,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.0.0.0/8" }] }],
    }),
  );
  resources["security-group-rule"] = rule.SecurityGroupRules?.[0]?.SecurityGroupRuleId as string;
  const run = await cp.ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-0123456789abcdef0",
      MinCount: 1,
      MaxCount: 1,
      SubnetId: resources.subnet,
    }),
  );
  resources.instance = run.Instances?.[0]?.InstanceId as string;
  const eni = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: resources.subnet }));
  resources["network-interface"] = eni.NetworkInterface?.NetworkInterfaceId as string;
  const address = await cp.ec2.send(new AllocateAddressCommand({}));
  resources["elastic-ip"] = address.AllocationId as string;
  const list = await cp.ec2.send(
    new CreateManagedPrefixListCommand({ PrefixListName: "tagged", MaxEntries: 2, AddressFamily: "IPv4" }),
  );
  resources["prefix-list"] = list.PrefixList?.PrefixListId as string;
  const acl = await cp.ec2.send(new CreateNetworkAclCommand({ VpcId: vpc }));
  resources["network-acl"] = acl.NetworkAcl?.NetworkAclId as string;
});

after(async () => {
  await cp.close();
});

describe("CreateTags and DescribeTags", () => {
  test("every taggable type takes tags in one call, and DescribeTags names each resource's type", async () => {
    const ids = Object.values(resources);
    assert.equal(ids.length, 9);
    await tag(ids, [
      { Key: "project", Value: "ringfence" },
      { Key: "empty", Value: "" },
    ]);
    const out = await cp.ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: "key", Values: ["project"] }] }),
    );
    const seen = Object.fromEntries((out.Tags ?? []).map((t) => [t.ResourceType as string, t.ResourceId]));
    assert.deepEqual(seen, resources);
    for (const t of out.Tags ?? []) assert.equal(t.Value, "ringfence");
    const empties = await cp.ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: "key", Values: ["empty"] }] }),
    );
    assert.equal(empties.Tags?.length, 9);
    for (const t of empties.Tags ?? []) assert.equal(t.Value, "");
    // The resource's own describe shows them too.
    const vpc = await cp.ec2.send(new DescribeVpcsCommand({ VpcIds: [resources.vpc as string] }));
    assert.deepEqual((vpc.Vpcs?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]).sort(), [
      ["empty", ""],
      ["project", "ringfence"],
    ]);
  });

  test("a second CreateTags overwrites the value of an existing key and keeps the others", async () => {
    const id = resources.subnet as string;
    await tag([id], [{ Key: "stage", Value: "dev" }]);
    await tag([id], [{ Key: "stage", Value: "prod" }]);
    const tags = await tagsOf(id);
    assert.equal(tags.stage, "prod");
    assert.equal(tags.project, "ringfence");
  });

  test("DescribeTags filters: key, value, resource-type, resource-id, wildcards, ANDed", async () => {
    const vpc = resources.vpc as string;
    await tag([vpc], [{ Key: "owner", Value: "team-blue" }]);
    await tag([resources.instance as string], [{ Key: "owner", Value: "team-red" }]);
    const rows = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await cp.ec2.send(new DescribeTagsCommand({ Filters }))).Tags ?? [])
        .map((t) => `${t.ResourceId}:${t.Key}=${t.Value}`)
        .sort();
    assert.deepEqual(await rows([{ Name: "value", Values: ["team-*"] }]), [
      ...[`${vpc}:owner=team-blue`, `${resources.instance}:owner=team-red`].sort(),
    ]);
    assert.deepEqual(
      await rows([
        { Name: "key", Values: ["owner"] },
        { Name: "resource-type", Values: ["instance"] },
      ]),
      [`${resources.instance}:owner=team-red`],
    );
    assert.deepEqual(
      await rows([
        { Name: "resource-id", Values: [vpc] },
        { Name: "key", Values: ["own?r"] },
      ]),
      [`${vpc}:owner=team-blue`],
    );
    assert.deepEqual(await rows([{ Name: "value", Values: ["team-green"] }]), []);
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "colour", Values: ["x"] }] }))),
      "InvalidParameterValue",
    );
  });

  test("DescribeTags pages with MaxResults/NextToken, each tag exactly once", async () => {
    const all = await cp.ec2.send(new DescribeTagsCommand({}));
    const expected = (all.Tags ?? []).map((t) => `${t.ResourceId}:${t.Key}`).sort();
    assert.ok(expected.length > 10);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await cp.ec2.send(new DescribeTagsCommand({ MaxResults: 5, NextToken: token }));
      assert.ok((page.Tags?.length ?? 0) <= 5);
      seen.push(...(page.Tags ?? []).map((t) => `${t.ResourceId}:${t.Key}`));
      token = page.NextToken;
      pages++;
    } while (token && pages < 100);
    assert.equal(pages, Math.ceil(expected.length / 5));
    assert.deepEqual(seen.sort(), expected);
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeTagsCommand({ MaxResults: 4 }))),
      "InvalidParameterValue",
    );
  });

  test("the per-resource limit is 50: the 51st key is TagLimitExceeded, overwriting keeps working, nothing half-applied", async () => {
    const vpc = await newVpc("10.81.0.0/16");
    const other = await newVpc("10.82.0.0/16");
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    await tag([vpc], fifty);
    assert.equal(Object.keys(await tagsOf(vpc)).length, 50);
    assert.equal(
      await errorCode(
        cp.ec2.send(new CreateTagsCommand({ Resources: [other, vpc], Tags: [{ Key: "k50", Value: "x" }] })),
      ),
      "TagLimitExceeded",
    );
    assert.deepEqual(await tagsOf(other), {}, "the resource that had room was not tagged either");
    await tag([vpc], [{ Key: "k0", Value: "changed" }]);
    assert.equal((await tagsOf(vpc)).k0, "changed");
    const tooMany = Array.from({ length: 51 }, (_, i) => ({ Key: `n${i}`, Value: "" }));
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new CreateVpcCommand({
            CidrBlock: "10.83.0.0/16",
            TagSpecifications: [{ ResourceType: "vpc", Tags: tooMany }],
          }),
        ),
      ),
      "TagLimitExceeded",
    );
  });

  test("reserved aws: keys, over-long keys and values, unknown and malformed resource ids", async () => {
    const vpc = resources.vpc as string;
    const code = (Resources: string[], Tags: Tag[]) =>
      errorCode(cp.ec2.send(new CreateTagsCommand({ Resources, Tags })));
    assert.equal(
      await code([vpc], [{ Key: "aws:cloudformation:stack-name", Value: "x" }]),
      "InvalidParameterValue",
    );
    assert.equal(await code([vpc], [{ Key: "k".repeat(128), Value: "x" }]), "InvalidParameterValue");
    assert.equal(
      await code([vpc], [{ Key: "k".repeat(127), Value: "v".repeat(257) }]),
      "InvalidParameterValue",
    );
    // lengths are in characters: an emoji is one, although it is two UTF-16 units
    assert.equal(await code([vpc], [{ Key: "😀".repeat(128), Value: "x" }]), "InvalidParameterValue");
    assert.equal(await code([vpc], [{ Key: "k", Value: "😀".repeat(257) }]), "InvalidParameterValue");
    await cp.ec2.send(
      new CreateTagsCommand({
        Resources: [vpc],
        Tags: [{ Key: "😀".repeat(127), Value: "é😀".repeat(128) }],
      }),
    );
    assert.equal((await tagsOf(vpc))["😀".repeat(127)], "é😀".repeat(128));
    assert.equal(await code(["vpc-0123456789abcdef0"], [{ Key: "a", Value: "b" }]), "InvalidVpcID.NotFound");
    assert.equal(
      await code(["i-0123456789abcdef0"], [{ Key: "a", Value: "b" }]),
      "InvalidInstanceID.NotFound",
    );
    assert.equal(await code(["vpc-zz"], [{ Key: "a", Value: "b" }]), "InvalidVpcID.Malformed");
    assert.equal(await code(["bogus-1234"], [{ Key: "a", Value: "b" }]), "InvalidID");
    assert.equal(
      await code([vpc, "subnet-0123456789abcdef0"], [{ Key: "half", Value: "b" }]),
      "InvalidSubnetID.NotFound",
    );
    assert.equal((await tagsOf(vpc)).half, undefined, "a failed call tags nothing");
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new CreateVpcCommand({
            CidrBlock: "10.84.0.0/16",
            TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "aws:reserved", Value: "x" }] }],
          }),
        ),
      ),
      "InvalidTagKey.Malformed",
    );
    const keys = Object.keys(await tagsOf(vpc));
    assert.ok(!keys.some((k) => k.startsWith("aws:")));
  });

  test("keys are case-sensitive: Name and name are two tags", async () => {
    const id = resources["network-acl"] as string;
    await tag(
      [id],
      [
        { Key: "Name", Value: "upper" },
        { Key: "name", Value: "lower" },
      ],
    );
    const tags = await tagsOf(id);
    assert.equal(tags.Name, "upper");
    assert.equal(tags.name, "lower");
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "name" }] }));
    const left = await tagsOf(id);
    assert.equal(left.Name, "upper");
    assert.equal(left.name, undefined);
  });

  test("wildcards in filter values: * and ? match, a backslash makes them literal", async () => {
    const id = resources.subnet as string;
    await tag([id], [{ Key: "pattern", Value: "a*b?" }]);
    const match = async (value: string) =>
      (
        (await cp.ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "value", Values: [value] }] })))
          .Tags ?? []
      ).some((t) => t.ResourceId === id && t.Key === "pattern");
    assert.equal(await match("a*"), true);
    assert.equal(await match("a?b?"), true);
    assert.equal(await match("a\\*b\\?"), true, "escaped: the literal value");
    assert.equal(await match("a\\*"), false, "escaped *: only a literal star, and the value goes on");
    assert.equal(await match("axb\\?"), false);
  });

  test("DryRun tags nothing", async () => {
    const vpc = resources.vpc as string;
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new CreateTagsCommand({ Resources: [vpc], Tags: [{ Key: "dry", Value: "x" }], DryRun: true }),
        ),
      ),
      "DryRunOperation",
    );
    assert.equal((await tagsOf(vpc)).dry, undefined);
  });
});

describe("DeleteTags", () => {
  test("no value deletes whatever the value; a value deletes only on a match; an empty value only an empty tag", async () => {
    const id = resources["network-interface"] as string;
    await tag(
      [id],
      [
        { Key: "a", Value: "1" },
        { Key: "b", Value: "2" },
        { Key: "c", Value: "" },
        { Key: "d", Value: "4" },
        { Key: "e", Value: "5" },
      ],
    );
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "a" }] }));
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "b", Value: "wrong" }] }));
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "d", Value: "4" }] }));
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "e", Value: "" }] }));
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "c", Value: "" }] }));
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "never-there" }] }));
    const left = await tagsOf(id);
    assert.equal(left.a, undefined, "no value: deleted");
    assert.equal(left.b, "2", "other value: kept");
    assert.equal(left.c, undefined, "empty value matches an empty tag");
    assert.equal(left.d, undefined, "matching value: deleted");
    assert.equal(left.e, "5", "empty value does not match a non-empty tag");
  });

  test("without any Tag every user tag goes; DryRun deletes nothing; unknown resources fail", async () => {
    const id = resources["elastic-ip"] as string;
    await tag([id], [{ Key: "x", Value: "1" }]);
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteTagsCommand({ Resources: [id], DryRun: true }))),
      "DryRunOperation",
    );
    assert.equal((await tagsOf(id)).x, "1");
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [id] }));
    assert.deepEqual(await tagsOf(id), {});
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new DeleteTagsCommand({ Resources: ["eipalloc-0123456789abcdef0"], Tags: [{ Key: "x" }] }),
        ),
      ),
      "InvalidAllocationID.NotFound",
    );
  });
});

describe("the aws CLI", () => {
  test("create-tags, describe-tags with filters, delete-tags with a value", async () => {
    const id = resources["prefix-list"] as string;
    const created = await cp.aws([
      "create-tags",
      "--resources",
      id,
      "--tags",
      "Key=env,Value=test",
      "Key=team,Value=net",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const described = await cp.aws([
      "describe-tags",
      "--filters",
      `Name=resource-id,Values=${id}`,
      "Name=key,Values=env,team",
    ]);
    assert.deepEqual(
      (described.json as { Tags: { Key: string; Value: string; ResourceType: string }[] }).Tags.map((t) => [
        t.Key,
        t.Value,
        t.ResourceType,
      ]).sort(),
      [
        ["env", "test", "prefix-list"],
        ["team", "net", "prefix-list"],
      ],
    );
    assert.equal((await cp.aws(["delete-tags", "--resources", id, "--tags", "Key=env,Value=other"])).code, 0);
    assert.equal((await cp.aws(["delete-tags", "--resources", id, "--tags", "Key=team,Value=net"])).code, 0);
    const left = await tagsOf(id);
    assert.equal(left.env, "test");
    assert.equal(left.team, undefined);
    const reserved = await cp.aws(["create-tags", "--resources", id, "--tags", "Key=aws:x,Value=y"]);
    assert.notEqual(reserved.code, 0);
    assert.match(reserved.stderr, /InvalidParameterValue/);
  });
});
