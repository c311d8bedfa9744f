// Network interfaces: where the groups live. Create, describe, change groups, attach and detach,
// against the real server through the SDK and the aws CLI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  type CreateNetworkInterfaceCommandInput,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DetachNetworkInterfaceCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type NetworkInterface,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let vpcId: string;
let subnetId: string;
let defaultGroupId: string;
let foreignGroupId: string;
const groups: string[] = [];
const UNKNOWN_ENI = "eni-0123456789abcdef0";
const IMAGE = "ami-0123456789abcdef0";

async function newSubnet(cidr: string): Promise<string> {
  const out = await cp.ec2.send(
    new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: "us-east-1a" }),
  );
  return out.Subnet?.SubnetId as string;
}

async function newInterface(
  input: Partial<CreateNetworkInterfaceCommandInput> = {},
): Promise<NetworkInterface> {
  const out = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, ...input }));
  return out.NetworkInterface as NetworkInterface;
}

async function describeInterface(id: string): Promise<NetworkInterface> {
  const out = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
  assert.equal(out.NetworkInterfaces?.length, 1);
  return out.NetworkInterfaces?.[0] as NetworkInterface;
}

async function interfaceIds(Filters: { Name: string; Values: string[] }[]): Promise<string[]> {
  const out = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ Filters }));
  return (out.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId as string).sort();
}

const groupIdsOf = (eni: NetworkInterface) => (eni.Groups ?? []).map((g) => g.GroupId).sort();

before(async () => {
  cp = await startControlPlane();
  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.50.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId as string;
  subnetId = await newSubnet("10.50.1.0/24");
  for (let i = 0; i < 6; i++) {
    const out = await cp.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `g${i}`, Description: `g${i}`, VpcId: vpcId }),
    );
    groups.push(out.GroupId as string);
  }
  const defaults = await cp.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "group-name", Values: ["default"] },
      ],
    }),
  );
  defaultGroupId = defaults.SecurityGroups?.[0]?.GroupId as string;
  const foreign = await cp.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: "foreign", Description: "default VPC" }),
  );
  foreignGroupId = foreign.GroupId as string;
});

after(async () => {
  await cp.close();
});

