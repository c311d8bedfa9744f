// RunInstances, DescribeInstances, state changes and the instance-level group actions against the
// real server (no lab runtime: instances are records), through the SDK and the aws CLI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type Instance,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let vpcId: string;
let subnetId: string;
let defaultVpcId: string;
let defaultGroupId: string;
let otherVpcGroupId: string;
const groups: string[] = [];

const IMAGE = "ami-0123456789abcdef0";
const UNKNOWN_INSTANCE = "i-0123456789abcdef0";

async function newGroup(name: string, vpc = vpcId): Promise<string> {
  const out = await cp.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpc }),
  );
  return out.GroupId as string;
}

async function newSubnet(cidr: string, vpc = vpcId): Promise<string> {
  const out = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr }));
  return out.Subnet?.SubnetId as string;
}

async function run(input: Partial<RunInstancesCommandInput> = {}): Promise<Instance[]> {
  const out = await cp.ec2.send(
    new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, ...input }),
  );
  return out.Instances ?? [];
}

/** The error code of a one-instance launch with these interfaces. */
const launchError = (NetworkInterfaces: RunInstancesCommandInput["NetworkInterfaces"]) =>
  errorCode(
    cp.ec2.send(new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, NetworkInterfaces })),
  );

async function describeInstance(id: string): Promise<Instance> {
  const out = await cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  assert.equal(out.Reservations?.length, 1);
  return out.Reservations?.[0]?.Instances?.[0] as Instance;
}

async function allInstanceIds(): Promise<string[]> {
  const out = await cp.ec2.send(new DescribeInstancesCommand({}));
  return (out.Reservations ?? [])
    .flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId as string))
    .sort();
}

async function allInterfaceIds(): Promise<string[]> {
  const out = await cp.ec2.send(new DescribeNetworkInterfacesCommand({}));
  return (out.NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId as string).sort();
}

async function freeAddresses(subnet: string): Promise<number | undefined> {
  const out = await cp.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }));
  return out.Subnets?.[0]?.AvailableIpAddressCount;
}

const groupIdsOf = (instance: Instance | undefined) =>
  (instance?.SecurityGroups ?? []).map((g) => g.GroupId).sort();

before(async () => {
  cp = await startControlPlane();
  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.30.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId as string;
  subnetId = await newSubnet("10.30.1.0/24");
  for (let i = 0; i < 6; i++) groups.push(await newGroup(`app-${i}`));
  const vpcs = await cp.ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["true"] }] }),
  );
  defaultVpcId = vpcs.Vpcs?.[0]?.VpcId as string;
  const defaults = await cp.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: "vpc-id", Values: [defaultVpcId] },
        { Name: "group-name", Values: ["default"] },
      ],
    }),
  );
  defaultGroupId = defaults.SecurityGroups?.[0]?.GroupId as string;
  otherVpcGroupId = await newGroup("elsewhere", defaultVpcId);
});

after(async () => {
  await cp.close();
});

