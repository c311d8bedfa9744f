// Elastic IPs: allocate, associate with an instance or an interface, move, disassociate, release,
// the quota and the error codes, against the real server through the SDK and the aws CLI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  type EC2Client,
  ReleaseAddressCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let subnetId: string;
const IMAGE = "ami-0123456789abcdef0";
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The same account in another region, so that quota counts start from zero. */
function regionClient(region: string): EC2Client {
  return cp.clientFor(cp.server.accessKeyId, cp.server.secretAccessKey, region);
}

async function allocate(client = cp.ec2): Promise<{ AllocationId: string; PublicIp: string }> {
  const out = await client.send(new AllocateAddressCommand({ Domain: "vpc" }));
  return { AllocationId: out.AllocationId as string, PublicIp: out.PublicIp as string };
}

async function release(allocationId: string): Promise<void> {
  await cp.ec2.send(new ReleaseAddressCommand({ AllocationId: allocationId }));
}

async function launch(subnet?: string): Promise<{ instanceId: string; eniId: string; privateIp: string }> {
  const out = await cp.ec2.send(
    new RunInstancesCommand({ ImageId: IMAGE, MinCount: 1, MaxCount: 1, SubnetId: subnet }),
  );
  const instance = out.Instances?.[0];
  return {
    instanceId: instance?.InstanceId as string,
    eniId: instance?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string,
    privateIp: instance?.PrivateIpAddress as string,
  };
}

async function describeAddress(allocationId: string) {
  const out = await cp.ec2.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }));
  assert.equal(out.Addresses?.length, 1);
  return out.Addresses?.[0] as NonNullable<typeof out.Addresses>[number];
}

async function publicIpOf(instanceId: string): Promise<string | undefined> {
  const out = await cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.PublicIpAddress;
}

before(async () => {
  cp = await startControlPlane();
  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.60.0.0/16" }));
  const subnet = await cp.ec2.send(
    new CreateSubnetCommand({
      VpcId: vpc.Vpc?.VpcId,
      CidrBlock: "10.60.1.0/24",
      AvailabilityZone: "us-east-1a",
    }),
  );
  subnetId = subnet.Subnet?.SubnetId as string;
});

after(async () => {
  await cp.close();
});

describe("AllocateAddress", () => {
  test("fields, distinct addresses, tags; DryRun allocates nothing", async () => {
    const out = await cp.ec2.send(
      new AllocateAddressCommand({
        Domain: "vpc",
        TagSpecifications: [{ ResourceType: "elastic-ip", Tags: [{ Key: "Name", Value: "front" }] }],
      }),
    );
    assert.match(out.AllocationId ?? "", /^eipalloc-[0-9a-f]{17}$/);
    assert.match(out.PublicIp ?? "", IPV4);
    assert.equal(out.Domain, "vpc");
    assert.equal(out.PublicIpv4Pool, "amazon");
    assert.equal(out.NetworkBorderGroup, "us-east-1");
    const other = await allocate();
    assert.notEqual(other.PublicIp, out.PublicIp);
    const described = await describeAddress(out.AllocationId as string);
    assert.equal(described.PublicIp, out.PublicIp);
    assert.equal(described.Domain, "vpc");
    assert.equal(described.AssociationId, undefined);
    assert.equal(described.InstanceId, undefined);
    assert.deepEqual(described.Tags, [{ Key: "Name", Value: "front" }]);
    const count = (await cp.ec2.send(new DescribeAddressesCommand({}))).Addresses?.length;
    assert.equal(
      await errorCode(cp.ec2.send(new AllocateAddressCommand({ DryRun: true }))),
      "DryRunOperation",
    );
    assert.equal((await cp.ec2.send(new DescribeAddressesCommand({}))).Addresses?.length, count);
    // the region's own border group and Amazon's pool may be named; another is refused, not dropped
    const named = await cp.ec2.send(
      new AllocateAddressCommand({ NetworkBorderGroup: "us-east-1", PublicIpv4Pool: "amazon" }),
    );
    await release(named.AllocationId as string);
    for (const input of [{ NetworkBorderGroup: "us-west-2" }, { PublicIpv4Pool: "ipv4pool-ec2-0abc" }]) {
      assert.equal(await errorCode(cp.ec2.send(new AllocateAddressCommand(input))), "UnsupportedOperation");
    }
    assert.equal((await cp.ec2.send(new DescribeAddressesCommand({}))).Addresses?.length, count);
    await release(out.AllocationId as string);
    await release(other.AllocationId);
  });

  test("the sixth address of a region is AddressLimitExceeded; releasing one makes room", async () => {
    const client = regionClient("eu-central-1");
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await allocate(client)).AllocationId);
      assert.equal(await errorCode(client.send(new AllocateAddressCommand({}))), "AddressLimitExceeded");
      assert.equal((await client.send(new DescribeAddressesCommand({}))).Addresses?.length, 5);
      await client.send(new ReleaseAddressCommand({ AllocationId: ids[0] }));
      await allocate(client);
      assert.equal((await client.send(new DescribeAddressesCommand({}))).Addresses?.length, 5);
    } finally {
      client.destroy();
    }
  });
});