describe("CreateNetworkInterface", () => {
  test("field by field: base+4 address, the VPC's default group, available, DNS name, MAC, tags", async () => {
    const subnet = await newSubnet("10.50.2.0/24");
    const eni = await newInterface({
      SubnetId: subnet,
      Description: "first",
      TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "role", Value: "db" }] }],
    });
    assert.match(eni.NetworkInterfaceId ?? "", /^eni-[0-9a-f]{17}$/);
    assert.equal(eni.SubnetId, subnet);
    assert.equal(eni.VpcId, vpcId);
    assert.equal(eni.AvailabilityZone, "us-east-1a");
    assert.equal(eni.Description, "first");
    assert.equal(eni.OwnerId, cp.server.accountId);
    assert.equal(eni.Status, "available");
    assert.equal(eni.PrivateIpAddress, "10.50.2.4");
    assert.equal(eni.PrivateDnsName, "ip-10-50-2-4.ec2.internal");
    assert.match(eni.MacAddress ?? "", /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    assert.equal(eni.SourceDestCheck, true);
    assert.equal(eni.InterfaceType, "interface");
    assert.equal(eni.Attachment, undefined);
    assert.deepEqual(eni.Groups, [{ GroupId: defaultGroupId, GroupName: "default" }]);
    assert.deepEqual(eni.TagSet, [{ Key: "role", Value: "db" }]);
    assert.deepEqual(
      eni.PrivateIpAddresses?.map((a) => [a.PrivateIpAddress, a.Primary]),
      [["10.50.2.4", true]],
    );
    const second = await newInterface({
      SubnetId: subnet,
      SecondaryPrivateIpAddressCount: 2,
      Groups: [groups[0] as string],
    });
    assert.deepEqual(
      second.PrivateIpAddresses?.map((a) => [a.PrivateIpAddress, a.Primary]),
      [
        ["10.50.2.5", true],
        ["10.50.2.6", false],
        ["10.50.2.7", false],
      ],
    );
    assert.deepEqual(groupIdsOf(second), [groups[0]]);
    // a named secondary address is kept from the automatic primary
    const third = await newInterface({
      SubnetId: subnet,
      PrivateIpAddresses: [{ PrivateIpAddress: "10.50.2.8", Primary: false }],
    });
    assert.deepEqual(
      third.PrivateIpAddresses?.map((a) => [a.PrivateIpAddress, a.Primary]),
      [
        ["10.50.2.9", true],
        ["10.50.2.8", false],
      ],
    );
  });

  test("explicit addresses: in use, outside the subnet, reserved", async () => {
    const eni = await newInterface({ PrivateIpAddress: "10.50.1.50" });
    assert.equal(eni.PrivateIpAddress, "10.50.1.50");
    assert.equal(await errorCode(newInterface({ PrivateIpAddress: "10.50.1.50" })), "InvalidIPAddress.InUse");
    try {
      await newInterface({ PrivateIpAddress: "10.50.7.7" });
      assert.fail("an address outside the subnet was accepted");
    } catch (error) {
      assert.equal((error as Error).name, "InvalidParameterValue");
      assert.match((error as Error).message, /does not fall within the subnet's address range/);
    }
    assert.equal(
      await errorCode(newInterface({ PrivateIpAddress: "10.50.1.255" })),
      "InvalidParameterValue",
      "broadcast is reserved",
    );
    assert.equal(
      await errorCode(newInterface({ PrivateIpAddress: "10.50.1.3" })),
      "InvalidParameterValue",
      "base+3 is reserved",
    );
  });

  test("address counts: not negative, at most 50 addresses an interface, no count beside several named addresses", async () => {
    const code = (input: Record<string, unknown>) =>
      errorCode(cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId, ...input })));
    assert.equal(await code({ SecondaryPrivateIpAddressCount: -1 }), "InvalidParameterValue");
    assert.equal(await code({ Ipv6AddressCount: -1 }), "InvalidParameterValue");
    // the primary and 50 more are 51
    assert.equal(await code({ SecondaryPrivateIpAddressCount: 50 }), "PrivateIpAddressLimitExceeded");
    assert.equal(await code({ SecondaryPrivateIpAddressCount: 100_000 }), "PrivateIpAddressLimitExceeded");
    assert.equal(
      await code({
        SecondaryPrivateIpAddressCount: 1,
        PrivateIpAddresses: [
          { PrivateIpAddress: "10.50.1.200", Primary: true },
          { PrivateIpAddress: "10.50.1.201", Primary: false },
        ],
      }),
      "InvalidParameterCombination",
    );
    // other interface types and delegated prefixes are not made here: refused, never dropped
    assert.equal(await code({ InterfaceType: "trunk" }), "UnsupportedOperation");
    assert.equal(await code({ InterfaceType: "bogus" }), "InvalidParameterValue");
    assert.equal(await code({ Ipv6PrefixCount: 1 }), "UnsupportedOperation");
    const before = await interfaceIds([{ Name: "subnet-id", Values: [subnetId] }]);
    const most = await newInterface({ SecondaryPrivateIpAddressCount: 49 });
    assert.equal(most.PrivateIpAddresses?.length, 50);
    assert.equal(new Set(most.PrivateIpAddresses?.map((a) => a.PrivateIpAddress)).size, 50);
    await cp.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: most.NetworkInterfaceId }));
    assert.deepEqual(await interfaceIds([{ Name: "subnet-id", Values: [subnetId] }]), before);
  });

  test("groups: at most 5, all of the interface's VPC, known and well-formed", async () => {
    const before = await interfaceIds([{ Name: "subnet-id", Values: [subnetId] }]);
    assert.equal(
      await errorCode(newInterface({ Groups: groups })),
      "SecurityGroupsPerInterfaceLimitExceeded",
    );
    assert.equal(await errorCode(newInterface({ Groups: [foreignGroupId] })), "InvalidGroup.NotFound");
    assert.equal(
      await errorCode(newInterface({ Groups: ["sg-0123456789abcdef0"] })),
      "InvalidGroup.NotFound",
    );
    assert.equal(await errorCode(newInterface({ Groups: ["sg-q"] })), "InvalidGroupId.Malformed");
    assert.equal(
      await errorCode(newInterface({ SubnetId: "subnet-0123456789abcdef0" })),
      "InvalidSubnetID.NotFound",
    );
    assert.equal(await errorCode(newInterface({ DryRun: true })), "DryRunOperation");
    const five = await newInterface({ Groups: groups.slice(0, 5) });
    assert.deepEqual(groupIdsOf(five), groups.slice(0, 5).sort());
    const after = await interfaceIds([{ Name: "subnet-id", Values: [subnetId] }]);
    assert.deepEqual(
      after,
      [...before, five.NetworkInterfaceId as string].sort(),
      "only the valid request created one",
    );
  });
});