describe("RunInstances", () => {
  test("without subnet or groups: a default subnet, the default VPC's default group, a public address, pending", async () => {
    const [instance] = await run();
    assert.match(instance?.InstanceId ?? "", /^i-[0-9a-f]{17}$/);
    assert.deepEqual(instance?.State, { Code: 0, Name: "pending" });
    assert.equal(instance?.ImageId, IMAGE);
    assert.equal(instance?.VpcId, defaultVpcId);
    const subnets = await cp.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
    );
    const subnet = subnets.Subnets?.find((s) => s.SubnetId === instance?.SubnetId);
    assert.ok(subnet, "launched into one of the default subnets");
    assert.equal(instance?.Placement?.AvailabilityZone, subnet?.AvailabilityZone);
    assert.deepEqual(instance?.SecurityGroups, [{ GroupId: defaultGroupId, GroupName: "default" }]);
    // The default subnet is 172.31.x.0/20 and still empty: its first usable address is base + 4.
    const base = (subnet?.CidrBlock ?? "").replace(/\.0\/20$/, "");
    assert.equal(instance?.PrivateIpAddress, `${base}.4`);
    assert.ok(instance?.PublicIpAddress, "default subnets map a public address on launch");
    assert.equal(instance?.NetworkInterfaces?.length, 1);
    const eni = instance?.NetworkInterfaces?.[0];
    assert.equal(eni?.Attachment?.DeviceIndex, 0);
    assert.equal(eni?.Attachment?.DeleteOnTermination, true);
    assert.equal(eni?.PrivateIpAddress, instance?.PrivateIpAddress);
    assert.deepEqual(eni?.Groups, [{ GroupId: defaultGroupId, GroupName: "default" }]);
    assert.equal(eni?.Status, "in-use");
    const described = await describeInstance(instance?.InstanceId as string);
    assert.deepEqual(described.State, { Code: 16, Name: "running" });
  });

  test("MinCount 2 / MaxCount 3 in a fresh subnet: three instances, one reservation, addresses base+4.., no public IP", async () => {
    const subnet = await newSubnet("10.30.2.0/24");
    const out = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        MinCount: 2,
        MaxCount: 3,
        SubnetId: subnet,
        SecurityGroupIds: [groups[0] as string],
        InstanceType: "t3.nano",
      }),
    );
    assert.match(out.ReservationId ?? "", /^r-[0-9a-f]{17}$/);
    assert.equal(out.OwnerId, cp.server.accountId);
    const instances = out.Instances ?? [];
    assert.equal(instances.length, 3);
    assert.deepEqual(
      instances.map((i) => i.AmiLaunchIndex),
      [0, 1, 2],
    );
    assert.deepEqual(
      instances.map((i) => i.PrivateIpAddress),
      ["10.30.2.4", "10.30.2.5", "10.30.2.6"],
    );
    for (const instance of instances) {
      assert.equal(instance.SubnetId, subnet);
      assert.equal(instance.VpcId, vpcId);
      assert.equal(instance.InstanceType, "t3.nano");
      assert.equal(instance.PublicIpAddress, undefined, "a new subnet does not map public addresses");
      assert.deepEqual(groupIdsOf(instance), [groups[0]]);
    }
    assert.equal(await freeAddresses(subnet), 256 - 5 - 3);
    const byReservation = await cp.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "reservation-id", Values: [out.ReservationId as string] }],
      }),
    );
    assert.equal(byReservation.Reservations?.length, 1);
    assert.equal(byReservation.Reservations?.[0]?.Instances?.length, 3);
  });

  test("two groups: both are the instance's groups (roles), and each finds it in instance.group-id", async () => {
    const [instance] = await run({
      SubnetId: subnetId,
      SecurityGroupIds: [groups[1] as string, groups[2] as string],
    });
    const id = instance?.InstanceId as string;
    assert.deepEqual(groupIdsOf(instance), [groups[1], groups[2]].sort());
    for (const group of [groups[1], groups[2]]) {
      const out = await cp.ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: "instance.group-id", Values: [group as string] }] }),
      );
      const ids = (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId));
      assert.deepEqual(ids, [id]);
    }
  });

  test("an explicit PrivateIpAddress: taken, outside the subnet, reserved, or with MaxCount > 1", async () => {
    const [instance] = await run({ SubnetId: subnetId, PrivateIpAddress: "10.30.1.100" });
    assert.equal(instance?.PrivateIpAddress, "10.30.1.100");
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
            PrivateIpAddress: "10.30.1.100",
          }),
        ),
      ),
      "InvalidIPAddress.InUse",
    );
    try {
      await run({ SubnetId: subnetId, PrivateIpAddress: "10.30.9.9" });
      assert.fail("an address outside the subnet was accepted");
    } catch (error) {
      assert.equal((error as Error).name, "InvalidParameterValue");
      assert.match(
        (error as Error).message,
        /Address 10\.30\.9\.9 does not fall within the subnet's address range/,
      );
    }
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
            PrivateIpAddress: "10.30.1.1",
          }),
        ),
      ),
      "InvalidParameterValue",
      "the first four addresses are EC2's",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 2,
            SubnetId: subnetId,
            PrivateIpAddress: "10.30.1.101",
          }),
        ),
      ),
      "InvalidParameterCombination",
    );
  });

  test("refused combinations and groups: 6 groups, group of another VPC, unknown or malformed group, names with a subnet", async () => {
    const before = await allInstanceIds();
    const code = (input: Partial<RunInstancesCommandInput>) =>
      errorCode(cp.ec2.send(new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, ...input })));
    assert.equal(
      await code({ SubnetId: subnetId, SecurityGroupIds: groups }),
      "SecurityGroupsPerInstanceLimitExceeded",
    );
    assert.equal(await code({ SubnetId: subnetId, SecurityGroupIds: [otherVpcGroupId] }), "InvalidParameter");
    assert.equal(
      await code({ SubnetId: subnetId, SecurityGroupIds: ["sg-0123456789abcdef0"] }),
      "InvalidGroup.NotFound",
    );
    assert.equal(
      await code({ SubnetId: subnetId, SecurityGroupIds: ["sg-nope"] }),
      "InvalidGroupId.Malformed",
    );
    await assert.rejects(
      cp.ec2.send(
        new RunInstancesCommand({
          ImageId: IMAGE,
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
          SecurityGroupIds: [""],
        }),
      ),
      {
        name: "MissingParameter",
        message: "When specifying a security group you must specify a group id for each item",
      },
    );
    assert.equal(
      await code({ SubnetId: subnetId, SecurityGroups: ["default"] }),
      "InvalidParameterCombination",
    );
    assert.equal(
      await code({ SubnetId: subnetId, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId }] }),
      "InvalidParameterCombination",
    );
    assert.equal(
      await code({
        SecurityGroupIds: [groups[0] as string],
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId }],
      }),
      "InvalidParameterCombination",
    );
    assert.equal(await code({ SubnetId: "subnet-0123456789abcdef0" }), "InvalidSubnetID.NotFound");
    assert.equal(await code({ SubnetId: "subnet-zz" }), "InvalidSubnetID.Malformed");
    assert.deepEqual(await allInstanceIds(), before, "no failed launch left an instance");
  });

  test("group names work for the default VPC without a subnet", async () => {
    const [instance] = await run({ SecurityGroups: ["elsewhere"] });
    assert.equal(instance?.VpcId, defaultVpcId);
    assert.deepEqual(groupIdsOf(instance), [otherVpcGroupId]);
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance?.InstanceId as string] }));
  });

  test("a launch that fails on its second interface leaves no instance and no interface behind", async () => {
    const taken = await cp.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnetId, PrivateIpAddress: "10.30.1.200" }),
    );
    assert.equal(taken.NetworkInterface?.PrivateIpAddress, "10.30.1.200");
    const instancesBefore = await allInstanceIds();
    const interfacesBefore = await allInterfaceIds();
    const freeBefore = await freeAddresses(subnetId);
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            NetworkInterfaces: [
              { DeviceIndex: 0, SubnetId: subnetId },
              { DeviceIndex: 1, SubnetId: subnetId, PrivateIpAddress: "10.30.1.200" },
            ],
          }),
        ),
      ),
      "InvalidIPAddress.InUse",
    );
    assert.deepEqual(await allInstanceIds(), instancesBefore);
    assert.deepEqual(await allInterfaceIds(), interfacesBefore);
    assert.equal(await freeAddresses(subnetId), freeBefore);
  });

  test("DryRun answers DryRunOperation and launches nothing", async () => {
    const before = await allInstanceIds();
    const interfaces = await allInterfaceIds();
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
            DryRun: true,
          }),
        ),
      ),
      "DryRunOperation",
    );
    assert.deepEqual(await allInstanceIds(), before);
    assert.deepEqual(await allInterfaceIds(), interfaces);
  });
});

