// VPCs, subnets, zones and account attributes against the real server, through the SDK and the aws CLI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateDefaultVpcCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAccountAttributesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type NetworkAcl,
  RunInstancesCommand,
  type Subnet,
} from "@aws-sdk/client-ec2";
import { formatIpv6, parseIpv6 } from "../../src/net/address.js";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
const UNKNOWN_VPC = "vpc-0123456789abcdef0";
const UNKNOWN_SUBNET = "subnet-0123456789abcdef0";

/** The same account in another region: a region of its own, with just its default VPC. */
function regionClient(region: string): EC2Client {
  return cp.clientFor(cp.server.accessKeyId, cp.server.secretAccessKey, region);
}

async function newVpc(cidr: string, client = cp.ec2): Promise<string> {
  const out = await client.send(new CreateVpcCommand({ CidrBlock: cidr }));
  return out.Vpc?.VpcId as string;
}

async function defaultVpcOf(client: EC2Client): Promise<string> {
  const out = await client.send(
    new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
  );
  assert.equal(out.Vpcs?.length, 1);
  return out.Vpcs?.[0]?.VpcId as string;
}

async function subnetsOf(vpcId: string, client = cp.ec2): Promise<Subnet[]> {
  const out = await client.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
  );
  return out.Subnets ?? [];
}

async function aclsOf(vpcId: string): Promise<NetworkAcl[]> {
  const out = await cp.ec2.send(
    new DescribeNetworkAclsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
  );
  return out.NetworkAcls ?? [];
}

/** Entries as comparable tuples, in (egress, rule number) order. */
function entryTuples(acl: NetworkAcl) {
  return (acl.Entries ?? [])
    .map((e) => [e.Egress, e.RuleNumber, e.Protocol, e.RuleAction, e.CidrBlock ?? e.Ipv6CidrBlock] as const)
    .sort((a, b) => Number(a[0]) - Number(b[0]) || (a[1] ?? 0) - (b[1] ?? 0));
}

before(async () => {
  cp = await startControlPlane();
});

after(async () => {
  await cp.close();
});

describe("the default VPC", () => {
  test("is 172.31.0.0/16 with one default /20 subnet per zone, public on launch, 4091 free addresses each", async () => {
    const vpcs = await cp.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    assert.equal(vpcs.Vpcs?.length, 1);
    const vpc = vpcs.Vpcs?.[0];
    assert.equal(vpc?.CidrBlock, "172.31.0.0/16");
    assert.equal(vpc?.IsDefault, true);
    assert.equal(vpc?.State, "available");
    assert.equal(vpc?.OwnerId, cp.server.accountId);
    const zones = await cp.ec2.send(new DescribeAvailabilityZonesCommand({}));
    const zoneNames = (zones.AvailabilityZones ?? []).map((z) => z.ZoneName);
    assert.deepEqual(zoneNames, ["us-east-1a", "us-east-1b", "us-east-1c"]);
    const subnets = (await subnetsOf(vpc?.VpcId as string)).sort((a, b) =>
      (a.AvailabilityZone ?? "").localeCompare(b.AvailabilityZone ?? ""),
    );
    assert.equal(subnets.length, zoneNames.length, "one subnet per zone");
    subnets.forEach((subnet, i) => {
      // /20 blocks laid side by side: 172.31.0.0, 172.31.16.0, 172.31.32.0.
      assert.equal(subnet.CidrBlock, `172.31.${16 * i}.0/20`);
      assert.equal(subnet.AvailabilityZone, zoneNames[i]);
      assert.equal(subnet.DefaultForAz, true);
      assert.equal(subnet.MapPublicIpOnLaunch, true);
      assert.equal(subnet.AvailableIpAddressCount, 2 ** (32 - 20) - 5);
      assert.equal(subnet.VpcId, vpc?.VpcId);
    });
  });

  test("DescribeAccountAttributes names it as default-vpc; CreateDefaultVpc refuses a second one", async () => {
    const vpcs = await cp.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    const attrs = await cp.ec2.send(
      new DescribeAccountAttributesCommand({ AttributeNames: ["default-vpc"] }),
    );
    assert.deepEqual(attrs.AccountAttributes, [
      { AttributeName: "default-vpc", AttributeValues: [{ AttributeValue: vpcs.Vpcs?.[0]?.VpcId }] },
    ]);
    assert.equal(await errorCode(cp.ec2.send(new CreateDefaultVpcCommand({}))), "DefaultVpcAlreadyExists");
  });

  test("another region of the same account has its own default VPC with its own zones", async () => {
    const client = regionClient("eu-west-2");
    try {
      const vpcs = await client.send(new DescribeVpcsCommand({}));
      assert.equal(vpcs.Vpcs?.length, 1);
      assert.equal(vpcs.Vpcs?.[0]?.CidrBlock, "172.31.0.0/16");
      const home = await cp.ec2.send(
        new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
      );
      assert.notEqual(vpcs.Vpcs?.[0]?.VpcId, home.Vpcs?.[0]?.VpcId);
      const subnets = await subnetsOf(vpcs.Vpcs?.[0]?.VpcId as string, client);
      assert.deepEqual(subnets.map((s) => s.AvailabilityZone).sort(), [
        "eu-west-2a",
        "eu-west-2b",
        "eu-west-2c",
      ]);
    } finally {
      client.destroy();
    }
  });
});

