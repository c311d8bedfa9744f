import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeStaleSecurityGroupsCommand,
  DescribeVpcsCommand,
  type IpPermission,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let vpcId: string;
let defaultVpcId: string;

async function newGroup(name: string, vpc = vpcId): Promise<string> {
  const out = await cp.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: name, Description: `${name} group`, VpcId: vpc }),
  );
  return out.GroupId as string;
}

async function describeGroup(groupId: string) {
  const out = await cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  assert.equal(out.SecurityGroups?.length, 1);
  return out.SecurityGroups?.[0] as NonNullable<typeof out.SecurityGroups>[number];
}

const tcp = (port: number, cidr: string, Description?: string): IpPermission => ({
  IpProtocol: "tcp",
  FromPort: port,
  ToPort: port,
  IpRanges: [{ CidrIp: cidr, Description }],
});

before(async () => {
  cp = await startControlPlane();
  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId as string;
  const vpcs = await cp.ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
  );
  defaultVpcId = vpcs.Vpcs?.[0]?.VpcId as string;
});

after(async () => {
  await cp.close();
});

describe("CreateSecurityGroup", () => {
  test("a new group has no ingress and one all-traffic egress rule with its own rule id", async () => {
    const id = await newGroup("fresh");
    assert.match(id, /^sg-[0-9a-f]{17}$/);
    const group = await describeGroup(id);
    assert.equal(group.GroupName, "fresh");
    assert.equal(group.Description, "fresh group");
    assert.equal(group.VpcId, vpcId);
    assert.equal(group.OwnerId, cp.server.accountId);
    assert.deepEqual(group.IpPermissions, []);
    assert.deepEqual(group.IpPermissionsEgress, [
      {
        IpProtocol: "-1",
        IpRanges: [{ CidrIp: "0.0.0.0/0" }],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      },
    ]);
    assert.equal(group.Tags, undefined, "a group without tags has no tag list");
    const rules = await cp.ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [id] }] }),
    );
    assert.equal(rules.SecurityGroupRules?.length, 1);
    assert.match(rules.SecurityGroupRules?.[0]?.SecurityGroupRuleId ?? "", /^sgr-[0-9a-f]{17}$/);
    assert.equal(rules.SecurityGroupRules?.[0]?.IsEgress, true);
  });

  test("without a VpcId the group goes into the default VPC; tags from TagSpecification come back", async () => {
    const out = await cp.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "tagged",
        Description: "in the default vpc",
        TagSpecifications: [{ ResourceType: "security-group", Tags: [{ Key: "Team", Value: "blue" }] }],
      }),
    );
    assert.deepEqual(out.Tags, [{ Key: "Team", Value: "blue" }]);
    const group = await describeGroup(out.GroupId as string);
    assert.equal(group.VpcId, defaultVpcId);
    assert.deepEqual(group.Tags, [{ Key: "Team", Value: "blue" }]);
  });

  test("names are unique per VPC regardless of case, and may not look like ids", async () => {
    await newGroup("Unique-Name");
    assert.equal(await errorCode(newGroup("unique-name")), "InvalidGroup.Duplicate");
    assert.equal(await errorCode(newGroup("default")), "InvalidGroup.Duplicate");
    assert.equal(await errorCode(newGroup("sg-lookalike")), "InvalidParameterValue");
    // The same name in another VPC is fine.
    assert.match(await newGroup("unique-name", defaultVpcId), /^sg-/);
  });

  test("bad descriptions, missing descriptions and unknown VPCs are rejected with EC2's codes", async () => {
    const create = (input: ConstructorParameters<typeof CreateSecurityGroupCommand>[0]) =>
      cp.ec2.send(new CreateSecurityGroupCommand(input));
    assert.equal(
      await errorCode(create({ GroupName: "x1", Description: "caf\u00e9", VpcId: vpcId })),
      "InvalidParameterValue",
    );
    assert.equal(
      await errorCode(create({ GroupName: "x2", Description: "semi`colon", VpcId: vpcId })),
      "InvalidParameterValue",
    );
    assert.equal(
      await errorCode(create({ GroupName: "x3", Description: "d".repeat(256), VpcId: vpcId })),
      "InvalidParameterValue",
    );
    assert.equal(
      await errorCode(create({ GroupName: "x4", Description: "", VpcId: vpcId })),
      "MissingParameter",
    );
    assert.equal(
      await errorCode(create({ GroupName: "x5", Description: "ok", VpcId: "vpc-0123456789abcdef0" })),
      "InvalidVpcID.NotFound",
    );
    assert.equal(
      await errorCode(create({ GroupName: "x6", Description: "ok", VpcId: "vpc-zz" })),
      "InvalidVpcID.Malformed",
    );
  });
});