describe("ModifyNetworkInterfaceAttribute", () => {
  test("Groups replaces the set; quota, foreign and unknown groups are refused and change nothing", async () => {
    const eni = await newInterface({ Groups: [groups[0] as string] });
    const id = eni.NetworkInterfaceId as string;
    await cp.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: id,
        Groups: [groups[1] as string, groups[2] as string],
      }),
    );
    assert.deepEqual(groupIdsOf(await describeInterface(id)), [groups[1], groups[2]].sort());
    const code = (input: object) =>
      errorCode(
        cp.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, ...input })),
      );
    assert.equal(await code({ Groups: groups }), "SecurityGroupsPerInterfaceLimitExceeded");
    assert.equal(await code({ Groups: [foreignGroupId] }), "InvalidGroup.NotFound");
    assert.equal(await code({ Groups: ["sg-0123456789abcdef0"] }), "InvalidGroup.NotFound");
    assert.equal(await code({}), "InvalidParameterCombination");
    assert.equal(await code({ Groups: [groups[3] as string], DryRun: true }), "DryRunOperation");
    assert.deepEqual(groupIdsOf(await describeInterface(id)), [groups[1], groups[2]].sort());
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: UNKNOWN_ENI,
            Groups: [groups[0] as string],
          }),
        ),
      ),
      "InvalidNetworkInterfaceID.NotFound",
    );
  });

  test("changing the primary interface's groups changes the instance's groups (groupSet mirrors device 0)", async () => {
    const run = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        SecurityGroupIds: [groups[0] as string],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    const primary = run.Instances?.[0]?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    await cp.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: primary,
        Groups: [groups[3] as string, groups[4] as string],
      }),
    );
    const described = await cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    assert.deepEqual(
      (described.Reservations?.[0]?.Instances?.[0]?.SecurityGroups ?? []).map((g) => g.GroupId).sort(),
      [groups[3], groups[4]].sort(),
    );
    const attribute = await cp.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: "groupSet" }),
    );
    assert.deepEqual((attribute.Groups ?? []).map((g) => g.GroupId).sort(), [groups[3], groups[4]].sort());
  });

  test("Description and SourceDestCheck", async () => {
    const eni = await newInterface();
    const id = eni.NetworkInterfaceId as string;
    await cp.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: id,
        Description: { Value: "renamed" },
      }),
    );
    await cp.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: id,
        SourceDestCheck: { Value: false },
      }),
    );
    const described = await describeInterface(id);
    assert.equal(described.Description, "renamed");
    assert.equal(described.SourceDestCheck, false);
    assert.deepEqual(groupIdsOf(described), [defaultGroupId], "groups untouched");
    // at most 255 characters, as at creation
    const tooLong = cp.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: id,
        Description: { Value: "d".repeat(256) },
      }),
    );
    assert.equal(await errorCode(tooLong), "InvalidParameterValue");
    assert.equal((await describeInterface(id)).Description, "renamed");
    // one attribute at a time, as the model says; the refused request changes nothing
    await assert.rejects(
      cp.ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: id,
          Description: { Value: "both" },
          SourceDestCheck: { Value: true },
        }),
      ),
      { name: "InvalidParameterCombination", message: "Only one attribute can be modified at a time." },
    );
    const unchanged = await describeInterface(id);
    assert.equal(unchanged.Description, "renamed");
    assert.equal(unchanged.SourceDestCheck, false);
    // a repeated id is one interface
    const twice = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id, id] }));
    assert.deepEqual(
      twice.NetworkInterfaces?.map((e) => e.NetworkInterfaceId),
      [id],
    );
  });
});