describe("CreateVpc", () => {
  test("canonicalises the CIDR, answers pending, then describes available, with its default group and ACL", async () => {
    const out = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.7.99.1/16" }));
    const vpc = out.Vpc;
    assert.match(vpc?.VpcId ?? "", /^vpc-[0-9a-f]{17}$/);
    assert.equal(vpc?.CidrBlock, "10.7.0.0/16");
    assert.equal(vpc?.State, "pending");
    assert.equal(vpc?.IsDefault, false);
    assert.equal(vpc?.InstanceTenancy, "default");
    assert.equal(vpc?.OwnerId, cp.server.accountId);
    assert.equal(vpc?.CidrBlockAssociationSet?.length, 1);
    assert.equal(vpc?.CidrBlockAssociationSet?.[0]?.CidrBlock, "10.7.0.0/16");
    assert.equal(vpc?.CidrBlockAssociationSet?.[0]?.CidrBlockState?.State, "associated");
    const vpcId = vpc?.VpcId as string;

    const described = await cp.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }));
    assert.equal(described.Vpcs?.[0]?.State, "available");
    assert.equal(described.Vpcs?.[0]?.CidrBlock, "10.7.0.0/16");

    const groups = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    assert.equal(groups.SecurityGroups?.length, 1, "exactly one group: the default one");
    const group = groups.SecurityGroups?.[0];
    assert.equal(group?.GroupName, "default");
    assert.equal(group?.Description, "default VPC security group");
    assert.equal(group?.IpPermissions?.length, 1);
    assert.equal(group?.IpPermissions?.[0]?.IpProtocol, "-1");
    assert.deepEqual(
      group?.IpPermissions?.[0]?.UserIdGroupPairs?.map((p) => [p.GroupId, p.UserId]),
      [[group?.GroupId, cp.server.accountId]],
      "the default group lets its own members in",
    );
    assert.deepEqual(group?.IpPermissions?.[0]?.IpRanges, []);
    assert.equal(group?.IpPermissionsEgress?.length, 1);
    assert.equal(group?.IpPermissionsEgress?.[0]?.IpProtocol, "-1");
    assert.deepEqual(group?.IpPermissionsEgress?.[0]?.IpRanges, [{ CidrIp: "0.0.0.0/0" }]);
    assert.deepEqual(group?.IpPermissionsEgress?.[0]?.Ipv6Ranges, [], "no ::/0 without an IPv6 block");

    const acls = await aclsOf(vpcId);
    assert.equal(acls.length, 1);
    assert.equal(acls[0]?.IsDefault, true);
    assert.deepEqual(acls[0]?.Associations, [], "no subnets yet");
    assert.deepEqual(entryTuples(acls[0] as NetworkAcl), [
      [false, 100, "-1", "allow", "0.0.0.0/0"],
      [false, 32767, "-1", "deny", "0.0.0.0/0"],
      [true, 100, "-1", "allow", "0.0.0.0/0"],
      [true, 32767, "-1", "deny", "0.0.0.0/0"],
    ]);
  });

  test("with an Amazon-provided IPv6 block: a /56, ::/0 egress in the default group, ACL rules 101 and 32768", async () => {
    const out = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.8.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
    );
    const vpcId = out.Vpc?.VpcId as string;
    const v6 = out.Vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock ?? "";
    assert.match(v6, /\/56$/);
    const groups = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    const egress = groups.SecurityGroups?.[0]?.IpPermissionsEgress ?? [];
    assert.deepEqual(
      egress
        .flatMap((p) => [
          ...(p.IpRanges ?? []).map((r) => r.CidrIp),
          ...(p.Ipv6Ranges ?? []).map((r) => r.CidrIpv6),
        ])
        .sort(),
      ["0.0.0.0/0", "::/0"],
    );
    const acls = await aclsOf(vpcId);
    assert.deepEqual(entryTuples(acls[0] as NetworkAcl), [
      [false, 100, "-1", "allow", "0.0.0.0/0"],
      [false, 101, "-1", "allow", "::/0"],
      [false, 32767, "-1", "deny", "0.0.0.0/0"],
      [false, 32768, "-1", "deny", "::/0"],
      [true, 100, "-1", "allow", "0.0.0.0/0"],
      [true, 101, "-1", "allow", "::/0"],
      [true, 32767, "-1", "deny", "0.0.0.0/0"],
      [true, 32768, "-1", "deny", "::/0"],
    ]);
    await cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  test("rejects prefixes outside /16../28 with InvalidVpc.Range and nonsense with InvalidParameterValue", async () => {
    assert.equal(
      await errorCode(cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/15" }))),
      "InvalidVpc.Range",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/29" }))),
      "InvalidVpc.Range",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.300/16" }))),
      "InvalidParameterValue",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16", InstanceTenancy: "shared" as never })),
      ),
      "InvalidParameterValue",
    );
  });

  test("DryRun answers DryRunOperation and creates nothing; a DryRun of an invalid request gives the real error", async () => {
    const before = await cp.ec2.send(new DescribeVpcsCommand({}));
    try {
      await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.99.0.0/16", DryRun: true }));
      assert.fail("a dry run succeeded");
    } catch (error) {
      assert.equal((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 412);
    }
    assert.equal(
      await errorCode(cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.99.0.0/16", DryRun: true }))),
      "DryRunOperation",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.99.0.0/8", DryRun: true }))),
      "InvalidVpc.Range",
    );
    const afterwards = await cp.ec2.send(new DescribeVpcsCommand({}));
    assert.equal(afterwards.Vpcs?.length, before.Vpcs?.length);
    const cidrs = await cp.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "cidr", Values: ["10.99.0.0/16"] }] }),
    );
    assert.deepEqual(cidrs.Vpcs, []);
  });

  test("the sixth VPC of a region (the default one included) fails with VpcLimitExceeded, and is not created", async () => {
    const client = regionClient("ap-south-1");
    try {
      const first = await client.send(new DescribeVpcsCommand({}));
      assert.equal(first.Vpcs?.length, 1, "a fresh region holds just the default VPC");
      for (let i = 1; i <= 4; i++) await newVpc(`10.${i}.0.0/16`, client);
      assert.equal(
        await errorCode(client.send(new CreateVpcCommand({ CidrBlock: "10.5.0.0/16" }))),
        "VpcLimitExceeded",
      );
      const all = await client.send(new DescribeVpcsCommand({}));
      assert.equal(all.Vpcs?.length, 5);
      // The quota is per region: the home region still takes new VPCs.
      const home = await newVpc("10.200.0.0/16");
      await cp.ec2.send(new DeleteVpcCommand({ VpcId: home }));
    } finally {
      client.destroy();
    }
  });
});