describe("AuthorizeSecurityGroupIngress and Egress", () => {
  test("each peer of a permission becomes its own rule; CIDRs are canonicalised; protocol numbers become names", async () => {
    const id = await newGroup("expand");
    const out = await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          {
            IpProtocol: "6",
            FromPort: 443,
            ToPort: 443,
            IpRanges: [{ CidrIp: "100.68.0.18/18", Description: "partner" }, { CidrIp: "192.0.2.7/32" }],
            Ipv6Ranges: [{ CidrIpv6: "2001:DB8:0:0::1/64" }],
          },
        ],
      }),
    );
    assert.equal(out.Return, true);
    const rules = out.SecurityGroupRules ?? [];
    assert.equal(rules.length, 3);
    assert.deepEqual(
      rules.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.CidrIpv4 ?? r.CidrIpv6, r.Description]),
      [
        ["tcp", 443, 443, "100.68.0.0/18", "partner"],
        ["tcp", 443, 443, "192.0.2.7/32", undefined],
        ["tcp", 443, 443, "2001:db8::/64", undefined],
      ],
    );
    assert.equal(new Set(rules.map((r) => r.SecurityGroupRuleId)).size, 3);
    const group = await describeGroup(id);
    assert.deepEqual(group.IpPermissions, [
      {
        IpProtocol: "tcp",
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: "100.68.0.0/18", Description: "partner" }, { CidrIp: "192.0.2.7/32" }],
        Ipv6Ranges: [{ CidrIpv6: "2001:db8::/64" }],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      },
    ]);
  });

  test("the non-canonical form of an existing rule is a duplicate, and so is the same rule with another description", async () => {
    const id = await newGroup("dupes");
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(22, "10.0.0.0/8")] }),
    );
    const dup = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [tcp(22, "10.1.2.3/8", "other")],
      }),
    );
    assert.equal(await errorCode(dup), "InvalidPermission.Duplicate");
    try {
      await cp.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(22, "10.0.0.0/8")] }),
      );
    } catch (error) {
      assert.equal(
        (error as Error).message,
        'the specified rule "peer: 10.0.0.0/8, TCP, from port: 22, to port: 22, ALLOW" already exists',
      );
    }
    const twice = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [tcp(80, "1.2.3.0/24"), tcp(80, "1.2.3.4/24")],
      }),
    );
    assert.equal(await errorCode(twice), "InvalidParameterValue");
  });

  test("a failed authorization adds none of its rules", async () => {
    const id = await newGroup("atomic");
    const mixed = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          tcp(80, "0.0.0.0/0"),
          { IpProtocol: "tcp", FromPort: 90, ToPort: 90, IpRanges: [{ CidrIp: "300.1.1.1/32" }] },
        ],
      }),
    );
    assert.equal(await errorCode(mixed), "InvalidParameterValue");
    assert.deepEqual((await describeGroup(id)).IpPermissions, []);
  });

  test("protocol and port validation follows EC2", async () => {
    const id = await newGroup("ports");
    const attempt = (permission: IpPermission) =>
      errorCode(
        cp.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [permission] })),
      );
    const world = [{ CidrIp: "0.0.0.0/0" }];
    assert.equal(await attempt({ IpProtocol: "all", IpRanges: world }), "InvalidParameterValue");
    assert.equal(await attempt({ IpProtocol: "gre", IpRanges: world }), "InvalidParameterValue");
    assert.equal(
      await attempt({ IpProtocol: "tcp", FromPort: 22, IpRanges: world }),
      "InvalidParameterValue",
    );
    assert.equal(
      await attempt({ IpProtocol: "tcp", FromPort: -1, ToPort: -1, IpRanges: world }),
      "InvalidPermission.Malformed",
    );
    assert.equal(
      await attempt({ IpProtocol: "udp", FromPort: 0, ToPort: 65536, IpRanges: world }),
      "InvalidPermission.Malformed",
    );
    assert.equal(
      await attempt({ IpProtocol: "icmp", FromPort: 8, IpRanges: world }),
      "InvalidParameterValue",
    );
    assert.equal(
      await attempt({ IpProtocol: "icmp", FromPort: -1, ToPort: 0, IpRanges: world }),
      "InvalidParameterValue",
    );
    assert.equal(await attempt({ IpProtocol: "tcp", FromPort: 1, ToPort: 2 }), "InvalidParameterValue");
    assert.equal(
      await attempt({ IpProtocol: "tcp", FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: "::/0" }] }),
      "InvalidParameterValue",
    );
    // Protocols without ports accept and drop whatever ports are given.
    const gre = await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "47", FromPort: 5, ToPort: 9, IpRanges: world }],
      }),
    );
    assert.deepEqual(
      [gre.SecurityGroupRules?.[0]?.IpProtocol, gre.SecurityGroupRules?.[0]?.FromPort],
      ["47", -1],
    );
    const icmpv6 = await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "58", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }],
      }),
    );
    assert.deepEqual(
      [
        icmpv6.SecurityGroupRules?.[0]?.IpProtocol,
        icmpv6.SecurityGroupRules?.[0]?.FromPort,
        icmpv6.SecurityGroupRules?.[0]?.ToPort,
      ],
      ["icmpv6", -1, -1],
    );
    const group = await describeGroup(id);
    const greItem = group.IpPermissions?.find((p) => p.IpProtocol === "47");
    assert.equal(greItem?.FromPort, undefined, "port-less protocols are described without ports");
  });

  test("group references: same VPC only, by id; the referenced group cannot be deleted while referenced", async () => {
    const db = await newGroup("dbserver");
    const app = await newGroup("appserver");
    const out = await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 3306,
            ToPort: 3306,
            UserIdGroupPairs: [{ GroupId: app, Description: "app tier" }],
          },
        ],
      }),
    );
    assert.deepEqual(out.SecurityGroupRules?.[0]?.ReferencedGroupInfo, {
      GroupId: app,
      UserId: cp.server.accountId,
    });
    const group = await describeGroup(db);
    assert.deepEqual(group.IpPermissions?.[0]?.UserIdGroupPairs, [
      { GroupId: app, UserId: cp.server.accountId, Description: "app tier" },
    ]);
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: app }))),
      "DependencyViolation",
    );
    const elsewhere = await newGroup("elsewhere", defaultVpcId);
    const cross = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 1, ToPort: 1, UserIdGroupPairs: [{ GroupId: elsewhere }] },
        ],
      }),
    );
    assert.equal(await errorCode(cross), "InvalidGroup.NotFound");
    const unknown = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 1,
            ToPort: 1,
            UserIdGroupPairs: [{ GroupId: "sg-0123456789abcdef0" }],
          },
        ],
      }),
    );
    assert.equal(await errorCode(unknown), "InvalidGroup.NotFound");
  });

  test("prefix lists as peers must exist", async () => {
    const id = await newGroup("with-prefix-list");
    const list = await cp.ec2.send(
      new CreateManagedPrefixListCommand({
        PrefixListName: "office",
        MaxEntries: 3,
        AddressFamily: "IPv4",
        Entries: [{ Cidr: "203.0.113.0/24" }],
      }),
    );
    const plId = list.PrefixList?.PrefixListId as string;
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 22,
            ToPort: 22,
            PrefixListIds: [{ PrefixListId: plId, Description: "office" }],
          },
        ],
      }),
    );
    assert.deepEqual((await describeGroup(id)).IpPermissions?.[0]?.PrefixListIds, [
      { PrefixListId: plId, Description: "office" },
    ]);
    const missing = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 23,
            ToPort: 23,
            PrefixListIds: [{ PrefixListId: "pl-0123456789abcdef0" }],
          },
        ],
      }),
    );
    assert.equal(await errorCode(missing), "InvalidPrefixListID.NotFound");
  });

  test("60 rules per direction and address family; group references count in both families", async () => {
    const id = await newGroup("quota");
    const v4 = Array.from({ length: 60 }, (_, i) => ({ CidrIp: `10.${i}.0.0/16` }));
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 1, IpRanges: v4 }],
      }),
    );
    // A 61st IPv4 rule is too many, but 60 IPv6 rules fit beside the 60 IPv4 ones.
    const more = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(2, "192.0.2.0/24")] }),
    );
    assert.equal(await errorCode(more), "RulesPerSecurityGroupLimitExceeded");
    const v6 = Array.from({ length: 60 }, (_, i) => ({ CidrIpv6: `2001:db8:${i.toString(16)}::/48` }));
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 1, Ipv6Ranges: v6 }],
      }),
    );
    const ref = cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 5, ToPort: 5, UserIdGroupPairs: [{ GroupId: id }] }],
      }),
    );
    assert.equal(await errorCode(ref), "RulesPerSecurityGroupLimitExceeded");
    // Egress is counted on its own: the default egress rule plus 59 more fit.
    const egress = Array.from({ length: 59 }, (_, i) => ({ CidrIp: `172.16.${i}.0/24` }));
    await cp.ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "udp", FromPort: 53, ToPort: 53, IpRanges: egress }],
      }),
    );
    const rules = await cp.ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [id] }] }),
    );
    assert.equal(rules.SecurityGroupRules?.length, 180);
  });

  test("the legacy source-group parameters: all of tcp, udp and icmp without a protocol, and only within one network", async () => {
    const source = await newGroup("legacy-source", defaultVpcId);
    const target = await newGroup("legacy-target", defaultVpcId);
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: target, SourceSecurityGroupName: "legacy-source" }),
    );
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: target,
        SourceSecurityGroupName: "legacy-source",
        IpProtocol: "tcp",
        FromPort: 8443,
        ToPort: 8443,
      }),
    );
    const permissions = (await describeGroup(target)).IpPermissions ?? [];
    assert.deepEqual(
      permissions.map((p) => [p.IpProtocol, p.FromPort, p.ToPort, p.UserIdGroupPairs?.map((g) => g.GroupId)]),
      [
        ["tcp", 0, 65535, [source]],
        ["udp", 0, 65535, [source]],
        ["icmp", -1, -1, [source]],
        ["tcp", 8443, 8443, [source]],
      ],
    );

    // a group of another VPC cannot name the default VPC's group, by this form either
    const elsewhere = await newGroup("legacy-elsewhere");
    const legacy = {
      GroupId: elsewhere,
      SourceSecurityGroupName: "legacy-source",
      IpProtocol: "tcp",
      FromPort: 22,
      ToPort: 22,
    };
    assert.equal(
      await errorCode(cp.ec2.send(new AuthorizeSecurityGroupIngressCommand(legacy))),
      "InvalidGroup.NotFound",
    );
    await assert.rejects(
      cp.ec2.send(new AuthorizeSecurityGroupIngressCommand(legacy)),
      /belong to different networks/,
    );
    assert.deepEqual((await describeGroup(elsewhere)).IpPermissions, []);
    // one source only: a CIDR beside the group is refused, not half taken
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new AuthorizeSecurityGroupIngressCommand({ ...legacy, GroupId: target, CidrIp: "10.9.0.0/16" }),
        ),
      ),
      "InvalidParameterCombination",
    );
  });
});