describe("connection tracking timeouts", () => {
  test("set on create, at launch and by Modify (only the values named change); bounds; unkept attributes refused", async () => {
    const eni = await newInterface({ ConnectionTrackingSpecification: { TcpEstablishedTimeout: 3600 } });
    assert.deepEqual(eni.ConnectionTrackingConfiguration, { TcpEstablishedTimeout: 3600 });
    const id = eni.NetworkInterfaceId as string;
    await cp.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: id,
        ConnectionTrackingSpecification: { UdpTimeout: 45 },
      }),
    );
    assert.deepEqual((await describeInterface(id)).ConnectionTrackingConfiguration, {
      TcpEstablishedTimeout: 3600,
      UdpTimeout: 45,
    });
    const modify = (spec: Record<string, number | undefined>) =>
      errorCode(
        cp.ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: id,
            ConnectionTrackingSpecification: spec,
          }),
        ),
      );
    for (const spec of [
      { TcpEstablishedTimeout: 59 },
      { TcpEstablishedTimeout: 432_001 },
      { UdpStreamTimeout: 181 },
      { UdpTimeout: 29 },
      { UdpTimeout: 61 },
    ]) {
      assert.equal(await modify(spec), "InvalidParameterValue", JSON.stringify(spec));
    }
    assert.deepEqual(
      (await describeInterface(id)).ConnectionTrackingConfiguration,
      { TcpEstablishedTimeout: 3600, UdpTimeout: 45 },
      "refused changes changed nothing",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: id,
            AssociatePublicIpAddress: true,
          }),
        ),
      ),
      "UnsupportedOperation",
    );
    assert.equal((await newInterface()).ConnectionTrackingConfiguration, undefined, "none unless asked for");

    const launched = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: subnetId, ConnectionTrackingSpecification: { UdpStreamTimeout: 60 } },
        ],
      }),
    );
    const instance = launched.Instances?.[0];
    assert.deepEqual(instance?.NetworkInterfaces?.[0]?.ConnectionTrackingConfiguration, {
      UdpStreamTimeout: 60,
    });
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance?.InstanceId as string] }));
    // an existing interface keeps its own: naming one at launch is refused, not dropped
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            NetworkInterfaces: [
              { DeviceIndex: 0, NetworkInterfaceId: id, ConnectionTrackingSpecification: { UdpTimeout: 60 } },
            ],
          }),
        ),
      ),
      "InvalidParameterCombination",
    );
  });
});