describe("DescribeVpcs", () => {
  test("filters: cidr, is-default, vpc-id, tag:Name, tag-key, wildcards; unknown filter names are refused", async () => {
    const out = await cp.ec2.send(
      new CreateVpcCommand({
        CidrBlock: "10.30.0.0/16",
        TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: "filters-vpc" }] }],
      }),
    );
    const vpcId = out.Vpc?.VpcId as string;
    assert.deepEqual(out.Vpc?.Tags, [{ Key: "Name", Value: "filters-vpc" }]);
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await cp.ec2.send(new DescribeVpcsCommand({ Filters }))).Vpcs ?? []).map((v) => v.VpcId);
    assert.deepEqual(await ids([{ Name: "cidr", Values: ["10.30.0.0/16"] }]), [vpcId]);
    assert.deepEqual(await ids([{ Name: "cidr-block-association.cidr-block", Values: ["10.30.*"] }]), [
      vpcId,
    ]);
    assert.deepEqual(await ids([{ Name: "vpc-id", Values: [vpcId] }]), [vpcId]);
    assert.deepEqual(await ids([{ Name: "tag:Name", Values: ["filters-?pc"] }]), [vpcId]);
    assert.deepEqual(await ids([{ Name: "tag-key", Values: ["Name"] }]), [vpcId]);
    assert.deepEqual(
      await ids([
        { Name: "cidr", Values: ["10.30.0.0/16"] },
        { Name: "is-default", Values: ["true"] },
      ]),
      [],
      "filters AND",
    );
    const defaults = await ids([{ Name: "is-default", Values: ["true"] }]);
    assert.equal(defaults.length, 1);
    assert.deepEqual(
      (await ids([{ Name: "vpc-id", Values: [vpcId, defaults[0] as string] }])).sort(),
      [vpcId, defaults[0]].sort(),
      "values OR",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "colour", Values: ["blue"] }] })),
      ),
      "InvalidParameterValue",
    );
    await cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  test("malformed and unknown ids", async () => {
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeVpcsCommand({ VpcIds: ["vpc-xyz"] }))),
      "InvalidVpcID.Malformed",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeVpcsCommand({ VpcIds: [UNKNOWN_VPC] }))),
      "InvalidVpcID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteVpcCommand({ VpcId: UNKNOWN_VPC }))),
      "InvalidVpcID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new CreateSubnetCommand({ VpcId: UNKNOWN_VPC, CidrBlock: "10.0.0.0/24" }))),
      "InvalidVpcID.NotFound",
    );
  });
});