describe("AssociateAddress", () => {
  test("with an instance: the address becomes the instance's and its interface's public IP; describe shows the link", async () => {
    const { instanceId, eniId, privateIp } = await launch(subnetId);
    assert.equal(await publicIpOf(instanceId), undefined, "a new subnet gives no public address");
    const address = await allocate();
    const out = await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    assert.match(out.AssociationId ?? "", /^eipassoc-[0-9a-f]{17}$/);
    const described = await describeAddress(address.AllocationId);
    assert.equal(described.AssociationId, out.AssociationId);
    assert.equal(described.InstanceId, instanceId);
    assert.equal(described.NetworkInterfaceId, eniId);
    assert.equal(described.PrivateIpAddress, privateIp);
    assert.equal(described.NetworkInterfaceOwnerId, cp.server.accountId);
    assert.equal(await publicIpOf(instanceId), address.PublicIp);
    const eni = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    const association = eni.NetworkInterfaces?.[0]?.Association;
    assert.equal(association?.PublicIp, address.PublicIp);
    assert.equal(association?.AllocationId, address.AllocationId);
    assert.equal(association?.AssociationId, out.AssociationId);
    assert.equal(association?.IpOwnerId, cp.server.accountId);

    const again = await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    assert.equal(again.AssociationId, out.AssociationId, "associating the same pair again is idempotent");

    // Filters.
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await cp.ec2.send(new DescribeAddressesCommand({ Filters }))).Addresses ?? []).map(
        (a) => a.AllocationId,
      );
    assert.deepEqual(await ids([{ Name: "instance-id", Values: [instanceId] }]), [address.AllocationId]);
    assert.deepEqual(await ids([{ Name: "association-id", Values: [out.AssociationId as string] }]), [
      address.AllocationId,
    ]);
    assert.deepEqual(await ids([{ Name: "network-interface-id", Values: [eniId] }]), [address.AllocationId]);
    assert.deepEqual(await ids([{ Name: "private-ip-address", Values: [privateIp] }]), [
      address.AllocationId,
    ]);
    assert.deepEqual(await ids([{ Name: "public-ip", Values: [address.PublicIp] }]), [address.AllocationId]);
    const byIp = await cp.ec2.send(new DescribeAddressesCommand({ PublicIps: [address.PublicIp] }));
    assert.deepEqual(
      byIp.Addresses?.map((a) => a.AllocationId),
      [address.AllocationId],
    );

    // Releasing an associated address in a non-default VPC is refused and leaves it associated.
    assert.equal(
      await errorCode(cp.ec2.send(new ReleaseAddressCommand({ AllocationId: address.AllocationId }))),
      "InvalidIPAddress.InUse",
    );
    assert.equal((await describeAddress(address.AllocationId)).AssociationId, out.AssociationId);
    await cp.ec2.send(new DisassociateAddressCommand({ AssociationId: out.AssociationId }));
    const loose = await describeAddress(address.AllocationId);
    assert.equal(loose.AssociationId, undefined);
    assert.equal(loose.InstanceId, undefined);
    assert.equal(await publicIpOf(instanceId), undefined);
    await release(address.AllocationId);
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeAddressesCommand({ AllocationIds: [address.AllocationId] }))),
      "InvalidAllocationID.NotFound",
    );
  });

  test("DisassociateAddress is idempotent: a second call succeeds", async () => {
    const { instanceId } = await launch(subnetId);
    const address = await allocate();
    const out = await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    await cp.ec2.send(new DisassociateAddressCommand({ AssociationId: out.AssociationId }));
    try {
      await cp.ec2.send(new DisassociateAddressCommand({ AssociationId: out.AssociationId }));
    } finally {
      await release(address.AllocationId);
    }
  });

  test("AllowReassociation=false on an associated address is Resource.AlreadyAssociated; true moves it", async () => {
    const first = await launch(subnetId);
    const second = await launch(subnetId);
    const address = await allocate();
    await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: first.instanceId }),
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new AssociateAddressCommand({
            AllocationId: address.AllocationId,
            InstanceId: second.instanceId,
            AllowReassociation: false,
          }),
        ),
      ),
      "Resource.AlreadyAssociated",
    );
    assert.equal((await describeAddress(address.AllocationId)).InstanceId, first.instanceId);
    await cp.ec2.send(
      new AssociateAddressCommand({
        AllocationId: address.AllocationId,
        InstanceId: second.instanceId,
        AllowReassociation: true,
      }),
    );
    assert.equal((await describeAddress(address.AllocationId)).InstanceId, second.instanceId);
    assert.equal(await publicIpOf(first.instanceId), undefined);
    assert.equal(await publicIpOf(second.instanceId), address.PublicIp);
    await cp.ec2.send(new DisassociateAddressCommand({ PublicIp: address.PublicIp }));
    await release(address.AllocationId);
  });

  test("without AllowReassociation an associated address moves (reassociation is automatic in a VPC)", async () => {
    const first = await launch(subnetId);
    const second = await launch(subnetId);
    const address = await allocate();
    try {
      await cp.ec2.send(
        new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: first.instanceId }),
      );
      await cp.ec2.send(
        new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: second.instanceId }),
      );
      assert.equal((await describeAddress(address.AllocationId)).InstanceId, second.instanceId);
    } finally {
      await cp.ec2.send(new DisassociateAddressCommand({ PublicIp: address.PublicIp }));
      await release(address.AllocationId);
    }
  });

  test("with a network interface and a secondary private address", async () => {
    const eni = await cp.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: subnetId, SecondaryPrivateIpAddressCount: 1 }),
    );
    const eniId = eni.NetworkInterface?.NetworkInterfaceId as string;
    const secondary = eni.NetworkInterface?.PrivateIpAddresses?.find((a) => !a.Primary)
      ?.PrivateIpAddress as string;
    const address = await allocate();
    await cp.ec2.send(
      new AssociateAddressCommand({
        AllocationId: address.AllocationId,
        NetworkInterfaceId: eniId,
        PrivateIpAddress: secondary,
      }),
    );
    const described = await describeAddress(address.AllocationId);
    assert.equal(described.NetworkInterfaceId, eniId);
    assert.equal(described.PrivateIpAddress, secondary);
    assert.equal(described.InstanceId, undefined, "an unattached interface has no instance");
    // the address is the secondary's: the interface (its primary) shows none, the secondary shows it
    const shown = (await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })))
      .NetworkInterfaces?.[0];
    assert.equal(shown?.Association, undefined);
    assert.deepEqual(
      shown?.PrivateIpAddresses?.map((a) => [a.Primary, a.Association?.PublicIp, a.Association?.IpOwnerId]),
      [
        [true, undefined, undefined],
        [false, address.PublicIp, cp.server.accountId],
      ],
    );
    // the per-address association names the Elastic IP as the interface's own one does
    const { AllocationId, AssociationId } = shown?.PrivateIpAddresses?.[1]?.Association ?? {};
    assert.equal(AllocationId, address.AllocationId);
    assert.equal(AssociationId, described.AssociationId);
    const byPublicIp = async (name: string) =>
      (
        await cp.ec2.send(
          new DescribeNetworkInterfacesCommand({
            Filters: [{ Name: name, Values: [address.PublicIp as string] }],
          }),
        )
      ).NetworkInterfaces?.map((e) => e.NetworkInterfaceId);
    assert.deepEqual(await byPublicIp("addresses.association.public-ip"), [eniId]);
    assert.deepEqual(await byPublicIp("association.public-ip"), []);
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new AssociateAddressCommand({
            AllocationId: address.AllocationId,
            NetworkInterfaceId: eniId,
            PrivateIpAddress: "10.60.1.250",
            AllowReassociation: true,
          }),
        ),
      ),
      "InvalidParameterValue",
      "an address the interface does not have",
    );
    await cp.ec2.send(new DisassociateAddressCommand({ AssociationId: described.AssociationId }));
    await release(address.AllocationId);
  });

  test("an instance's secondary address with an Elastic IP: found by the per-address filters, not the instance's public address", async () => {
    const [instance] =
      (
        await cp.ec2.send(
          new RunInstancesCommand({
            ImageId: "ami-0123456789abcdef0",
            MinCount: 1,
            MaxCount: 1,
            NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnetId, SecondaryPrivateIpAddressCount: 1 }],
          }),
        )
      ).Instances ?? [];
    const eni = instance?.NetworkInterfaces?.[0];
    const secondary = eni?.PrivateIpAddresses?.find((a) => !a.Primary)?.PrivateIpAddress as string;
    const address = await allocate();
    const associated = await cp.ec2.send(
      new AssociateAddressCommand({
        AllocationId: address.AllocationId,
        NetworkInterfaceId: eni?.NetworkInterfaceId,
        PrivateIpAddress: secondary,
      }),
    );
    const found = async (Name: string, value: string) =>
      (
        await cp.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name, Values: [value] }] }))
      ).Reservations?.flatMap((r) => r.Instances?.map((i) => i.InstanceId) ?? []);
    const id = instance?.InstanceId as string;
    assert.deepEqual(
      await found("network-interface.addresses.association.allocation-id", address.AllocationId as string),
      [id],
    );
    assert.deepEqual(
      await found(
        "network-interface.addresses.association.association-id",
        associated.AssociationId as string,
      ),
      [id],
    );
    assert.deepEqual(
      await found("network-interface.addresses.association.public-ip", address.PublicIp as string),
      [id],
    );
    assert.deepEqual(await found("ip-address", address.PublicIp as string), []);
    assert.equal(
      (await cp.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]
        ?.Instances?.[0]?.PublicIpAddress,
      undefined,
    );
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await release(address.AllocationId);
  });

  test("an address on an interface follows the interface's attachment: InstanceId appears on attach, goes on detach", async () => {
    const { instanceId } = await launch(subnetId);
    const eni = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    const eniId = eni.NetworkInterface?.NetworkInterfaceId as string;
    const address = await allocate();
    try {
      await cp.ec2.send(
        new AssociateAddressCommand({ AllocationId: address.AllocationId, NetworkInterfaceId: eniId }),
      );
      assert.equal((await describeAddress(address.AllocationId)).InstanceId, undefined);
      const attached = await cp.ec2.send(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: eniId,
          InstanceId: instanceId,
          DeviceIndex: 1,
        }),
      );
      assert.equal(
        (await describeAddress(address.AllocationId)).InstanceId,
        instanceId,
        "attached: the instance shows",
      );
      const byInstance = await cp.ec2.send(
        new DescribeAddressesCommand({ Filters: [{ Name: "instance-id", Values: [instanceId] }] }),
      );
      assert.deepEqual(
        byInstance.Addresses?.map((a) => a.AllocationId),
        [address.AllocationId],
      );
      await cp.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attached.AttachmentId }));
      assert.equal(
        (await describeAddress(address.AllocationId)).InstanceId,
        undefined,
        "detached: no instance",
      );
    } finally {
      await cp.ec2.send(new DisassociateAddressCommand({ PublicIp: address.PublicIp }));
      await release(address.AllocationId);
    }
  });

  test("refused requests: instance and interface together, two interfaces, unknown and malformed ids", async () => {
    const { instanceId, eniId } = await launch(subnetId);
    const address = await allocate();
    const code = (input: object) =>
      errorCode(cp.ec2.send(new AssociateAddressCommand({ AllocationId: address.AllocationId, ...input })));
    assert.equal(
      await code({ InstanceId: instanceId, NetworkInterfaceId: eniId }),
      "InvalidParameterCombination",
    );
    assert.equal(await code({ InstanceId: "i-0123456789abcdef0" }), "InvalidInstanceID.NotFound");
    assert.equal(
      await code({ NetworkInterfaceId: "eni-0123456789abcdef0" }),
      "InvalidNetworkInterfaceID.NotFound",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new AssociateAddressCommand({ AllocationId: "eipalloc-0123456789abcdef0", InstanceId: instanceId }),
        ),
      ),
      "InvalidAllocationID.NotFound",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new AssociateAddressCommand({ AllocationId: "eipalloc-x", InstanceId: instanceId })),
      ),
      "InvalidAllocationID.Malformed",
    );
    assert.equal(await code({ InstanceId: instanceId, DryRun: true }), "DryRunOperation");
    assert.equal(
      (await describeAddress(address.AllocationId)).AssociationId,
      undefined,
      "dry run associated nothing",
    );
    const extra = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    await cp.ec2.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: extra.NetworkInterface?.NetworkInterfaceId,
        InstanceId: instanceId,
        DeviceIndex: 1,
      }),
    );
    assert.equal(await code({ InstanceId: instanceId }), "InvalidInstanceID", "two interfaces: name one");
    await release(address.AllocationId);
  });

  test("an interface kept at termination keeps its Elastic IP, as a detached one does", async () => {
    const { instanceId } = await launch(subnetId);
    const kept = await cp.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetId }));
    const eniId = kept.NetworkInterface?.NetworkInterfaceId as string;
    await cp.ec2.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: eniId,
        InstanceId: instanceId,
        DeviceIndex: 1,
      }),
    );
    const address = await allocate();
    const { AssociationId } = await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, NetworkInterfaceId: eniId }),
    );
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    const described = await describeAddress(address.AllocationId);
    assert.equal(described.NetworkInterfaceId, eniId);
    assert.equal(described.AssociationId, AssociationId);
    assert.equal(described.InstanceId, undefined, "the interface is attached to nothing now");
    const eni = await cp.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }));
    assert.equal(eni.NetworkInterfaces?.[0]?.Status, "available");
    assert.equal(eni.NetworkInterfaces?.[0]?.Association?.PublicIp, address.PublicIp);
    await cp.ec2.send(new DisassociateAddressCommand({ AssociationId }));
    await release(address.AllocationId);
  });

  test("terminating the instance drops the association but keeps the allocation", async () => {
    const { instanceId } = await launch(subnetId);
    const address = await allocate();
    await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    await cp.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    const described = await describeAddress(address.AllocationId);
    assert.equal(described.AssociationId, undefined);
    assert.equal(described.PublicIp, address.PublicIp);
    await release(address.AllocationId);
  });
});