describe("attachments", () => {
  test("attach at index 1, in-use, cannot be deleted; detach, available, delete; the primary cannot be detached", async () => {
    const run = await cp.ec2.send(
      new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId as string;
    const primary = run.Instances?.[0]?.NetworkInterfaces?.[0];
    const eni = await newInterface({ Groups: [groups[4] as string] });
    const id = eni.NetworkInterfaceId as string;
    const attached = await cp.ec2.send(
      new AttachNetworkInterfaceCommand({ NetworkInterfaceId: id, InstanceId: instanceId, DeviceIndex: 1 }),
    );
    assert.match(attached.AttachmentId ?? "", /^eni-attach-[0-9a-f]{17}$/);
    const inUse = await describeInterface(id);
    assert.equal(inUse.Status, "in-use");
    assert.equal(inUse.Attachment?.InstanceId, instanceId);
    assert.equal(inUse.Attachment?.DeviceIndex, 1);
    assert.equal(inUse.Attachment?.AttachmentId, attached.AttachmentId);
    assert.equal(inUse.Attachment?.DeleteOnTermination, false);
    assert.deepEqual(
      await interfaceIds([{ Name: "attachment.instance-id", Values: [instanceId] }]),
      [primary?.NetworkInterfaceId as string, id].sort(),
    );
    assert.deepEqual(
      await interfaceIds([
        { Name: "attachment.instance-id", Values: [instanceId] },
        { Name: "attachment.device-index", Values: ["1"] },
      ]),
      [id],
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }))),
      "InvalidNetworkInterface.InUse",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: primary?.NetworkInterfaceId })),
      ),
      "InvalidNetworkInterface.InUse",
    );
    // Two interfaces now: instance-level group changes are refused, interface-level ones work.
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [groups[0] as string] }),
        ),
      ),
      "InvalidInstanceID",
    );
    const other = await newInterface();
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new AttachNetworkInterfaceCommand({
            NetworkInterfaceId: other.NetworkInterfaceId,
            InstanceId: instanceId,
            DeviceIndex: 1,
          }),
        ),
      ),
      "InvalidParameterValue",
      "device index 1 is taken",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new AttachNetworkInterfaceCommand({
            NetworkInterfaceId: id,
            InstanceId: instanceId,
            DeviceIndex: 2,
          }),
        ),
      ),
      "InvalidNetworkInterface.InUse",
      "already attached",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: primary?.Attachment?.AttachmentId })),
      ),
      "OperationNotPermitted",
    );
    await cp.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId }));
    const detached = await describeInterface(id);
    assert.equal(detached.Status, "available");
    assert.equal(detached.Attachment, undefined);
    await cp.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [groups[0] as string] }),
    );
    await cp.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))),
      "InvalidNetworkInterfaceID.NotFound",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: "eni-attach-0123456789abcdef0" })),
      ),
      "InvalidAttachmentID.NotFound",
    );
  });

  test("an existing interface launched with an instance keeps its groups and survives termination", async () => {
    const eni = await newInterface({ Groups: [groups[5] as string] });
    const id = eni.NetworkInterfaceId as string;
    const run = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: id }],
      }),
    );
    const instance = run.Instances?.[0];
    assert.equal(instance?.PrivateIpAddress, eni.PrivateIpAddress);
    assert.deepEqual(
      (instance?.SecurityGroups ?? []).map((g) => g.GroupId),
      [groups[5]],
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: id }],
          }),
        ),
      ),
      "InvalidNetworkInterface.InUse",
    );
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance?.InstanceId as string] }));
    const after = await describeInterface(id);
    assert.equal(
      after.Status,
      "available",
      "DeleteOnTermination defaults to false for an existing interface",
    );
    assert.deepEqual(groupIdsOf(after), [groups[5]]);
  });
});