describe("subnets", () => {
  let vpcId: string;

  before(async () => {
    vpcId = await newVpc("10.40.0.0/16");
  });

  test("CreateSubnet: fields, size-5 free addresses, zone, and the default ACL association", async () => {
    const out = await cp.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.1.77/24", AvailabilityZone: "us-east-1b" }),
    );
    const subnet = out.Subnet;
    const subnetId = subnet?.SubnetId as string;
    assert.match(subnetId, /^subnet-[0-9a-f]{17}$/);
    assert.equal(subnet?.CidrBlock, "10.40.1.0/24");
    assert.equal(subnet?.VpcId, vpcId);
    assert.equal(subnet?.State, "pending");
    assert.equal(subnet?.AvailableIpAddressCount, 256 - 5);
    assert.equal(subnet?.AvailabilityZone, "us-east-1b");
    assert.equal(subnet?.AvailabilityZoneId, "use1-az2");
    assert.equal(subnet?.DefaultForAz, false);
    assert.equal(subnet?.MapPublicIpOnLaunch, false);
    assert.equal(subnet?.OwnerId, cp.server.accountId);
    assert.equal(subnet?.SubnetArn, `arn:aws:ec2:us-east-1:${cp.server.accountId}:subnet/${subnetId}`);
    const described = await cp.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }));
    assert.equal(described.Subnets?.[0]?.State, "available");

    const acls = await cp.ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: [subnetId] }] }),
    );
    assert.equal(acls.NetworkAcls?.length, 1);
    assert.equal(acls.NetworkAcls?.[0]?.IsDefault, true);
    assert.equal(acls.NetworkAcls?.[0]?.VpcId, vpcId);

    // A /28 has 16 addresses, 11 of them usable.
    const small = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.2.16/28" }));
    assert.equal(small.Subnet?.AvailableIpAddressCount, 11);
  });

  test("AvailableIpAddressCount counts every private address handed out in the subnet", async () => {
    const out = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.3.0/24" }));
    const subnetId = out.Subnet?.SubnetId as string;
    const eni = await cp.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnetId, SecondaryPrivateIpAddressCount: 2 }),
    );
    const free = async () =>
      (await cp.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))).Subnets?.[0]
        ?.AvailableIpAddressCount;
    assert.equal(await free(), 256 - 5 - 3);
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSubnetCommand({ SubnetId: subnetId }))),
      "DependencyViolation",
      "a subnet with an interface cannot go",
    );
    await cp.ec2.send(
      new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterface?.NetworkInterfaceId }),
    );
    assert.equal(await free(), 256 - 5);
    await cp.ec2.send(new DeleteSubnetCommand({ SubnetId: subnetId }));
  });

  test("InvalidSubnet.Conflict on overlap, InvalidSubnet.Range outside the VPC or too small/large, bad zone", async () => {
    await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.16.0/20" }));
    const code = (CidrBlock: string, AvailabilityZone?: string) =>
      errorCode(cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock, AvailabilityZone })));
    assert.equal(await code("10.40.20.0/24"), "InvalidSubnet.Conflict", "inside the /20");
    assert.equal(await code("10.40.0.0/19"), "InvalidSubnet.Conflict", "around the /20");
    assert.equal(await code("10.41.0.0/24"), "InvalidSubnet.Range", "outside the VPC");
    assert.equal(await code("10.40.100.0/29"), "InvalidSubnet.Range", "smaller than /28");
    assert.equal(await code("10.0.0.0/8"), "InvalidSubnet.Range", "larger than the VPC");
    assert.equal(await code("10.40.200.0/24", "us-east-1z"), "InvalidParameterValue");
    const after = await subnetsOf(vpcId);
    assert.equal(
      after.filter((s) => ["10.40.20.0/24", "10.40.0.0/19", "10.40.200.0/24"].includes(s.CidrBlock ?? ""))
        .length,
      0,
    );
  });

  test("DescribeSubnets pages with MaxResults/NextToken; bad MaxResults and tokens are refused", async () => {
    const pagedVpc = await newVpc("10.50.0.0/16");
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const out = await cp.ec2.send(
        new CreateSubnetCommand({ VpcId: pagedVpc, CidrBlock: `10.50.${i}.0/24` }),
      );
      created.push(out.Subnet?.SubnetId as string);
    }
    const Filters = [{ Name: "vpc-id", Values: [pagedVpc] }];
    const first = await cp.ec2.send(new DescribeSubnetsCommand({ Filters, MaxResults: 5 }));
    assert.equal(first.Subnets?.length, 5);
    assert.ok(first.NextToken, "more remain");
    const second = await cp.ec2.send(
      new DescribeSubnetsCommand({ Filters, MaxResults: 5, NextToken: first.NextToken }),
    );
    assert.equal(second.Subnets?.length, 2);
    assert.equal(second.NextToken, undefined, "no token on the last page");
    const seen = [...(first.Subnets ?? []), ...(second.Subnets ?? [])].map((s) => s.SubnetId);
    assert.deepEqual([...seen].sort(), [...created].sort(), "each subnet exactly once");
    const all = await cp.ec2.send(new DescribeSubnetsCommand({ Filters }));
    assert.equal(all.Subnets?.length, 7, "without MaxResults everything");
    assert.equal(all.NextToken, undefined);
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeSubnetsCommand({ Filters, MaxResults: 4 }))),
      "InvalidParameterValue",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeSubnetsCommand({ Filters, MaxResults: 5, NextToken: "not-a-token" })),
      ),
      "InvalidPaginationToken",
    );
    // The VPC cannot go while it has subnets; once they are gone it can.
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteVpcCommand({ VpcId: pagedVpc }))),
      "DependencyViolation",
    );
    for (const id of created) await cp.ec2.send(new DeleteSubnetCommand({ SubnetId: id }));
    await cp.ec2.send(new DeleteVpcCommand({ VpcId: pagedVpc }));
  });

  test("DescribeSubnets filters: cidr-block, availability-zone, default-for-az", async () => {
    const out = await cp.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.64.0/24", AvailabilityZone: "us-east-1c" }),
    );
    const id = out.Subnet?.SubnetId;
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await cp.ec2.send(new DescribeSubnetsCommand({ Filters }))).Subnets ?? []).map((s) => s.SubnetId);
    assert.deepEqual(await ids([{ Name: "cidr-block", Values: ["10.40.64.0/24"] }]), [id]);
    const inZone = (await subnetsOf(vpcId))
      .filter((s) => s.AvailabilityZone === "us-east-1c")
      .map((s) => s.SubnetId);
    assert.ok(inZone.includes(id));
    assert.deepEqual(
      await ids([
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "availability-zone", Values: ["us-east-1c"] },
      ]),
      inZone,
    );
    const defaults = await ids([{ Name: "default-for-az", Values: ["true"] }]);
    assert.equal(defaults.length, 3);
    assert.ok(!defaults.includes(id));
  });

  test("malformed and unknown subnet ids", async () => {
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-12"] }))),
      "InvalidSubnetID.Malformed",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [UNKNOWN_SUBNET] }))),
      "InvalidSubnetID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSubnetCommand({ SubnetId: UNKNOWN_SUBNET }))),
      "InvalidSubnetID.NotFound",
    );
  });

  test("DryRun CreateSubnet creates nothing", async () => {
    assert.equal(
      await errorCode(
        cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.99.0/24", DryRun: true })),
      ),
      "DryRunOperation",
    );
    assert.ok(!(await subnetsOf(vpcId)).some((s) => s.CidrBlock === "10.40.99.0/24"));
  });
});