describe("DescribeInstances", () => {
  let running: string;
  let stopped: string;

  before(async () => {
    const subnet = await newSubnet("10.30.3.0/24");
    const out = await run({
      SubnetId: subnet,
      MinCount: 2,
      MaxCount: 2,
      SecurityGroupIds: [groups[3] as string],
    });
    running = out[0]?.InstanceId as string;
    stopped = out[1]?.InstanceId as string;
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));
  });

  const ids = async (Filters: { Name: string; Values: string[] }[]) => {
    const out = await cp.ec2.send(new DescribeInstancesCommand({ Filters }));
    return (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId)).sort();
  };

  test("filters: instance-state-name, instance-state-code, private-ip-address, instance.group-id, subnet-id", async () => {
    const group = groups[3] as string;
    assert.deepEqual(
      await ids([
        { Name: "instance.group-id", Values: [group] },
        { Name: "instance-state-name", Values: ["running"] },
      ]),
      [running],
    );
    assert.deepEqual(
      await ids([
        { Name: "instance.group-id", Values: [group] },
        { Name: "instance-state-code", Values: ["80"] },
      ]),
      [stopped],
    );
    assert.deepEqual(await ids([{ Name: "private-ip-address", Values: ["10.30.3.5"] }]), [stopped]);
    assert.deepEqual(
      await ids([{ Name: "private-ip-address", Values: ["10.30.3.4", "10.30.3.5"] }]),
      [running, stopped].sort(),
    );
    assert.deepEqual(await ids([{ Name: "instance.group-id", Values: [group] }]), [running, stopped].sort());
    assert.deepEqual(
      await ids([{ Name: "instance.group-name", Values: ["app-3"] }]),
      [running, stopped].sort(),
    );
    assert.deepEqual(
      await ids([{ Name: "private-ip-address", Values: ["10.30.3.*"] }]),
      [running, stopped].sort(),
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] })),
      ),
      "InvalidParameterValue",
    );
  });

  test("private-ip-address is the primary address only; ip-address and network-interface.association.public-ip see an Elastic IP", async () => {
    const [instance] = await run({
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, SecondaryPrivateIpAddressCount: 1 }],
    });
    const id = instance?.InstanceId as string;
    const addresses = instance?.NetworkInterfaces?.[0]?.PrivateIpAddresses ?? [];
    const primaryIp = addresses.find((a) => a.Primary)?.PrivateIpAddress as string;
    const secondaryIp = addresses.find((a) => !a.Primary)?.PrivateIpAddress as string;
    const matching = async (Name: string, value: string) => {
      const out = await cp.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name, Values: [value] }] }));
      return (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId));
    };
    assert.deepEqual(await matching("private-ip-address", primaryIp), [id]);
    assert.deepEqual(await matching("private-ip-address", secondaryIp), []);
    const eip = await cp.ec2.send(new AllocateAddressCommand({ Domain: "vpc" }));
    await cp.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: id }));
    const shown = await describeInstance(id);
    assert.equal(shown.PublicIpAddress, eip.PublicIp);
    assert.deepEqual(await matching("ip-address", eip.PublicIp as string), [id]);
    assert.deepEqual(await matching("network-interface.association.public-ip", eip.PublicIp as string), [id]);
  });

  test("pagination over reservations; MaxResults with ids is InvalidParameterCombination", async () => {
    const all = await cp.ec2.send(new DescribeInstancesCommand({}));
    const reservations = (all.Reservations ?? []).map((r) => r.ReservationId).sort();
    assert.ok(reservations.length > 5, "enough reservations for two pages");
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await cp.ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: token }));
      assert.ok((page.Reservations?.length ?? 0) <= 5);
      seen.push(...(page.Reservations ?? []).map((r) => r.ReservationId as string));
      token = page.NextToken;
      pages++;
    } while (token && pages < 20);
    assert.equal(pages, Math.ceil(reservations.length / 5));
    assert.deepEqual(seen.sort(), reservations);
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [running], MaxResults: 5 }))),
      "InvalidParameterCombination",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: "garbage" }))),
      "InvalidPaginationToken",
    );
  });

  test("unknown and malformed ids", async () => {
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [UNKNOWN_INSTANCE] }))),
      "InvalidInstanceID.NotFound",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [running, UNKNOWN_INSTANCE] })),
      ),
      "InvalidInstanceID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-bad"] }))),
      "InvalidInstanceID.Malformed",
    );
  });
});

