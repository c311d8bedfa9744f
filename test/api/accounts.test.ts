// Two accounts on one server: each sees and uses only its own resources, quotas count per account,
// and a rule may still name another account's group by id (with its UserId).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateNetworkAclCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DeleteVpcCommand,
  DescribeAccountAttributesCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupReferencesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeStaleSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySecurityGroupRulesCommand,
  ReleaseAddressCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

const OTHER_ACCOUNT = "210987654321";
const IMAGE = "ami-0123456789abcdef0";

let cp: TestControlPlane;
/** Account B (the server's own key is account A, `cp.ec2`). */
let b: EC2Client;

/** One resource of each kind in account A. */
const a = {
  vpc: "",
  subnet: "",
  group: "",
  instance: "",
  eni: "",
  allocation: "",
  prefixList: "",
  acl: "",
  aclAssociation: "",
};

async function defaultVpcOf(client: EC2Client): Promise<string> {
  const out = await client.send(
    new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
  );
  assert.equal(out.Vpcs?.length, 1);
  return out.Vpcs?.[0]?.VpcId as string;
}

before(async () => {
  cp = await startControlPlane();
  const { newAccessKey } = await import("../../src/api/server.js");
  const key = newAccessKey(OTHER_ACCOUNT);
  cp.server.store.addAccessKey(key);
  b = cp.clientFor(key.accessKeyId, key.secretAccessKey);

  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.10.0.0/16" }));
  a.vpc = vpc.Vpc?.VpcId as string;
  const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: a.vpc, CidrBlock: "10.10.1.0/24" }));
  a.subnet = subnet.Subnet?.SubnetId as string;
  const group = await cp.ec2.send(
    new CreateSecurityGroupCommand({ VpcId: a.vpc, GroupName: "a-db", Description: "A db" }),
  );
  a.group = group.GroupId as string;
  const run = await cp.ec2.send(
    new RunInstancesCommand({
      ImageId: IMAGE,
      MinCount: 1,
      MaxCount: 1,
      SubnetId: a.subnet,
      SecurityGroupIds: [a.group],
    }),
  );
  a.instance = run.Instances?.[0]?.InstanceId as string;
  const eni = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: a.subnet }));
  a.eni = eni.NetworkInterface?.NetworkInterfaceId as string;
  const address = await cp.ec2.send(new AllocateAddressCommand({}));
  a.allocation = address.AllocationId as string;
  const list = await cp.ec2.send(
    new CreateManagedPrefixListCommand({ PrefixListName: "a-list", MaxEntries: 3, AddressFamily: "IPv4" }),
  );
  a.prefixList = list.PrefixList?.PrefixListId as string;
  const acl = await cp.ec2.send(new CreateNetworkAclCommand({ VpcId: a.vpc }));
  a.acl = acl.NetworkAcl?.NetworkAclId as string;
  const acls = await cp.ec2.send(
    new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: [a.subnet] }] }),
  );
  a.aclAssociation = acls.NetworkAcls?.[0]?.Associations?.find((x) => x.SubnetId === a.subnet)
    ?.NetworkAclAssociationId as string;
  await cp.ec2.send(
    new CreateTagsCommand({ Resources: [a.vpc, a.group], Tags: [{ Key: "owner", Value: "a" }] }),
  );
});

after(async () => {
  b?.destroy();
  await cp.close();
});