describe("DeleteVpc", () => {
  test("a VPC with a subnet or a non-default group is a DependencyViolation; after that its default group and ACL go with it", async () => {
    const vpcId = await newVpc("10.60.0.0/16");
    const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.60.0.0/24" }));
    assert.equal(await errorCode(cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }))), "DependencyViolation");
    await cp.ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.Subnet?.SubnetId }));
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: "blocker", Description: "keeps the VPC" }),
    );
    assert.equal(await errorCode(cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }))), "DependencyViolation");
    await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group.GroupId }));
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId, DryRun: true }))),
      "DryRunOperation",
    );
    assert.equal(
      (await cp.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs?.length,
      1,
      "dry run kept it",
    );
    await cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))),
      "InvalidVpcID.NotFound",
    );
    const groups = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
    );
    assert.deepEqual(groups.SecurityGroups, []);
    assert.deepEqual(await aclsOf(vpcId), []);
  });
});

describe("without a default VPC", () => {
  test("CreateDefaultVpc counts against the VPCs per region: with five VPCs it is VpcLimitExceeded", async () => {
    const client = regionClient("eu-north-1");
    try {
      const vpcId = await defaultVpcOf(client);
      for (const subnet of await subnetsOf(vpcId, client)) {
        await client.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));
      }
      await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
      for (let i = 1; i <= 5; i++) await newVpc(`10.${i}.0.0/16`, client);
      assert.equal(await errorCode(client.send(new CreateDefaultVpcCommand({}))), "VpcLimitExceeded");
      const all = await client.send(new DescribeVpcsCommand({}));
      assert.equal(all.Vpcs?.length, 5);
      assert.ok(
        all.Vpcs?.every((v) => v.IsDefault === false),
        "no default VPC was made",
      );
    } finally {
      client.destroy();
    }
  });

  test("deleting it leaves default-vpc none and VPCIdNotSpecified; CreateDefaultVpc brings it back whole", async () => {
    const client = regionClient("sa-east-1");
    try {
      const vpcId = await defaultVpcOf(client);
      for (const subnet of await subnetsOf(vpcId, client)) {
        await client.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));
      }
      await client.send(new DeleteVpcCommand({ VpcId: vpcId }));
      const attrs = await client.send(
        new DescribeAccountAttributesCommand({ AttributeNames: ["default-vpc"] }),
      );
      assert.equal(attrs.AccountAttributes?.[0]?.AttributeValues?.[0]?.AttributeValue, "none");
      assert.equal(
        await errorCode(
          client.send(
            new RunInstancesCommand({ ImageId: "ami-0123456789abcdef0", MinCount: 1, MaxCount: 1 }),
          ),
        ),
        "VPCIdNotSpecified",
      );
      assert.equal(
        await errorCode(
          client.send(new CreateSecurityGroupCommand({ GroupName: "orphan", Description: "no vpc" })),
        ),
        "VPCIdNotSpecified",
      );
      const created = await client.send(new CreateDefaultVpcCommand({}));
      const again = created.Vpc?.VpcId as string;
      assert.notEqual(again, vpcId);
      assert.equal(created.Vpc?.CidrBlock, "172.31.0.0/16");
      assert.equal(created.Vpc?.IsDefault, true);
      assert.equal(await defaultVpcOf(client), again);
      const subnets = await subnetsOf(again, client);
      assert.deepEqual(subnets.map((s) => s.CidrBlock).sort(), [
        "172.31.0.0/20",
        "172.31.16.0/20",
        "172.31.32.0/20",
      ]);
      assert.ok(subnets.every((s) => s.DefaultForAz === true));
    } finally {
      client.destroy();
    }
  });
});