describe("state changes", () => {
  test("stop 16→64 (then 80), start 80→0 (then 16), terminate 16→32 (then 48), terminate again 48→48", async () => {
    const [instance] = await run({ SubnetId: subnetId });
    const id = instance?.InstanceId as string;
    const stop = await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(stop.StoppingInstances, [
      {
        InstanceId: id,
        PreviousState: { Code: 16, Name: "running" },
        CurrentState: { Code: 64, Name: "stopping" },
      },
    ]);
    assert.deepEqual((await describeInstance(id)).State, { Code: 80, Name: "stopped" });
    const start = await cp.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(start.StartingInstances, [
      {
        InstanceId: id,
        PreviousState: { Code: 80, Name: "stopped" },
        CurrentState: { Code: 0, Name: "pending" },
      },
    ]);
    assert.deepEqual((await describeInstance(id)).State, { Code: 16, Name: "running" });
    const noop = await cp.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(
      noop.StartingInstances?.[0]?.CurrentState,
      { Code: 16, Name: "running" },
      "starting a running instance is a no-op",
    );
    const terminate = await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(terminate.TerminatingInstances, [
      {
        InstanceId: id,
        PreviousState: { Code: 16, Name: "running" },
        CurrentState: { Code: 32, Name: "shutting-down" },
      },
    ]);
    assert.deepEqual((await describeInstance(id)).State, { Code: 48, Name: "terminated" });
    const again = await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(again.TerminatingInstances?.[0]?.PreviousState, { Code: 48, Name: "terminated" });
    assert.deepEqual(again.TerminatingInstances?.[0]?.CurrentState, { Code: 48, Name: "terminated" });
    assert.equal(
      await errorCode(cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }))),
      "IncorrectInstanceState",
    );
  });

  test("termination frees the interface, its address and its groups, which can then be deleted", async () => {
    const group = await newGroup("short-lived");
    const subnet = await newSubnet("10.30.4.0/24");
    const [instance] = await run({ SubnetId: subnet, SecurityGroupIds: [group] });
    const id = instance?.InstanceId as string;
    const eniId = instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    assert.equal(await freeAddresses(subnet), 256 - 5 - 1);
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group }))),
      "DependencyViolation",
      "the group is in use while the instance runs",
    );
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))),
      "InvalidNetworkInterfaceID.NotFound",
    );
    assert.equal(await freeAddresses(subnet), 256 - 5);
    const gone = await describeInstance(id);
    assert.equal(gone.PrivateIpAddress, undefined);
    assert.deepEqual(gone.NetworkInterfaces ?? [], []);
    await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group }));
    const [next] = await run({ SubnetId: subnet });
    assert.equal(next?.PrivateIpAddress, "10.30.4.4", "the freed address is handed out again");
  });

  test("a kept interface (DeleteOnTermination false) is detached from the terminated instance and belongs only to the next", async () => {
    const created = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    const kept = created.NetworkInterface?.NetworkInterfaceId as string;
    const withKept = (id?: string) =>
      run({
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: subnetId, DeleteOnTermination: false },
          { DeviceIndex: 1, NetworkInterfaceId: id ?? kept },
        ],
      });
    const [first] = await withKept();
    const firstId = first?.InstanceId as string;
    const primary = first?.NetworkInterfaces?.find((e) => e.Attachment?.DeviceIndex === 0)
      ?.NetworkInterfaceId as string;
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [firstId] }));
    const gone = await describeInstance(firstId);
    assert.deepEqual(gone.NetworkInterfaces ?? [], [], "a terminated instance has no interfaces");
    const enis = await cp.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [kept, primary] }),
    );
    for (const eni of enis.NetworkInterfaces ?? []) {
      assert.equal(eni.Status, "available");
      assert.equal(eni.Attachment, undefined);
    }
    assert.equal(enis.NetworkInterfaces?.length, 2);
    // a public address (one interface only, as EC2 takes it) goes with the instance, not the interface
    const [alone] = await run({
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: subnetId, DeleteOnTermination: false, AssociatePublicIpAddress: true },
      ],
    });
    const aloneEni = alone?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    assert.ok(alone?.PublicIpAddress, "launched with a public address");
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [alone?.InstanceId as string] }));
    const left = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [aloneEni] }));
    assert.equal(
      left.NetworkInterfaces?.[0]?.Association,
      undefined,
      "the launch's public address went with the instance",
    );
    const [second] = await withKept(kept);
    const holders = async (eni: string) => {
      const out = await cp.ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: "network-interface.network-interface-id", Values: [eni] }],
        }),
      );
      return (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId));
    };
    assert.deepEqual(await holders(kept), [second?.InstanceId]);
    assert.deepEqual(await holders(primary), []);
  });

  test("one unknown id fails the whole call and changes nothing; termination protection", async () => {
    const [instance] = await run({ SubnetId: subnetId, DisableApiTermination: true });
    const id = instance?.InstanceId as string;
    assert.equal(
      await errorCode(cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id, UNKNOWN_INSTANCE] }))),
      "InvalidInstanceID.NotFound",
    );
    assert.deepEqual((await describeInstance(id)).State, { Code: 16, Name: "running" });
    assert.equal(
      await errorCode(cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))),
      "OperationNotPermitted",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id], DryRun: true }))),
      "DryRunOperation",
    );
    assert.deepEqual(
      (await describeInstance(id)).State,
      { Code: 16, Name: "running" },
      "dry run changed nothing",
    );
    await cp.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: false } }),
    );
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.equal((await describeInstance(id)).State?.Name, "terminated");
  });
});

describe("ModifyInstanceAttribute and DescribeInstanceAttribute", () => {
  test("Groups replaces the primary interface's groups; groupSet and the interface show the new set", async () => {
    const [instance] = await run({ SubnetId: subnetId, SecurityGroupIds: [groups[0] as string] });
    const id = instance?.InstanceId as string;
    const eniId = instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    await cp.ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: id,
        Groups: [groups[4] as string, groups[5] as string],
      }),
    );
    const attribute = await cp.ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "groupSet" }),
    );
    assert.equal(attribute.InstanceId, id);
    assert.deepEqual(
      (attribute.Groups ?? []).map((g) => [g.GroupId, g.GroupName]).sort(),
      [
        [groups[4], "app-4"],
        [groups[5], "app-5"],
      ].sort(),
    );
    assert.deepEqual(groupIdsOf(await describeInstance(id)), [groups[4], groups[5]].sort());
    const eni = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    assert.deepEqual(
      (eni.NetworkInterfaces?.[0]?.Groups ?? []).map((g) => g.GroupId).sort(),
      [groups[4], groups[5]].sort(),
    );
    const code = (input: object) =>
      errorCode(cp.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, ...input })));
    assert.equal(await code({}), "InvalidParameterCombination", "no attribute");
    assert.equal(await code({ Groups: groups }), "SecurityGroupsPerInstanceLimitExceeded");
    assert.equal(await code({ Groups: [otherVpcGroupId] }), "InvalidGroup.NotFound");
    assert.equal(await code({ Groups: ["sg-0123456789abcdef0"] }), "InvalidGroup.NotFound");
    assert.equal(await code({ Groups: [groups[0] as string], DryRun: true }), "DryRunOperation");
    // what ringfence does not keep is refused rather than acknowledged and dropped
    assert.equal(await code({ Attribute: "foo", Value: "x" }), "InvalidParameterValue");
    assert.equal(await code({ UserData: { Value: new TextEncoder().encode("x") } }), "UnsupportedOperation");
    assert.equal(await code({ Attribute: "kernel", Value: "aki-1" }), "UnsupportedOperation");
    assert.deepEqual(
      groupIdsOf(await describeInstance(id)),
      [groups[4], groups[5]].sort(),
      "failures changed nothing",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ModifyInstanceAttributeCommand({ InstanceId: UNKNOWN_INSTANCE, Groups: [groups[0] as string] }),
        ),
      ),
      "InvalidInstanceID.NotFound",
    );
  });

  test("an instance with two interfaces: InvalidInstanceID, use the interface instead", async () => {
    const [instance] = await run({
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: subnetId, Groups: [groups[0] as string] },
        { DeviceIndex: 1, SubnetId: subnetId, Groups: [groups[1] as string] },
      ],
    });
    assert.equal(instance?.NetworkInterfaces?.length, 2);
    assert.deepEqual(groupIdsOf(instance), [groups[0]], "the instance's groups are its primary interface's");
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: instance?.InstanceId,
            Groups: [groups[2] as string],
          }),
        ),
      ),
      "InvalidInstanceID",
    );
    const filtered = await cp.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "network-interface.group-id", Values: [groups[1] as string] }],
      }),
    );
    const ids = (filtered.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId));
    assert.ok(ids.includes(instance?.InstanceId), "network-interface.group-id sees the second interface");
  });

  test("sourceDestCheck round trip and unknown attribute names", async () => {
    const [instance] = await run({ SubnetId: subnetId });
    const id = instance?.InstanceId as string;
    const read = async () =>
      (
        await cp.ec2.send(
          new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "sourceDestCheck" }),
        )
      ).SourceDestCheck?.Value;
    assert.equal(await read(), true);
    await cp.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, SourceDestCheck: { Value: false } }),
    );
    assert.equal(await read(), false);
    assert.equal(
      await errorCode(
        cp.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "colour" as never })),
      ),
      "InvalidParameterValue",
    );
    // an attribute of the model that ringfence does not keep is not "unknown"
    for (const attribute of ["userData", "disableApiStop", "rootDeviceName"] as const) {
      assert.equal(
        await errorCode(
          cp.ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: attribute })),
        ),
        "UnsupportedOperation",
        attribute,
      );
    }
  });

  test("sourceDestCheck is one attribute, the primary interface's, whichever action changes it", async () => {
    const [instance] = await run({ SubnetId: subnetId });
    const id = instance?.InstanceId as string;
    const eniId = instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
    const seen = async () => {
      const described = (await cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })))
        .Reservations?.[0]?.Instances?.[0];
      const attribute = (
        await cp.ec2.send(
          new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "sourceDestCheck" }),
        )
      ).SourceDestCheck?.Value;
      const eni = (await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })))
        .NetworkInterfaces?.[0];
      return [
        described?.SourceDestCheck,
        described?.NetworkInterfaces?.[0]?.SourceDestCheck,
        attribute,
        eni?.SourceDestCheck,
      ];
    };
    assert.deepEqual(await seen(), [true, true, true, true]);
    await cp.ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: id, SourceDestCheck: { Value: false } }),
    );
    assert.deepEqual(await seen(), [false, false, false, false]);
    await cp.ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eniId,
        SourceDestCheck: { Value: true },
      }),
    );
    assert.deepEqual(await seen(), [true, true, true, true]);
  });

  test("an id named twice is one instance", async () => {
    const [instance] = await run({ SubnetId: subnetId });
    const id = instance?.InstanceId as string;
    const described = await cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id, id] }));
    assert.deepEqual(
      described.Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId)),
      [id],
    );
    const stopped = await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id, id] }));
    assert.deepEqual(
      stopped.StoppingInstances?.map((i) => i.InstanceId),
      [id],
    );
  });
});