describe("the public address an instance was launched with", () => {
  const launchedPublicIp = async () => {
    // the default subnet maps a public address to each instance at launch
    const { instanceId, eniId } = await launch();
    const publicIp = await publicIpOf(instanceId);
    assert.match(publicIp ?? "", IPV4);
    return { instanceId, eniId, publicIp: publicIp as string };
  };

  test("goes when an Elastic IP takes its place, and a new one comes when the Elastic IP leaves", async () => {
    const { instanceId, publicIp } = await launchedPublicIp();
    const address = await allocate();
    const { AssociationId } = await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    assert.equal(await publicIpOf(instanceId), address.PublicIp);
    await cp.ec2.send(new DisassociateAddressCommand({ AssociationId }));
    const again = await publicIpOf(instanceId);
    assert.match(again ?? "", IPV4);
    assert.notEqual(again, address.PublicIp);
    assert.notEqual(again, publicIp, "a new address, not the one released");
    // releasing an associated address in the default VPC gives one back too
    await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    await release(address.AllocationId);
    assert.match((await publicIpOf(instanceId)) ?? "", IPV4);
    assert.notEqual(await publicIpOf(instanceId), address.PublicIp);
  });

  test("moving the Elastic IP to another instance gives the first one a public address again", async () => {
    const first = await launchedPublicIp();
    const second = await launchedPublicIp();
    const address = await allocate();
    await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: first.instanceId }),
    );
    await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: second.instanceId }),
    );
    assert.equal(await publicIpOf(second.instanceId), address.PublicIp);
    const back = await publicIpOf(first.instanceId);
    assert.match(back ?? "", IPV4);
    assert.notEqual(back, address.PublicIp);
    await release(address.AllocationId);
  });

  test("is released by a stop and replaced by a new one at the start; an Elastic IP stays through both", async () => {
    const { instanceId, publicIp } = await launchedPublicIp();
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(await publicIpOf(instanceId), undefined);
    await cp.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    const started = await publicIpOf(instanceId);
    assert.match(started ?? "", IPV4);
    assert.notEqual(started, publicIp);

    const address = await allocate();
    await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(await publicIpOf(instanceId), address.PublicIp);
    await cp.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(await publicIpOf(instanceId), address.PublicIp);
    await release(address.AllocationId);
  });

  test("is not given to an instance launched with two interfaces, even in a default subnet", async () => {
    const defaults = await cp.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
    );
    const SubnetId = defaults.Subnets?.[0]?.SubnetId as string;
    const out = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE,
        MinCount: 1,
        MaxCount: 1,
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId },
          { DeviceIndex: 1, SubnetId },
        ],
      }),
    );
    const id = out.Instances?.[0]?.InstanceId as string;
    assert.equal(await publicIpOf(id), undefined);
    // nor later: with a second interface none comes at a start
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await cp.ec2.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.equal(await publicIpOf(id), undefined);
  });

  test("does not come back to an instance with a second interface, nor to one launched without", async () => {
    const { instanceId, eniId } = await launchedPublicIp();
    const described = await cp.ec2.send(
      new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }),
    );
    const second = await cp.ec2.send(
      new CreateNetworkInterfaceCommand({ SubnetId: described.NetworkInterfaces?.[0]?.SubnetId }),
    );
    await cp.ec2.send(
      new AttachNetworkInterfaceCommand({
        NetworkInterfaceId: second.NetworkInterface?.NetworkInterfaceId,
        InstanceId: instanceId,
        DeviceIndex: 1,
      }),
    );
    await cp.ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    await cp.ec2.send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
    assert.equal(await publicIpOf(instanceId), undefined);

    // a subnet that maps no public address: an Elastic IP leaving leaves nothing behind
    const { instanceId: privateOne } = await launch(subnetId);
    assert.equal(await publicIpOf(privateOne), undefined);
    const address = await allocate();
    const { AssociationId } = await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: privateOne }),
    );
    await cp.ec2.send(new DisassociateAddressCommand({ AssociationId }));
    assert.equal(await publicIpOf(privateOne), undefined);
    await release(address.AllocationId);
  });
});