describe("RevokeSecurityGroupIngress and Egress", () => {
  test("by properties in a non-default VPC: all or nothing, InvalidPermission.NotFound on a miss", async () => {
    const id = await newGroup("revoke-props");
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 22,
            ToPort: 22,
            IpRanges: [{ CidrIp: "10.0.0.0/8" }, { CidrIp: "192.168.0.0/16" }],
          },
        ],
      }),
    );
    const miss = cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [tcp(22, "10.0.0.0/8"), tcp(23, "10.0.0.0/8")],
      }),
    );
    assert.equal(await errorCode(miss), "InvalidPermission.NotFound");
    assert.equal((await describeGroup(id)).IpPermissions?.[0]?.IpRanges?.length, 2, "nothing was revoked");
    // Revoking one CIDR of a grouped permission leaves the other; the description need not be given.
    // (named twice, as 10.1.1.1/8 and as its canonical form: one rule, reported once)
    const out = await cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [tcp(22, "10.1.1.1/8"), tcp(22, "10.0.0.0/8")],
      }),
    );
    assert.equal(out.Return, true);
    assert.equal(out.RevokedSecurityGroupRules?.length, 1);
    assert.deepEqual((await describeGroup(id)).IpPermissions?.[0]?.IpRanges, [{ CidrIp: "192.168.0.0/16" }]);
  });

  test("by properties in the default VPC: misses come back in UnknownIpPermissions", async () => {
    const id = await newGroup("revoke-default-vpc", defaultVpcId);
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(22, "10.0.0.0/8")] }),
    );
    const out = await cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [tcp(22, "10.0.0.0/8"), tcp(23, "10.0.0.0/8")],
      }),
    );
    assert.equal(out.Return, true);
    assert.deepEqual(out.UnknownIpPermissions, [
      {
        IpProtocol: "tcp",
        FromPort: 23,
        ToPort: 23,
        IpRanges: [{ CidrIp: "10.0.0.0/8" }],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      },
    ]);
    assert.deepEqual((await describeGroup(id)).IpPermissions, []);
  });

  test("by rule id, in the right direction only", async () => {
    const id = await newGroup("revoke-ids");
    const added = await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(80, "0.0.0.0/0")] }),
    );
    const ruleId = added.SecurityGroupRules?.[0]?.SecurityGroupRuleId as string;
    const wrongDirection = cp.ec2.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: id, SecurityGroupRuleIds: [ruleId] }),
    );
    assert.equal(await errorCode(wrongDirection), "InvalidSecurityGroupRuleId.NotFound");
    const malformed = cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: id, SecurityGroupRuleIds: ["sgr-xyz"] }),
    );
    assert.equal(await errorCode(malformed), "InvalidSecurityGroupRuleId.Malformed");
    // named twice, revoked (and listed) once
    const out = await cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: id, SecurityGroupRuleIds: [ruleId, ruleId] }),
    );
    assert.deepEqual(
      out.RevokedSecurityGroupRules?.map((r) => r.SecurityGroupRuleId),
      [ruleId],
    );
    assert.equal(out.RevokedSecurityGroupRules?.[0]?.CidrIpv4, "0.0.0.0/0");
    // The same rule added again gets a new id.
    const again = await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(80, "0.0.0.0/0")] }),
    );
    assert.notEqual(again.SecurityGroupRules?.[0]?.SecurityGroupRuleId, ruleId);
  });

  test("revoking the default egress rule leaves a group with no egress", async () => {
    const id = await newGroup("no-egress");
    await cp.ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    assert.deepEqual((await describeGroup(id)).IpPermissionsEgress, []);
  });
});