describe("isolation", () => {
  test("each account has its own default VPC (same CIDR, other id) and owns what it creates", async () => {
    const vpcA = await defaultVpcOf(cp.ec2);
    const vpcB = await defaultVpcOf(b);
    assert.notEqual(vpcA, vpcB);
    const described = await b.send(new DescribeVpcsCommand({ VpcIds: [vpcB] }));
    assert.equal(described.Vpcs?.[0]?.CidrBlock, "172.31.0.0/16");
    assert.equal(described.Vpcs?.[0]?.OwnerId, OTHER_ACCOUNT);
    const attrs = await b.send(new DescribeAccountAttributesCommand({ AttributeNames: ["default-vpc"] }));
    assert.equal(attrs.AccountAttributes?.[0]?.AttributeValues?.[0]?.AttributeValue, vpcB);
    const group = await b.send(new CreateSecurityGroupCommand({ GroupName: "b-own", Description: "B own" }));
    const groups = await b.send(new DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId as string] }));
    assert.equal(groups.SecurityGroups?.[0]?.OwnerId, OTHER_ACCOUNT);
    assert.equal(groups.SecurityGroups?.[0]?.VpcId, vpcB);
  });

  test("B's describes by id of A's resources answer the kind's NotFound code", async () => {
    const cases: [Promise<unknown>, string][] = [
      [b.send(new DescribeVpcsCommand({ VpcIds: [a.vpc] })), "InvalidVpcID.NotFound"],
      [b.send(new DescribeSubnetsCommand({ SubnetIds: [a.subnet] })), "InvalidSubnetID.NotFound"],
      [b.send(new DescribeSecurityGroupsCommand({ GroupIds: [a.group] })), "InvalidGroup.NotFound"],
      [b.send(new DescribeInstancesCommand({ InstanceIds: [a.instance] })), "InvalidInstanceID.NotFound"],
      [
        b.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [a.eni] })),
        "InvalidNetworkInterfaceID.NotFound",
      ],
      [
        b.send(new DescribeAddressesCommand({ AllocationIds: [a.allocation] })),
        "InvalidAllocationID.NotFound",
      ],
      [
        b.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [a.prefixList] })),
        "InvalidPrefixListID.NotFound",
      ],
      [b.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [a.acl] })), "InvalidNetworkAclID.NotFound"],
    ];
    for (const [call, code] of cases) assert.equal(await errorCode(call), code);
  });

  test("B's unfiltered describes list none of A's resources, and DescribeTags none of A's tags", async () => {
    const mine = new Set(Object.values(a));
    const seen: string[] = [];
    const vpcs = await b.send(new DescribeVpcsCommand({}));
    seen.push(...(vpcs.Vpcs ?? []).map((x) => x.VpcId as string));
    const subnets = await b.send(new DescribeSubnetsCommand({}));
    seen.push(...(subnets.Subnets ?? []).map((x) => x.SubnetId as string));
    const groups = await b.send(new DescribeSecurityGroupsCommand({}));
    seen.push(...(groups.SecurityGroups ?? []).map((x) => x.GroupId as string));
    const instances = await b.send(new DescribeInstancesCommand({}));
    seen.push(
      ...(instances.Reservations ?? []).flatMap((r) =>
        (r.Instances ?? []).map((x) => x.InstanceId as string),
      ),
    );
    const enis = await b.send(new DescribeNetworkInterfacesCommand({}));
    seen.push(...(enis.NetworkInterfaces ?? []).map((x) => x.NetworkInterfaceId as string));
    const addresses = await b.send(new DescribeAddressesCommand({}));
    seen.push(...(addresses.Addresses ?? []).map((x) => x.AllocationId as string));
    const lists = await b.send(new DescribeManagedPrefixListsCommand({}));
    seen.push(...(lists.PrefixLists ?? []).map((x) => x.PrefixListId as string));
    const acls = await b.send(new DescribeNetworkAclsCommand({}));
    seen.push(...(acls.NetworkAcls ?? []).map((x) => x.NetworkAclId as string));
    assert.ok(seen.length > 0);
    assert.deepEqual(
      seen.filter((id) => mine.has(id)),
      [],
    );
    const tags = await b.send(new DescribeTagsCommand({ Filters: [{ Name: "key", Values: ["owner"] }] }));
    assert.deepEqual(tags.Tags, []);
    const byFilter = await b.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "owner-id", Values: [cp.server.accountId] }] }),
    );
    assert.deepEqual(byFilter.Vpcs, [], "filtering on A's account id does not reach A's resources");
  });

  test("B can neither change, use nor delete A's resources, and A's resources are untouched", async () => {
    assert.equal(
      await errorCode(
        b.send(new CreateTagsCommand({ Resources: [a.vpc], Tags: [{ Key: "owner", Value: "b" }] })),
      ),
      "InvalidVpcID.NotFound",
    );
    assert.equal(await errorCode(b.send(new DeleteVpcCommand({ VpcId: a.vpc }))), "InvalidVpcID.NotFound");
    assert.equal(
      await errorCode(b.send(new DeleteSecurityGroupCommand({ GroupId: a.group }))),
      "InvalidGroup.NotFound",
    );
    assert.equal(
      await errorCode(b.send(new TerminateInstancesCommand({ InstanceIds: [a.instance] }))),
      "InvalidInstanceID.NotFound",
    );
    assert.equal(
      await errorCode(
        b.send(new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, SubnetId: a.subnet })),
      ),
      "InvalidSubnetID.NotFound",
    );
    assert.equal(
      await errorCode(
        b.send(
          new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, SecurityGroupIds: [a.group] }),
        ),
      ),
      "InvalidGroup.NotFound",
    );
    const bEni = await b.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: (await b.send(new DescribeSubnetsCommand({}))).Subnets?.[0]?.SubnetId,
      }),
    );
    assert.equal(
      await errorCode(
        b.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: bEni.NetworkInterface?.NetworkInterfaceId,
            Groups: [a.group],
          }),
        ),
      ),
      "InvalidGroup.NotFound",
    );
    const bAddress = await b.send(new AllocateAddressCommand({}));
    assert.equal(
      await errorCode(
        b.send(new AssociateAddressCommand({ AllocationId: bAddress.AllocationId, InstanceId: a.instance })),
      ),
      "InvalidInstanceID.NotFound",
    );
    assert.equal(
      await errorCode(b.send(new ReleaseAddressCommand({ AllocationId: a.allocation }))),
      "InvalidAllocationID.NotFound",
    );
    const bGroup = await b.send(
      new CreateSecurityGroupCommand({ GroupName: "b-uses-list", Description: "B" }),
    );
    assert.equal(
      await errorCode(
        b.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: bGroup.GroupId,
            IpPermissions: [
              {
                IpProtocol: "tcp",
                FromPort: 80,
                ToPort: 80,
                PrefixListIds: [{ PrefixListId: a.prefixList }],
              },
            ],
          }),
        ),
      ),
      "InvalidPrefixListID.NotFound",
    );
    assert.equal(
      await errorCode(
        b.send(
          new ReplaceNetworkAclAssociationCommand({ AssociationId: a.aclAssociation, NetworkAclId: a.acl }),
        ),
      ),
      "InvalidNetworkAclID.NotFound",
    );
    // A still has everything as it was.
    const vpc = await cp.ec2.send(new DescribeVpcsCommand({ VpcIds: [a.vpc] }));
    assert.deepEqual(vpc.Vpcs?.[0]?.Tags, [{ Key: "owner", Value: "a" }]);
    const instance = await cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [a.instance] }));
    assert.equal(instance.Reservations?.[0]?.Instances?.[0]?.State?.Name, "running");
    assert.equal(
      (await cp.ec2.send(new DescribeAddressesCommand({ AllocationIds: [a.allocation] }))).Addresses?.length,
      1,
    );
    const acls = await cp.ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: [a.subnet] }] }),
    );
    assert.notEqual(acls.NetworkAcls?.[0]?.NetworkAclId, a.acl, "the subnet stayed with its ACL");
    await b.send(new ReleaseAddressCommand({ AllocationId: bAddress.AllocationId }));
  });

  test("the same account's other region does not see this region's resources either", async () => {
    const west = cp.clientFor(cp.server.accessKeyId, cp.server.secretAccessKey, "us-west-2");
    try {
      assert.equal(
        await errorCode(west.send(new DescribeVpcsCommand({ VpcIds: [a.vpc] }))),
        "InvalidVpcID.NotFound",
      );
      assert.equal(
        await errorCode(west.send(new DescribeInstancesCommand({ InstanceIds: [a.instance] }))),
        "InvalidInstanceID.NotFound",
      );
      const groups = await west.send(new DescribeSecurityGroupsCommand({}));
      assert.ok(!(groups.SecurityGroups ?? []).some((g) => g.GroupId === a.group));
      const tags = await west.send(
        new DescribeTagsCommand({ Filters: [{ Name: "key", Values: ["owner"] }] }),
      );
      assert.deepEqual(tags.Tags, []);
    } finally {
      west.destroy();
    }
  });

  test("quotas count per account; public addresses never collide across accounts; private ones may", async () => {
    // A: default + a.vpc, plus three more = 5, its limit.
    const extra: string[] = [];
    for (let i = 0; i < 3; i++) {
      const out = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: `10.${20 + i}.0.0/16` }));
      extra.push(out.Vpc?.VpcId as string);
    }
    assert.equal(
      await errorCode(cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.30.0.0/16" }))),
      "VpcLimitExceeded",
    );
    const bVpc = await b.send(new CreateVpcCommand({ CidrBlock: "10.10.0.0/16" }));
    assert.ok(bVpc.Vpc?.VpcId, "B still has room, even for the same CIDR as A's VPC");
    for (const id of extra) await cp.ec2.send(new DeleteVpcCommand({ VpcId: id }));

    const aIps: string[] = [];
    const aAllocations: string[] = [];
    for (let i = 0; i < 4; i++) {
      const out = await cp.ec2.send(new AllocateAddressCommand({}));
      aIps.push(out.PublicIp as string);
      aAllocations.push(out.AllocationId as string);
    }
    assert.equal(
      await errorCode(cp.ec2.send(new AllocateAddressCommand({}))),
      "AddressLimitExceeded",
      "4 + a.allocation = 5",
    );
    const bIp = (await b.send(new AllocateAddressCommand({}))).PublicIp as string;
    const aOriginal = (await cp.ec2.send(new DescribeAddressesCommand({ AllocationIds: [a.allocation] })))
      .Addresses?.[0]?.PublicIp;
    assert.ok(![...aIps, aOriginal].includes(bIp), "B's Elastic IP is not one of A's");
    for (const id of aAllocations) await cp.ec2.send(new ReleaseAddressCommand({ AllocationId: id }));

    // Both accounts' first launch into their default subnet in the same zone gets base+4.
    const launch = async (client: EC2Client) => {
      const out = await client.send(
        new RunInstancesCommand({
          ImageId: IMAGE,
          MinCount: 1,
          MaxCount: 1,
          Placement: { AvailabilityZone: "us-east-1c" },
        }),
      );
      return out.Instances?.[0];
    };
    const [ia, ib] = [await launch(cp.ec2), await launch(b)];
    assert.equal(ia?.PrivateIpAddress, "172.31.32.4");
    assert.equal(ib?.PrivateIpAddress, "172.31.32.4");
    assert.notEqual(ia?.PublicIpAddress, ib?.PublicIpAddress);
  });
});