describe("spec details", () => {
  test("an IPv6 subnet takes a /64 of the VPC's /56 and nothing else", async () => {
    const out = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.9.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
    );
    const vpcId = out.Vpc?.VpcId as string;
    const block = (out.Vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock ?? "").replace(/::\/56$/, "");
    const code = (Ipv6CidrBlock: string) =>
      errorCode(
        cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.1.0/24", Ipv6CidrBlock })),
      );
    assert.equal(await code(`${block}::/60`), "InvalidSubnet.Range", "not a /64");
    assert.equal(await code("2001:db8::/64"), "InvalidSubnet.Range", "outside the VPC's block");
    const subnet = await cp.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.9.1.0/24", Ipv6CidrBlock: `${block}::/64` }),
    );
    // Canonical IPv6 text drops leading zeros in each group (the VPC's own block is checked below).
    const canonical = block
      .split(":")
      .map((group) => group.replace(/^0+(?=.)/, ""))
      .join(":");
    assert.equal(subnet.Subnet?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock, `${canonical}::/64`);
    await cp.ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.Subnet?.SubnetId }));
    await cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  test("two subnets may not share an IPv6 block: InvalidSubnet.Conflict, and the second is not made", async () => {
    const out = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.11.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
    );
    const vpcId = out.Vpc?.VpcId as string;
    const base = parseIpv6(
      (out.Vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock ?? "").split("/")[0] as string,
    );
    // the /64 numbered k inside the VPC's /56
    const slash64 = (k: number) => `${formatIpv6((base as bigint) + (BigInt(k) << 64n))}/64`;
    const first = await cp.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.11.1.0/24", Ipv6CidrBlock: slash64(1) }),
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: "10.11.2.0/24",
            Ipv6CidrBlock: slash64(1),
          }),
        ),
      ),
      "InvalidSubnet.Conflict",
    );
    assert.equal((await subnetsOf(vpcId)).length, 1);
    const second = await cp.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.11.2.0/24", Ipv6CidrBlock: slash64(2) }),
    );
    for (const subnet of [first, second]) {
      await cp.ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.Subnet?.SubnetId }));
    }
    await cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  test("what ringfence does not keep is refused, not dropped: IPAM pools, BYOIP IPv6, IPv6-only subnets", async () => {
    const code = (call: Promise<unknown>) => errorCode(call);
    assert.equal(
      await code(
        cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.12.0.0/16", Ipv6CidrBlock: "2600:1f18::/56" })),
      ),
      "UnsupportedOperation",
    );
    assert.equal(
      await code(
        cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.12.0.0/16", Ipv4IpamPoolId: "ipam-pool-0abc" })),
      ),
      "UnsupportedOperation",
    );
    assert.equal(
      await code(
        cp.ec2.send(
          new CreateVpcCommand({ CidrBlock: "10.12.0.0/16", InstanceTenancy: "bogus" as "default" }),
        ),
      ),
      "InvalidParameterValue",
    );
    const vpcId = await newVpc("10.12.0.0/16");
    assert.equal(
      await code(
        cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.12.1.0/24", Ipv6Native: true })),
      ),
      "UnsupportedOperation",
    );
    assert.equal(
      await code(
        cp.ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: "10.12.1.0/24",
            AvailabilityZone: "us-east-1a",
            AvailabilityZoneId: "use1-az3",
          }),
        ),
      ),
      "InvalidParameterCombination",
      "a zone name and a zone id that name different zones",
    );
    assert.deepEqual(await subnetsOf(vpcId), [], "nothing was made");
    assert.equal(
      (await cp.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "cidr", Values: ["10.12.0.0/16"] }] })))
        .Vpcs?.length,
      1,
    );
    await cp.ec2.send(new DeleteVpcCommand({ VpcId: vpcId }));
  });

  test("DescribeAvailabilityZones with an unknown zone name or id is InvalidParameterValue", async () => {
    for (const input of [{ ZoneNames: ["us-east-1a", "us-east-1z"] }, { ZoneIds: ["bogus"] }]) {
      assert.equal(
        await errorCode(cp.ec2.send(new DescribeAvailabilityZonesCommand(input))),
        "InvalidParameterValue",
      );
    }
    const known = await cp.ec2.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["us-east-1b"] }));
    assert.deepEqual(
      known.AvailabilityZones?.map((z) => z.ZoneName),
      ["us-east-1b"],
    );
  });

  test("a VPC's Amazon-provided IPv6 block is written canonically (no leading zeros in a group)", async () => {
    // About one VPC in eight draws a group with a leading zero; sixty tries make a miss very unlikely.
    const client = regionClient("ca-central-1");
    try {
      const seen: string[] = [];
      for (let i = 0; i < 60; i++) {
        const out = await client.send(
          new CreateVpcCommand({ CidrBlock: "10.0.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
        );
        seen.push(out.Vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock ?? "");
        await client.send(new DeleteVpcCommand({ VpcId: out.Vpc?.VpcId }));
      }
      const written = seen.filter((cidr) => cidr.split(/[:/]/).some((group) => /^0[0-9a-f]/.test(group)));
      assert.deepEqual(written, []);
    } finally {
      client.destroy();
    }
  });

  test("200 subnets per VPC: the 201st is SubnetLimitExceeded", async () => {
    const client = regionClient("ap-northeast-1");
    try {
      const vpc = await client.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" }));
      const vpcId = vpc.Vpc?.VpcId as string;
      // /28 blocks: 16 per /24, so 200 of them fill 10.0.0.0 .. 10.0.12.112.
      const block = (i: number) => `10.0.${Math.floor(i / 16)}.${(i % 16) * 16}/28`;
      for (let i = 0; i < 200; i++)
        await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: block(i) }));
      assert.equal(
        await errorCode(client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: block(200) }))),
        "SubnetLimitExceeded",
      );
      assert.equal((await subnetsOf(vpcId, client)).length, 200);
    } finally {
      client.destroy();
    }
  });

  test("a malformed id as a vpc-id filter value is InvalidParameterValue (spec 1.9)", async () => {
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "vpc-id", Values: ["not-a-vpc"] }] })),
      ),
      "InvalidParameterValue",
    );
  });

  test("DescribeSubnets takes the available-ip-address-count filter (spec 2.19)", async () => {
    const vpcs = await cp.ec2.send(
      new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
    );
    const vpcId = vpcs.Vpcs?.[0]?.VpcId as string;
    const out = await cp.ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcId] },
          { Name: "available-ip-address-count", Values: [String(4096 - 5)] },
        ],
      }),
    );
    assert.equal(out.Subnets?.length, 3);
  });
});