describe("ModifySecurityGroupRules and descriptions", () => {
  test("a rule changes in place and keeps its id; its type cannot change", async () => {
    const id = await newGroup("modify");
    const added = await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(80, "10.0.0.0/8")] }),
    );
    const ruleId = added.SecurityGroupRules?.[0]?.SecurityGroupRuleId as string;
    await cp.ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: id,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: ruleId,
            SecurityGroupRule: {
              IpProtocol: "tcp",
              FromPort: 8080,
              ToPort: 8081,
              CidrIpv4: "10.1.0.9/16",
              Description: "moved",
            },
          },
        ],
      }),
    );
    const rules = await cp.ec2.send(
      new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleId] }),
    );
    const rule = rules.SecurityGroupRules?.[0];
    assert.deepEqual(
      [rule?.FromPort, rule?.ToPort, rule?.CidrIpv4, rule?.Description],
      [8080, 8081, "10.1.0.0/16", "moved"],
    );
    const typeChange = cp.ec2.send(
      new ModifySecurityGroupRulesCommand({
        GroupId: id,
        SecurityGroupRules: [
          {
            SecurityGroupRuleId: ruleId,
            SecurityGroupRule: { IpProtocol: "tcp", FromPort: 1, ToPort: 1, CidrIpv6: "::/0" },
          },
        ],
      }),
    );
    assert.equal(await errorCode(typeChange), "InvalidParameterValue");
  });

  test("descriptions are updated by matching properties", async () => {
    const id = await newGroup("describe-me");
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [tcp(443, "0.0.0.0/0")] }),
    );
    await cp.ec2.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: id,
        IpPermissions: [tcp(443, "0.0.0.0/0", "public https")],
      }),
    );
    assert.deepEqual((await describeGroup(id)).IpPermissions?.[0]?.IpRanges, [
      { CidrIp: "0.0.0.0/0", Description: "public https" },
    ]);
    const missing = cp.ec2.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: id,
        IpPermissions: [tcp(444, "0.0.0.0/0", "nope")],
      }),
    );
    assert.equal(await errorCode(missing), "InvalidPermission.NotFound");
    // rule ids and permissions at once: which one was meant is not guessed
    const ruleId = (
      await cp.ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [id] }] }),
      )
    ).SecurityGroupRules?.find((r) => !r.IsEgress)?.SecurityGroupRuleId;
    const both = cp.ec2.send(
      new UpdateSecurityGroupRuleDescriptionsIngressCommand({
        GroupId: id,
        SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: ruleId, Description: "by id" }],
        IpPermissions: [tcp(443, "0.0.0.0/0", "by permission")],
      }),
    );
    assert.equal(await errorCode(both), "InvalidParameterCombination");
    assert.equal((await describeGroup(id)).IpPermissions?.[0]?.IpRanges?.[0]?.Description, "public https");
  });

  test("both directions take the default VPC's group by name", async () => {
    await cp.ec2.send(
      new UpdateSecurityGroupRuleDescriptionsEgressCommand({
        GroupName: "default",
        IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "all out" }] }],
      }),
    );
    const groups = await cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ["default"] }));
    assert.equal(groups.SecurityGroups?.[0]?.IpPermissionsEgress?.[0]?.IpRanges?.[0]?.Description, "all out");
  });
});