describe("launch details", () => {
  test("the same ClientToken returns the first reservation and launches nothing new", async () => {
    const first = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        ClientToken: "once-only",
      }),
    );
    const before = await allInstanceIds();
    const second = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
        ClientToken: "once-only",
      }),
    );
    assert.equal(second.ReservationId, first.ReservationId);
    assert.deepEqual(
      second.Instances?.map((i) => i.InstanceId),
      first.Instances?.map((i) => i.InstanceId),
    );
    assert.deepEqual(await allInstanceIds(), before);
  });

  test("TagSpecifications tag the instance and its interface separately; other types are refused", async () => {
    const [instance] = await run({
      SubnetId: subnetId,
      TagSpecifications: [
        { ResourceType: "instance", Tags: [{ Key: "Name", Value: "web-1" }] },
        { ResourceType: "network-interface", Tags: [{ Key: "nic", Value: "primary" }] },
      ],
    });
    assert.deepEqual(instance?.Tags, [{ Key: "Name", Value: "web-1" }]);
    const eni = await cp.ec2.send(
      new DescribeNetworkInterfacesCommand({
        NetworkInterfaceIds: [instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string],
      }),
    );
    assert.deepEqual(eni.NetworkInterfaces?.[0]?.TagSet, [{ Key: "nic", Value: "primary" }]);
    const byTag = await cp.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "tag:Name", Values: ["web-*"] }] }),
    );
    assert.deepEqual(
      (byTag.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId)),
      [instance?.InstanceId],
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
            TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "a", Value: "b" }] }],
          }),
        ),
      ),
      "InvalidParameterValue",
    );
  });

  test("MinCount above a subnet's free addresses launches nothing: InsufficientFreeAddressesInSubnet", async () => {
    const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.30.200.0/28" }));
    const id = subnet.Subnet?.SubnetId as string;
    const before = await allInstanceIds();
    assert.equal(
      await errorCode(
        cp.ec2.send(new RunInstancesCommand({ ImageId: IMAGE, MinCount: 12, MaxCount: 12, SubnetId: id })),
      ),
      "InsufficientFreeAddressesInSubnet",
      "a /28 has 16 - 5 = 11 addresses",
    );
    assert.deepEqual(await allInstanceIds(), before);
    assert.equal(await freeAddresses(id), 11);
  });

  test("in a full subnet a named address that cannot be had says why, before the subnet's lack of room", async () => {
    const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.30.207.0/28" }));
    const id = subnet.Subnet?.SubnetId as string;
    await run({ SubnetId: id, MinCount: 11, MaxCount: 11 });
    const launch = (PrivateIpAddress: string) =>
      errorCode(
        cp.ec2.send(
          new RunInstancesCommand({
            ImageId: IMAGE,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: id,
            PrivateIpAddress,
          }),
        ),
      );
    assert.equal(await launch("10.30.207.4"), "InvalidIPAddress.InUse");
    assert.equal(await launch("10.30.208.4"), "InvalidParameterValue", "outside the subnet");
    assert.equal(await launch("10.30.207.1"), "InvalidParameterValue", "reserved");
    assert.equal(await launch("banana"), "InvalidParameterValue");
    assert.equal(
      await errorCode(
        cp.ec2.send(new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, SubnetId: id })),
      ),
      "InsufficientFreeAddressesInSubnet",
    );
  });

  test("NetworkInterface.N: a public address only for one new interface at index 0; DeleteOnTermination only for a new one", async () => {
    const created = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    const existing = created.NetworkInterface?.NetworkInterfaceId as string;
    const before = await allInstanceIds();
    const launch = launchError;
    assert.equal(
      await launch([{ DeviceIndex: 0, NetworkInterfaceId: existing, DeleteOnTermination: true }]),
      "InvalidParameterCombination",
    );
    assert.equal(
      await launch([{ DeviceIndex: 0, NetworkInterfaceId: existing, AssociatePublicIpAddress: true }]),
      "InvalidParameterCombination",
    );
    // with several interfaces the parameter is refused wherever it is and whatever its value
    for (const [first, second] of [
      [true, undefined],
      [false, undefined],
      [undefined, false],
    ]) {
      assert.equal(
        await launch([
          { DeviceIndex: 0, SubnetId: subnetId, AssociatePublicIpAddress: first },
          { DeviceIndex: 1, SubnetId: subnetId, AssociatePublicIpAddress: second },
        ]),
        "InvalidParameterCombination",
      );
    }
    // what applies only to an interface the launch creates is refused with an existing one, not dropped
    for (const extra of [
      { SubnetId: subnetId },
      { PrivateIpAddress: "10.30.1.200" },
      { Description: "x" },
      { SecondaryPrivateIpAddressCount: 2 },
      { Groups: [groups[0] as string] },
    ]) {
      assert.equal(
        await launch([{ DeviceIndex: 0, NetworkInterfaceId: existing, ...extra }]),
        "InvalidParameterCombination",
        JSON.stringify(extra),
      );
    }
    // interfaces ringfence does not make: refused, a type the model does not have is a bad value
    assert.equal(
      await launch([{ DeviceIndex: 0, SubnetId: subnetId, InterfaceType: "efa" }]),
      "UnsupportedOperation",
    );
    assert.equal(
      await launch([{ DeviceIndex: 0, SubnetId: subnetId, InterfaceType: "bogus" }]),
      "InvalidParameterValue",
    );
    assert.equal(
      await launch([{ DeviceIndex: 0, SubnetId: subnetId, InterfaceType: "branch" }]),
      "InvalidParameterValue",
      "CreateNetworkInterface's types are not RunInstances'",
    );
    assert.equal(
      await launch([{ DeviceIndex: 0, SubnetId: subnetId, Ipv4PrefixCount: 1 }]),
      "UnsupportedOperation",
    );
    assert.equal(
      await launch([{ DeviceIndex: 0, SubnetId: subnetId, SecondaryPrivateIpAddressCount: 50 }]),
      "PrivateIpAddressLimitExceeded",
    );
    assert.equal(
      await launch([{ DeviceIndex: 0, SubnetId: subnetId, Description: "d".repeat(256) }]),
      "InvalidParameterValue",
    );
    assert.deepEqual(await allInstanceIds(), before);
    const still = await cp.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [existing] }),
    );
    assert.equal(still.NetworkInterfaces?.[0]?.Status, "available");
  });

  test("MaxCount above a subnet's free addresses launches as many as fit, at least MinCount (model doc of MaxCount)", async () => {
    const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.30.201.0/28" }));
    const id = subnet.Subnet?.SubnetId as string;
    const out = await cp.ec2.send(
      new RunInstancesCommand({ ImageId: IMAGE, MinCount: 2, MaxCount: 20, SubnetId: id }),
    );
    assert.equal(out.Instances?.length, 11);
    assert.equal(await freeAddresses(id), 0);
  });

  test("NetworkInterfaces: a public address on request, the per-instance group quota, one VPC and one zone, device indexes", async () => {
    const [instance] = await run({
      NetworkInterfaces: [
        {
          DeviceIndex: 0,
          SubnetId: subnetId,
          AssociatePublicIpAddress: true,
          SecondaryPrivateIpAddressCount: 1,
        },
      ],
    });
    assert.ok(instance?.PublicIpAddress, "asked for a public address");
    const secondary = instance?.NetworkInterfaces?.[0]?.PrivateIpAddresses?.find(
      (a) => !a.Primary,
    )?.PrivateIpAddress;
    assert.ok(secondary);
    const found = await cp.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "network-interface.addresses.private-ip-address", Values: [secondary as string] }],
      }),
    );
    assert.deepEqual(
      (found.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId)),
      [instance?.InstanceId],
    );
    const code = launchError;
    assert.equal(
      await code([{ DeviceIndex: 0, SubnetId: subnetId, Groups: groups }]),
      "SecurityGroupsPerInstanceLimitExceeded",
    );
    assert.equal(await code([{ DeviceIndex: 1, SubnetId: subnetId }]), "InvalidParameterValue");
    assert.equal(
      await code([{ DeviceIndex: 1, SubnetId: subnetId }, { SubnetId: subnetId }]),
      "InvalidParameterValue",
      "each interface needs a device index; none is taken to be 0",
    );
    const created = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    const existing = created.NetworkInterface?.NetworkInterfaceId as string;
    assert.equal(
      await code([
        { DeviceIndex: 0, SubnetId: subnetId },
        { DeviceIndex: 1, NetworkInterfaceId: existing },
        { DeviceIndex: 2, NetworkInterfaceId: existing },
      ]),
      "InvalidParameterValue",
      "one existing interface twice",
    );
    const stillFree = await cp.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [existing] }),
    );
    assert.equal(stillFree.NetworkInterfaces?.[0]?.Status, "available");
    const defaultSubnets = await cp.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
    );
    const elsewhere = defaultSubnets.Subnets?.[0]?.SubnetId as string;
    assert.equal(
      await code([
        { DeviceIndex: 0, SubnetId: subnetId },
        { DeviceIndex: 1, SubnetId: elsewhere },
      ]),
      "InvalidParameterValue",
      "interfaces in two VPCs",
    );
    assert.equal(
      await code([{ DeviceIndex: 0, SubnetId: elsewhere, Groups: [groups[0] as string] }]),
      "InvalidParameter",
    );
    const zoneOf = async (subnet: string) =>
      (await cp.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }))).Subnets?.[0]
        ?.AvailabilityZone as string;
    const home = await zoneOf(subnetId);
    const zones = ["us-east-1a", "us-east-1b"];
    const otherZone = (
      await cp.ec2.send(
        new CreateSubnetCommand({
          VpcId: vpcId,
          CidrBlock: "10.30.9.0/24",
          AvailabilityZone: zones.find((z) => z !== home),
        }),
      )
    ).Subnet?.SubnetId as string;
    assert.equal(
      await code([
        { DeviceIndex: 0, SubnetId: subnetId },
        { DeviceIndex: 1, SubnetId: otherZone },
      ]),
      "InvalidParameterCombination",
      "interfaces in two zones",
    );
    const inOtherZone = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: otherZone }));
    assert.equal(
      await code([
        { DeviceIndex: 0, SubnetId: subnetId },
        { DeviceIndex: 1, NetworkInterfaceId: inOtherZone.NetworkInterface?.NetworkInterfaceId },
      ]),
      "InvalidParameterCombination",
      "an existing interface of another zone",
    );
  });

  test("Ipv6Address.N and NetworkInterface.N.Ipv6Addresses are assigned, or refused; never dropped", async () => {
    const vpc = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.31.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
    );
    const v6Vpc = vpc.Vpc?.VpcId as string;
    const block = String(vpc.Vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock).replace(/::\/56$/, "");
    const subnet = await cp.ec2.send(
      new CreateSubnetCommand({ VpcId: v6Vpc, CidrBlock: "10.31.1.0/24", Ipv6CidrBlock: `${block}::/64` }),
    );
    const v6Subnet = subnet.Subnet?.SubnetId as string;
    const v4Only = await newSubnet("10.31.2.0/24", v6Vpc);
    const wanted = `${block}::a`;
    const [instance] = await run({
      SubnetId: v6Subnet,
      Ipv6Addresses: [{ Ipv6Address: wanted.toUpperCase() }],
    });
    assert.deepEqual(
      instance?.NetworkInterfaces?.[0]?.Ipv6Addresses?.map((a) => a.Ipv6Address),
      [wanted],
      "the address asked for, in canonical form",
    );
    const [second] = await run({
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: v6Subnet, Ipv6Addresses: [{ Ipv6Address: `${block}::b` }] },
      ],
    });
    assert.deepEqual(
      second?.NetworkInterfaces?.[0]?.Ipv6Addresses?.map((a) => a.Ipv6Address),
      [`${block}::b`],
    );
    const code = (input: Partial<RunInstancesCommandInput>) =>
      errorCode(cp.ec2.send(new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, ...input })));
    const at = (Ipv6Address: string) => ({ SubnetId: v6Subnet, Ipv6Addresses: [{ Ipv6Address }] });
    assert.equal(await code(at(wanted)), "InvalidIPAddress.InUse");
    assert.equal(await code(at("2001:db8::1")), "InvalidParameterValue", "outside the subnet");
    assert.equal(await code(at(`${block}::1`)), "InvalidParameterValue", "reserved");
    assert.equal(await code(at("10.31.1.9")), "InvalidParameterValue", "not IPv6");
    assert.equal(
      await code({ SubnetId: v4Only, Ipv6Addresses: [{ Ipv6Address: `${block}:0:0:1::c` }] }),
      "InvalidParameterValue",
      "a subnet without IPv6",
    );
    assert.equal(await code({ ...at(`${block}::c`), Ipv6AddressCount: 1 }), "InvalidParameterCombination");
    assert.equal(await code({ ...at(`${block}::c`), MaxCount: 2 }), "InvalidParameterCombination");
    assert.equal(
      await code({
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: v6Subnet }],
        Ipv6Addresses: [{ Ipv6Address: `${block}::c` }],
      }),
      "InvalidParameterCombination",
      "instance-level IPv6 addresses with NetworkInterface.N",
    );
    const cli = await cp.aws([
      "run-instances",
      "--image-id",
      IMAGE,
      "--subnet-id",
      v6Subnet,
      "--ipv6-addresses",
      `Ipv6Address=${block}::d`,
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const launched = (cli.json as { Instances: Instance[] }).Instances[0];
    assert.deepEqual(
      launched?.NetworkInterfaces?.[0]?.Ipv6Addresses?.map((a) => a.Ipv6Address),
      [`${block}::d`],
    );
  });

  test("an interface's automatic addresses never take those a later interface of the launch names", async () => {
    const vpc = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.32.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
    );
    const block = String(vpc.Vpc?.Ipv6CidrBlockAssociationSet?.[0]?.Ipv6CidrBlock).replace(/::\/56$/, "");
    const subnet = await cp.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpc.Vpc?.VpcId,
        CidrBlock: "10.32.1.0/24",
        Ipv6CidrBlock: `${block}::/64`,
      }),
    );
    const inSubnet = subnet.Subnet?.SubnetId as string;
    // the first address the subnet hands out, of each family, asked for by the second interface
    const [instance] = await run({
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: inSubnet, SecondaryPrivateIpAddressCount: 1, Ipv6AddressCount: 1 },
        {
          DeviceIndex: 1,
          SubnetId: inSubnet,
          PrivateIpAddress: "10.32.1.4",
          Ipv6Addresses: [{ Ipv6Address: `${block}::4` }],
        },
      ],
    });
    const device = (index: number) =>
      instance?.NetworkInterfaces?.find((n) => n.Attachment?.DeviceIndex === index);
    const v4 = (index: number) => device(index)?.PrivateIpAddresses?.map((a) => a.PrivateIpAddress);
    const v6 = (index: number) => device(index)?.Ipv6Addresses?.map((a) => a.Ipv6Address);
    assert.deepEqual(v4(1), ["10.32.1.4"]);
    assert.deepEqual(v6(1), [`${block}::4`]);
    assert.deepEqual(v4(0), ["10.32.1.5", "10.32.1.6"]);
    assert.deepEqual(v6(0), [`${block}::5`]);
  });

  test("Placement: a zone other than the subnet's, a bad tenancy or shutdown behaviour, a Dedicated Host are refused", async () => {
    const before = await allInstanceIds();
    const zoneOf = (await cp.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))).Subnets?.[0]
      ?.AvailabilityZone as string;
    const other = zoneOf === "us-east-1a" ? "us-east-1b" : "us-east-1a";
    const code = (input: Partial<RunInstancesCommandInput>) =>
      errorCode(
        cp.ec2.send(
          new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, SubnetId: subnetId, ...input }),
        ),
      );
    assert.equal(await code({ Placement: { AvailabilityZone: other } }), "InvalidParameterValue");
    assert.equal(await code({ Placement: { Tenancy: "bogus" as "default" } }), "InvalidParameterValue");
    assert.equal(await code({ Placement: { Tenancy: "host" } }), "UnsupportedOperation");
    assert.equal(
      await code({ InstanceInitiatedShutdownBehavior: "bogus" as "stop" }),
      "InvalidParameterValue",
    );
    assert.deepEqual(await allInstanceIds(), before, "nothing was launched");
    const [same] = await run({ SubnetId: subnetId, Placement: { AvailabilityZone: zoneOf } });
    assert.equal(same?.Placement?.AvailabilityZone, zoneOf);
    // an interface without a subnet goes to the default subnet of the zone asked for; the standard
    // interface type may be named
    const [placed] = await run({
      Placement: { AvailabilityZone: "us-east-1c" },
      NetworkInterfaces: [{ DeviceIndex: 0, InterfaceType: "interface" }],
    });
    assert.equal(placed?.Placement?.AvailabilityZone, "us-east-1c");
    await cp.ec2.send(
      new TerminateInstancesCommand({
        InstanceIds: [same?.InstanceId as string, placed?.InstanceId as string],
      }),
    );
  });

  test("an instance of a dedicated VPC, or one that asks, is dedicated, and the tenancy filter finds it", async () => {
    const vpc = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.31.0.0/16", InstanceTenancy: "dedicated" }),
    );
    const dedicatedSubnet = await newSubnet("10.31.1.0/24", vpc.Vpc?.VpcId as string);
    const [inVpc] = await run({ SubnetId: dedicatedSubnet, Placement: { Tenancy: "default" } });
    const [asked] = await run({ SubnetId: subnetId, Placement: { Tenancy: "dedicated" } });
    const [plain] = await run({ SubnetId: subnetId });
    assert.equal(inVpc?.Placement?.Tenancy, "dedicated");
    assert.equal(asked?.Placement?.Tenancy, "dedicated");
    assert.equal(plain?.Placement?.Tenancy, "default");
    const found = await cp.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: "tenancy", Values: ["dedicated"] }] }),
    );
    const ids = (found.Reservations ?? [])
      .flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId))
      .sort();
    assert.deepEqual(ids, [inVpc?.InstanceId, asked?.InstanceId].sort());
    await cp.ec2.send(
      new TerminateInstancesCommand({
        InstanceIds: [inVpc, asked, plain].map((i) => i?.InstanceId as string),
      }),
    );
  });

  test("a stopped or terminated instance says a user stopped it, and when; a started one says nothing", async () => {
    const [instance] = await run({ SubnetId: subnetId });
    const id = instance?.InstanceId as string;
    assert.equal((await describeInstance(id)).StateReason, undefined);
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const stopped = await describeInstance(id);
    assert.match(
      stopped.StateTransitionReason ?? "",
      /^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/,
    );
    assert.deepEqual(stopped.StateReason, {
      Code: "Client.UserInitiatedShutdown",
      Message: "Client.UserInitiatedShutdown: User initiated shutdown",
    });
    await cp.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    const started = await describeInstance(id);
    assert.equal(started.StateTransitionReason, "");
    assert.equal(started.StateReason, undefined);
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.equal((await describeInstance(id)).StateReason?.Code, "Client.UserInitiatedShutdown");
  });

  test("terminating a stopped instance reports 80 → 32; two unknown ids are named together", async () => {
    const [instance] = await run({ SubnetId: subnetId });
    const id = instance?.InstanceId as string;
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const out = await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(out.TerminatingInstances?.[0]?.PreviousState, { Code: 80, Name: "stopped" });
    assert.deepEqual(out.TerminatingInstances?.[0]?.CurrentState, { Code: 32, Name: "shutting-down" });
    try {
      await cp.ec2.send(
        new DescribeInstancesCommand({ InstanceIds: [UNKNOWN_INSTANCE, "i-0123456789abcdef1"] }),
      );
      assert.fail("unknown ids were accepted");
    } catch (error) {
      assert.equal((error as Error).name, "InvalidInstanceID.NotFound");
      assert.match((error as Error).message, /i-0123456789abcdef0/);
      assert.match((error as Error).message, /i-0123456789abcdef1/);
    }
  });

  test("a stopped instance keeps its interface and address, so its groups stay in use", async () => {
    const group = await newGroup("kept-while-stopped");
    const [instance] = await run({ SubnetId: subnetId, SecurityGroupIds: [group] });
    const id = instance?.InstanceId as string;
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const stopped = await describeInstance(id);
    assert.equal(stopped.PrivateIpAddress, instance?.PrivateIpAddress);
    assert.deepEqual(groupIdsOf(stopped), [group]);
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group }))),
      "DependencyViolation",
    );
    await cp.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [groups[0] as string] }));
    await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: group }));
    assert.deepEqual(groupIdsOf(await describeInstance(id)), [groups[0]]);
  });
});