describe("ReleaseAddress and DisassociateAddress", () => {
  test("in the default VPC, releasing an associated address disassociates it", async () => {
    const { instanceId } = await launch();
    const address = await allocate();
    await cp.ec2.send(
      new AssociateAddressCommand({ AllocationId: address.AllocationId, InstanceId: instanceId }),
    );
    assert.equal(await publicIpOf(instanceId), address.PublicIp);
    await release(address.AllocationId);
    assert.notEqual(await publicIpOf(instanceId), address.PublicIp);
    const left = await cp.ec2.send(
      new DescribeAddressesCommand({ Filters: [{ Name: "public-ip", Values: [address.PublicIp] }] }),
    );
    assert.deepEqual(left.Addresses, []);
  });

  test("PublicIp with AllocationId is InvalidParameterCombination; unknown and malformed addresses", async () => {
    const address = await allocate();
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ReleaseAddressCommand({ AllocationId: address.AllocationId, PublicIp: address.PublicIp }),
        ),
      ),
      "InvalidParameterCombination",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new ReleaseAddressCommand({ AllocationId: "eipalloc-0123456789abcdef0" }))),
      "InvalidAllocationID.NotFound",
    );
    assert.equal(
      await errorCode(
        cp.ec2.send(new ReleaseAddressCommand({ AllocationId: address.AllocationId, DryRun: true })),
      ),
      "DryRunOperation",
    );
    assert.equal(
      (await describeAddress(address.AllocationId)).PublicIp,
      address.PublicIp,
      "dry run released nothing",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeAddressesCommand({ PublicIps: ["192.0.2.77"] }))),
      "InvalidAddress.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeAddressesCommand({ PublicIps: ["not-an-ip"] }))),
      "InvalidAddress.Malformed",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DisassociateAddressCommand({ AssociationId: "eipassoc-x" }))),
      "InvalidAssociationID.Malformed",
    );
    // The deprecated PublicIp form still releases.
    await cp.ec2.send(new ReleaseAddressCommand({ PublicIp: address.PublicIp }));
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeAddressesCommand({ AllocationIds: [address.AllocationId] }))),
      "InvalidAllocationID.NotFound",
    );
  });
});