describe("DescribeSecurityGroups", () => {
  test("rule filters match across a group's rules; wildcards and tag filters work", async () => {
    const a = await newGroup("filter-a");
    const b = await newGroup("filter-b");
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: a,
        IpPermissions: [tcp(22, "10.0.0.0/8"), tcp(80, "0.0.0.0/0")],
      }),
    );
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: b, IpPermissions: [tcp(22, "0.0.0.0/0")] }),
    );
    const find = async (filters: { Name: string; Values: string[] }[]) =>
      ((await cp.ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups ?? [])
        .map((g) => g.GroupId)
        .sort();
    // a has port 22 (from 10/8) and 0.0.0.0/0 (on port 80): the filters may be met by different rules.
    assert.deepEqual(
      await find([
        { Name: "ip-permission.from-port", Values: ["22"] },
        { Name: "ip-permission.cidr", Values: ["0.0.0.0/0"] },
        { Name: "group-name", Values: ["filter-*"] },
      ]),
      [a, b].sort(),
    );
    assert.deepEqual(
      await find([
        { Name: "group-name", Values: ["filter-?"] },
        { Name: "ip-permission.to-port", Values: ["80"] },
      ]),
      [a],
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new DescribeSecurityGroupsCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] }),
        ),
      ),
      "InvalidParameterValue",
    );
  });

  test("unknown ids fail the whole call; names resolve only in the default VPC", async () => {
    const code = await errorCode(
      cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ["sg-0123456789abcdef0"] })),
    );
    assert.equal(code, "InvalidGroup.NotFound");
    const inDefault = await newGroup("named-default", defaultVpcId);
    const byName = await cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ["named-default"] }));
    assert.deepEqual(
      byName.SecurityGroups?.map((g) => g.GroupId),
      [inDefault],
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ["dbserver"] }))),
      "InvalidGroup.NotFound",
    );
  });

  test("pagination walks every group exactly once", async () => {
    const all = (await cp.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await cp.ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: token }));
      assert.ok((page.SecurityGroups?.length ?? 0) <= 5);
      seen.push(...(page.SecurityGroups ?? []).map((g) => g.GroupId as string));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(
      seen,
      all.map((g) => g.GroupId),
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: "garbage" })),
      ),
      "InvalidPaginationToken",
    );
  });
});