describe("the aws CLI", () => {
  test("run-instances with two groups, describe-instances by group, modify-instance-attribute --groups, terminate", async () => {
    const web = await newGroup("cli-web");
    const db = await newGroup("cli-db");
    const launched = await cp.aws([
      "run-instances",
      "--image-id",
      IMAGE,
      "--count",
      "1",
      "--subnet-id",
      subnetId,
      "--security-group-ids",
      web,
      db,
    ]);
    assert.equal(launched.code, 0, launched.stderr);
    const instance = (
      launched.json as { Instances: { InstanceId: string; SecurityGroups: { GroupId: string }[] }[] }
    ).Instances[0];
    const id = instance?.InstanceId as string;
    assert.deepEqual(instance?.SecurityGroups.map((g) => g.GroupId).sort(), [web, db].sort());
    const found = await cp.aws([
      "describe-instances",
      "--filters",
      `Name=instance.group-id,Values=${web}`,
      "Name=instance-state-name,Values=running",
      "--query",
      "Reservations[].Instances[].InstanceId",
    ]);
    assert.deepEqual(found.json, [id]);
    const modified = await cp.aws([
      "modify-instance-attribute",
      "--instance-id",
      id,
      "--groups",
      groups[5] as string,
    ]);
    assert.equal(modified.code, 0, modified.stderr);
    const attribute = await cp.aws([
      "describe-instance-attribute",
      "--instance-id",
      id,
      "--attribute",
      "groupSet",
    ]);
    assert.deepEqual(
      (attribute.json as { Groups: { GroupId: string }[] }).Groups.map((g) => g.GroupId),
      [groups[5]],
    );
    const terminated = await cp.aws(["terminate-instances", "--instance-ids", id]);
    assert.equal(
      (terminated.json as { TerminatingInstances: { CurrentState: { Name: string } }[] })
        .TerminatingInstances[0]?.CurrentState.Name,
      "shutting-down",
    );
    const missing = await cp.aws(["describe-instances", "--instance-ids", UNKNOWN_INSTANCE]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /InvalidInstanceID\.NotFound/);
  });
});