describe("the aws CLI", () => {
  test("allocate-address, associate-address --instance-id, describe-addresses, disassociate, release", async () => {
    const { instanceId, privateIp } = await launch(subnetId);
    const allocated = await cp.aws(["allocate-address", "--domain", "vpc"]);
    assert.equal(allocated.code, 0, allocated.stderr);
    const { AllocationId, PublicIp } = allocated.json as { AllocationId: string; PublicIp: string };
    assert.match(PublicIp, IPV4);
    const associated = await cp.aws([
      "associate-address",
      "--allocation-id",
      AllocationId,
      "--instance-id",
      instanceId,
    ]);
    assert.equal(associated.code, 0, associated.stderr);
    const { AssociationId } = associated.json as { AssociationId: string };
    const described = await cp.aws([
      "describe-addresses",
      "--filters",
      `Name=instance-id,Values=${instanceId}`,
    ]);
    const addresses = (
      described.json as { Addresses: { PublicIp: string; PrivateIpAddress: string; AssociationId: string }[] }
    ).Addresses;
    assert.deepEqual(
      addresses.map((a) => [a.PublicIp, a.PrivateIpAddress, a.AssociationId]),
      [[PublicIp, privateIp, AssociationId]],
    );
    const inUse = await cp.aws(["release-address", "--allocation-id", AllocationId]);
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, /InvalidIPAddress\.InUse/);
    assert.equal((await cp.aws(["disassociate-address", "--association-id", AssociationId])).code, 0);
    assert.equal((await cp.aws(["release-address", "--allocation-id", AllocationId])).code, 0);
  });
});