describe("the aws CLI", () => {
  test("create-vpc, create-subnet, describe-subnets and an error exit for a conflicting subnet", async () => {
    const vpc = await cp.aws(["create-vpc", "--cidr-block", "10.70.0.0/16"]);
    assert.equal(vpc.code, 0, vpc.stderr);
    const vpcId = (vpc.json as { Vpc: { VpcId: string; CidrBlock: string } }).Vpc.VpcId;
    assert.equal((vpc.json as { Vpc: { CidrBlock: string } }).Vpc.CidrBlock, "10.70.0.0/16");
    const subnet = await cp.aws(["create-subnet", "--vpc-id", vpcId, "--cidr-block", "10.70.8.0/22"]);
    assert.equal(subnet.code, 0, subnet.stderr);
    const described = await cp.aws(["describe-subnets", "--filters", `Name=vpc-id,Values=${vpcId}`]);
    const subnets = (described.json as { Subnets: { CidrBlock: string; AvailableIpAddressCount: number }[] })
      .Subnets;
    assert.deepEqual(
      subnets.map((s) => [s.CidrBlock, s.AvailableIpAddressCount]),
      [["10.70.8.0/22", 1024 - 5]],
    );
    const conflict = await cp.aws(["create-subnet", "--vpc-id", vpcId, "--cidr-block", "10.70.9.0/24"]);
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /InvalidSubnet\.Conflict/);
    const vpcs = await cp.aws(["describe-vpcs", "--vpc-ids", vpcId]);
    assert.equal((vpcs.json as { Vpcs: { State: string }[] }).Vpcs[0]?.State, "available");
  });
});