describe("DeleteSecurityGroup", () => {
  test("default groups cannot be deleted; groups attached to instances only after termination", async () => {
    const defaultGroup = (
      await cp.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [
            { Name: "vpc-id", Values: [vpcId] },
            { Name: "group-name", Values: ["default"] },
          ],
        }),
      )
    ).SecurityGroups?.[0];
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: defaultGroup?.GroupId }))),
      "CannotDelete",
    );
    const id = await newGroup("in-use", defaultVpcId);
    const run = await cp.ec2.send(
      new RunInstancesCommand({ ImageId: "ami-1", MinCount: 1, MaxCount: 1, SecurityGroupIds: [id] }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }))),
      "DependencyViolation",
    );
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    const out = await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
    assert.equal(out.GroupId, id);
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }))),
      "InvalidGroup.NotFound",
    );
  });

  test("a group referenced by its own rule is not deletable until the rule goes", async () => {
    const id = await newGroup("self-ref");
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: id }] }],
      }),
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }))),
      "DependencyViolation",
    );
    await cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: id,
        IpPermissions: [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: id }] }],
      }),
    );
    await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
  });

  test("DescribeStaleSecurityGroups is empty while every reference resolves", async () => {
    const out = await cp.ec2.send(new DescribeStaleSecurityGroupsCommand({ VpcId: vpcId }));
    assert.deepEqual(out.StaleSecurityGroupSet ?? [], []);
  });
});