describe("cross-account group references", () => {
  let bGroup: string;
  let bVpc: string;

  before(async () => {
    bVpc = await defaultVpcOf(b);
    const out = await b.send(
      new CreateSecurityGroupCommand({ GroupName: "b-app", Description: "B app tier" }),
    );
    bGroup = out.GroupId as string;
  });

  test("A's rule names B's group with B's UserId; describe echoes the account and B's VPC", async () => {
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: a.vpc, GroupName: "a-from-b", Description: "x" }),
    );
    const groupId = group.GroupId as string;
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 5432,
            ToPort: 5432,
            UserIdGroupPairs: [{ GroupId: bGroup, UserId: OTHER_ACCOUNT }],
          },
        ],
      }),
    );
    const described = await cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const pairs = described.SecurityGroups?.[0]?.IpPermissions?.[0]?.UserIdGroupPairs ?? [];
    assert.equal(pairs.length, 1);
    assert.equal(pairs[0]?.GroupId, bGroup);
    assert.equal(pairs[0]?.UserId, OTHER_ACCOUNT);
    assert.equal(pairs[0]?.VpcId, bVpc);
    const byUser = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [{ Name: "ip-permission.user-id", Values: [OTHER_ACCOUNT] }],
      }),
    );
    assert.deepEqual(
      byUser.SecurityGroups?.map((g) => g.GroupId),
      [groupId],
    );
    // B's group's name is B's: A's filter by the referenced group's name does not learn it
    for (const value of ["b-app", "b-*", "*"]) {
      const byName = await cp.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: "ip-permission.group-name", Values: [value] }],
        }),
      );
      assert.ok(!byName.SecurityGroups?.some((g) => g.GroupId === groupId), `group-name ${value}`);
    }
    // Modify names no account: the rule keeps B's while it names the same group
    const ruleId = (
      await cp.ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
      )
    ).SecurityGroupRules?.find((r) => r.ReferencedGroupInfo?.GroupId === bGroup)?.SecurityGroupRuleId;
    await cp.ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: groupId,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: ruleId,
            SecurityGroupRule: { IpProtocol: "tcp", FromPort: 5433, ToPort: 5433, ReferencedGroupId: bGroup },
          },
        ],
      }),
    );
    const modified = (await cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))
      .SecurityGroups?.[0]?.IpPermissions?.[0];
    assert.deepEqual(
      [modified?.FromPort, modified?.UserIdGroupPairs?.[0]?.GroupId, modified?.UserIdGroupPairs?.[0]?.UserId],
      [5433, bGroup, OTHER_ACCOUNT],
    );
    // B's view of its own group is unchanged: the rule lives in A.
    const bView = await b.send(new DescribeSecurityGroupsCommand({ GroupIds: [bGroup] }));
    assert.deepEqual(bView.SecurityGroups?.[0]?.IpPermissions, []);
  });

  test("a wrong or malformed UserId, or an unknown group, is refused", async () => {
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: a.vpc, GroupName: "a-refused", Description: "x" }),
    );
    const authorize = (UserId: string | undefined, GroupId: string) =>
      cp.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: group.GroupId,
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId, UserId }] },
          ],
        }),
      );
    assert.equal(
      await errorCode(authorize(cp.server.accountId, bGroup)),
      "InvalidGroup.NotFound",
      "B's group is not A's",
    );
    assert.equal(
      await errorCode(authorize(undefined, bGroup)),
      "InvalidGroup.NotFound",
      "without B's UserId the id is looked up in A's account",
    );
    assert.equal(await errorCode(authorize("12345", bGroup)), "InvalidUserID.Malformed");
    assert.equal(await errorCode(authorize(OTHER_ACCOUNT, "sg-0123456789abcdef0")), "InvalidGroup.NotFound");
    const described = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId as string] }),
    );
    assert.deepEqual(described.SecurityGroups?.[0]?.IpPermissions, []);
  });

  test("DescribeSecurityGroupReferences names the VPCs whose groups reference a group, once per asked id", async () => {
    const target = await b.send(
      new CreateSecurityGroupCommand({ GroupName: "b-referenced", Description: "x" }),
    );
    const targetId = target.GroupId as string;
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: a.vpc, GroupName: "a-referencing", Description: "x" }),
    );
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group.GroupId,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 22,
            ToPort: 22,
            UserIdGroupPairs: [{ GroupId: targetId, UserId: OTHER_ACCOUNT }],
          },
        ],
      }),
    );
    const out = await b.send(new DescribeSecurityGroupReferencesCommand({ GroupId: [targetId, targetId] }));
    assert.deepEqual(out.SecurityGroupReferenceSet, [{ GroupId: targetId, ReferencingVpcId: a.vpc }]);
    const unreferenced = await b.send(
      new CreateSecurityGroupCommand({ GroupName: "b-alone", Description: "x" }),
    );
    const none = await b.send(
      new DescribeSecurityGroupReferencesCommand({ GroupId: [unreferenced.GroupId as string] }),
    );
    assert.deepEqual(none.SecurityGroupReferenceSet, []);
    // A may not ask about B's group: it is not A's to see
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeSecurityGroupReferencesCommand({ GroupId: [targetId] }))),
      "InvalidGroup.NotFound",
    );
    assert.equal(
      await errorCode(b.send(new DescribeSecurityGroupReferencesCommand({ GroupId: [] }))),
      "MissingParameter",
    );
  });

  test("B may delete its referenced group; A's rule goes stale and can still be revoked", async () => {
    const doomed = await b.send(new CreateSecurityGroupCommand({ GroupName: "b-doomed", Description: "x" }));
    const doomedId = doomed.GroupId as string;
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: a.vpc, GroupName: "a-stale", Description: "x" }),
    );
    const permission = {
      IpProtocol: "tcp",
      FromPort: 443,
      ToPort: 443,
      UserIdGroupPairs: [{ GroupId: doomedId, UserId: OTHER_ACCOUNT }],
    };
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: group.GroupId, IpPermissions: [permission] }),
    );
    await b.send(new DeleteSecurityGroupCommand({ GroupId: doomedId }));
    const stale = await cp.ec2.send(new DescribeStaleSecurityGroupsCommand({ VpcId: a.vpc }));
    const entry = stale.StaleSecurityGroupSet?.find((s) => s.GroupId === group.GroupId);
    assert.ok(entry, "A's group is listed as stale");
    const stalePair = entry?.StaleIpPermissions?.[0]?.UserIdGroupPairs?.[0];
    assert.equal(stalePair?.GroupId, doomedId);
    assert.equal(stalePair?.UserId, undefined, "not returned for a deleted group (the model's words)");
    assert.equal(stalePair?.PeeringStatus, "deleted");
    // DescribeSecurityGroups and DescribeSecurityGroupRules show the rule stale, not as a live one
    const shown = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId as string] }),
    );
    assert.deepEqual(shown.SecurityGroups?.[0]?.IpPermissions?.[0]?.UserIdGroupPairs, [
      { GroupId: doomedId, PeeringStatus: "deleted" },
    ]);
    const rules = await cp.ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: "group-id", Values: [group.GroupId as string] }],
      }),
    );
    assert.deepEqual(rules.SecurityGroupRules?.find((r) => !r.IsEgress)?.ReferencedGroupInfo, {
      GroupId: doomedId,
      PeeringStatus: "deleted",
    });
    await cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: group.GroupId, IpPermissions: [permission] }),
    );
    const after = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId as string] }),
    );
    assert.deepEqual(after.SecurityGroups?.[0]?.IpPermissions, []);
  });

  test("another account's rule naming B's default group does not stop B deleting its own VPC (the rule goes stale)", async () => {
    const vpc = await b.send(new CreateVpcCommand({ CidrBlock: "10.77.0.0/16" }));
    const vpcId = vpc.Vpc?.VpcId as string;
    const defaults = await b.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    const defaultGroup = defaults.SecurityGroups?.[0]?.GroupId as string;
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: a.vpc, GroupName: "a-refs-default", Description: "x" }),
    );
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: group.GroupId,
        IpPermissions: [
          { IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: defaultGroup, UserId: OTHER_ACCOUNT }] },
        ],
      }),
    );
    // The same kind of reference to a non-default group does not block DeleteSecurityGroup (test above).
    await b.send(new DeleteVpcCommand({ VpcId: vpcId }));
    const stale = await cp.ec2.send(new DescribeStaleSecurityGroupsCommand({ VpcId: a.vpc }));
    assert.ok(stale.StaleSecurityGroupSet?.some((g) => g.GroupId === group.GroupId));
  });

  test("the aws CLI authorizes a cross-account reference", async () => {
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: a.vpc, GroupName: "a-cli", Description: "x" }),
    );
    const out = await cp.aws([
      "authorize-security-group-ingress",
      "--group-id",
      group.GroupId as string,
      "--ip-permissions",
      `IpProtocol=tcp,FromPort=6379,ToPort=6379,UserIdGroupPairs=[{GroupId=${bGroup},UserId=${OTHER_ACCOUNT}}]`,
    ]);
    assert.equal(out.code, 0, out.stderr);
    const described = await cp.aws([
      "describe-security-groups",
      "--group-ids",
      group.GroupId as string,
      "--query",
      "SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0].[GroupId,UserId]",
    ]);
    assert.deepEqual(described.json, [bGroup, OTHER_ACCOUNT]);
  });
});