describe("DescribeNetworkInterfaces", () => {
  let filterSubnet: string;
  const made: NetworkInterface[] = [];

  before(async () => {
    filterSubnet = await newSubnet("10.50.9.0/24");
    made.push(
      await newInterface({ SubnetId: filterSubnet, Groups: [groups[0] as string], Description: "alpha" }),
    );
    made.push(
      await newInterface({
        SubnetId: filterSubnet,
        Groups: [groups[1] as string],
        Description: "beta",
        SecondaryPrivateIpAddressCount: 1,
        TagSpecifications: [{ ResourceType: "network-interface", Tags: [{ Key: "tier", Value: "web" }] }],
      }),
    );
    for (let i = 0; i < 5; i++)
      made.push(await newInterface({ SubnetId: filterSubnet, Groups: [groups[2] as string] }));
  });

  test("filters: group-id, private-ip-address, addresses.private-ip-address, description, status, tag", async () => {
    const [alpha, beta] = made;
    const sub = { Name: "subnet-id", Values: [filterSubnet] };
    assert.deepEqual(await interfaceIds([sub, { Name: "group-id", Values: [groups[0] as string] }]), [
      alpha?.NetworkInterfaceId,
    ]);
    // alpha .4; beta .5 with secondary .6; the rest .7 to .11.
    assert.deepEqual(await interfaceIds([{ Name: "private-ip-address", Values: ["10.50.9.4"] }]), [
      alpha?.NetworkInterfaceId,
    ]);
    assert.deepEqual(await interfaceIds([{ Name: "addresses.private-ip-address", Values: ["10.50.9.6"] }]), [
      beta?.NetworkInterfaceId,
    ]);
    assert.deepEqual(await interfaceIds([sub, { Name: "description", Values: ["be*"] }]), [
      beta?.NetworkInterfaceId,
    ]);
    assert.deepEqual(await interfaceIds([{ Name: "tag:tier", Values: ["web"] }]), [beta?.NetworkInterfaceId]);
    assert.equal((await interfaceIds([sub, { Name: "status", Values: ["available"] }])).length, 7);
    assert.deepEqual(await interfaceIds([sub, { Name: "status", Values: ["in-use"] }]), []);
    assert.deepEqual(
      await interfaceIds([sub, { Name: "group-id", Values: [groups[2] as string] }]),
      made
        .slice(2)
        .map((e) => e.NetworkInterfaceId as string)
        .sort(),
    );
  });

  test("pagination round trip; MaxResults with ids is refused; malformed and unknown ids", async () => {
    const Filters = [{ Name: "subnet-id", Values: [filterSubnet] }];
    const first = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ Filters, MaxResults: 5 }));
    assert.equal(first.NetworkInterfaces?.length, 5);
    assert.ok(first.NextToken);
    const second = await cp.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters, MaxResults: 5, NextToken: first.NextToken }),
    );
    assert.equal(second.NetworkInterfaces?.length, 2);
    assert.equal(second.NextToken, undefined);
    assert.deepEqual(
      [...(first.NetworkInterfaces ?? []), ...(second.NetworkInterfaces ?? [])]
        .map((e) => e.NetworkInterfaceId)
        .sort(),
      made.map((e) => e.NetworkInterfaceId).sort(),
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new DescribeNetworkInterfacesCommand({
            NetworkInterfaceIds: [made[0]?.NetworkInterfaceId as string],
            MaxResults: 5,
          }),
        ),
      ),
      "InvalidParameterCombination",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ["eni-zz"] }))),
      "InvalidNetworkInterfaceId.Malformed",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [UNKNOWN_ENI] })),
      ),
      "InvalidNetworkInterfaceID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: UNKNOWN_ENI }))),
      "InvalidNetworkInterfaceID.NotFound",
    );
  });
});

describe("the aws CLI", () => {
  test("create-network-interface with groups, modify-network-interface-attribute --groups, describe, delete", async () => {
    const created = await cp.aws([
      "create-network-interface",
      "--subnet-id",
      subnetId,
      "--groups",
      groups[0] as string,
      groups[1] as string,
      "--description",
      "from the cli",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const eni = (
      created.json as { NetworkInterface: { NetworkInterfaceId: string; Groups: { GroupId: string }[] } }
    ).NetworkInterface;
    assert.deepEqual(eni.Groups.map((g) => g.GroupId).sort(), [groups[0], groups[1]].sort());
    const modified = await cp.aws([
      "modify-network-interface-attribute",
      "--network-interface-id",
      eni.NetworkInterfaceId,
      "--groups",
      groups[3] as string,
    ]);
    assert.equal(modified.code, 0, modified.stderr);
    const described = await cp.aws([
      "describe-network-interfaces",
      "--network-interface-ids",
      eni.NetworkInterfaceId,
      "--query",
      "NetworkInterfaces[0].Groups[].GroupId",
    ]);
    assert.deepEqual(described.json, [groups[3]]);
    const tooMany = await cp.aws([
      "modify-network-interface-attribute",
      "--network-interface-id",
      eni.NetworkInterfaceId,
      "--groups",
      ...groups,
    ]);
    assert.notEqual(tooMany.code, 0);
    assert.match(tooMany.stderr, /SecurityGroupsPerInterfaceLimitExceeded/);
    const deleted = await cp.aws([
      "delete-network-interface",
      "--network-interface-id",
      eni.NetworkInterfaceId,
    ]);
    assert.equal(deleted.code, 0, deleted.stderr);
  });
});
