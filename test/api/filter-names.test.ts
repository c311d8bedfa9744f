// Every filter name the EC2 model documents for a Describe action ringfence serves is accepted
// (names read from the documentation the AWS SDK ships), and a few of them are checked to match
// what the response reports.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  DescribeManagedPrefixListsCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  type Filter,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;

before(async () => {
  cp = await startControlPlane();
});

after(async () => {
  await cp.close();
});

/** The model's documentation of each request's `Filters`, as the SDK's type declarations carry it. */
function documentedFilters(request: string): string[] {
  const require = createRequire(import.meta.url);
  const models = join(dirname(require.resolve("@aws-sdk/client-ec2/package.json")), "dist-types", "models");
  const text = readdirSync(models)
    .filter((f) => f.endsWith(".d.ts"))
    .map((f) => readFileSync(join(models, f), "utf8"))
    .join("\n");
  const start = text.indexOf(`export interface ${request} {`);
  assert.ok(start >= 0, `${request} is in the SDK's model`);
  const body = text.slice(start, text.indexOf("\n}", start));
  const at = body.indexOf("Filters?:");
  const doc = body.slice(body.lastIndexOf("/**", at), at).replace(/^\s*\*/gm, " ");
  // each documented filter is a list item `<code>name</code> - what it matches`
  const names = [...doc.matchAll(/<p>\s*<code>([^<]+)<\/code>\s*-/g)].map((m) => m[1] as string);
  return [...new Set(names)].map((name) => (name === "tag" ? "tag:Name" : name));
}

type Describe = (Filters: Filter[]) => Promise<unknown>;

const ACTIONS: Record<string, Describe> = {
  DescribeSecurityGroups: (Filters) => cp.ec2.send(new DescribeSecurityGroupsCommand({ Filters })),
  DescribeSecurityGroupRules: (Filters) => cp.ec2.send(new DescribeSecurityGroupRulesCommand({ Filters })),
  DescribeInstances: (Filters) => cp.ec2.send(new DescribeInstancesCommand({ Filters })),
  DescribeNetworkInterfaces: (Filters) => cp.ec2.send(new DescribeNetworkInterfacesCommand({ Filters })),
  DescribeVpcs: (Filters) => cp.ec2.send(new DescribeVpcsCommand({ Filters })),
  DescribeSubnets: (Filters) => cp.ec2.send(new DescribeSubnetsCommand({ Filters })),
  DescribeAddresses: (Filters) => cp.ec2.send(new DescribeAddressesCommand({ Filters })),
  DescribeTags: (Filters) => cp.ec2.send(new DescribeTagsCommand({ Filters })),
  DescribeManagedPrefixLists: (Filters) => cp.ec2.send(new DescribeManagedPrefixListsCommand({ Filters })),
  DescribeNetworkAcls: (Filters) => cp.ec2.send(new DescribeNetworkAclsCommand({ Filters })),
  DescribeRegions: (Filters) => cp.ec2.send(new DescribeRegionsCommand({ Filters })),
  DescribeAvailabilityZones: (Filters) => cp.ec2.send(new DescribeAvailabilityZonesCommand({ Filters })),
};

describe("documented filter names", () => {
  test("every Describe action ringfence serves accepts every filter its model documents", async () => {
    const served = JSON.parse(
      readFileSync(new URL("../../../src/api/operations.json", import.meta.url), "utf8"),
    ) as { OPERATIONS: string[] };
    const withFilters = served.OPERATIONS.filter(
      (op) => op.startsWith("Describe") && documentedFilters(`${op}Request`).length > 0,
    );
    assert.deepEqual(
      withFilters.sort(),
      Object.keys(ACTIONS).sort(),
      "every filtered Describe action is swept",
    );
    const refused: string[] = [];
    for (const [action, describeWith] of Object.entries(ACTIONS)) {
      const names = documentedFilters(`${action}Request`);
      assert.ok(names.length > 0, `${action} documents filters`);
      for (const Name of names) {
        try {
          await describeWith([{ Name, Values: ["*"] }]);
        } catch (error) {
          refused.push(`${action} ${Name}: ${(error as Error).name}`);
        }
      }
    }
    assert.deepEqual(refused, []);
  });
});

describe("filters that match what the response shows", () => {
  test("instances: tenancy, architecture, private-dns-name, launch-time, availability-zone-id, attachment fields; absent values match nothing", async () => {
    const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.60.0.0/16" }));
    const subnet = await cp.ec2.send(
      new CreateSubnetCommand({
        VpcId: vpc.Vpc?.VpcId,
        CidrBlock: "10.60.1.0/24",
        AvailabilityZone: "us-east-1b",
      }),
    );
    const zoneId = subnet.Subnet?.AvailabilityZoneId as string;
    const run = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-0123456789abcdef0",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.Subnet?.SubnetId,
      }),
    );
    const instance = run.Instances?.[0];
    const id = instance?.InstanceId as string;
    const attachment = instance?.NetworkInterfaces?.[0]?.Attachment;
    const matches = async (Name: string, value: string) => {
      const out = await cp.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name, Values: [value] },
            { Name: "instance-id", Values: [id] },
          ],
        }),
      );
      return (out.Reservations ?? []).length === 1;
    };
    const expected: [string, string][] = [
      ["tenancy", "default"],
      ["architecture", "x86_64"],
      ["private-dns-name", instance?.PrivateDnsName as string],
      ["launch-time", `${new Date(instance?.LaunchTime ?? 0).toISOString().slice(0, 10)}*`],
      ["availability-zone-id", zoneId],
      ["network-interface.attachment.attachment-id", attachment?.AttachmentId as string],
      ["network-interface.attachment.device-index", "0"],
      ["network-interface.attachment.delete-on-termination", "true"],
      ["network-interface.attachment.instance-id", id],
      ["network-interface.mac-address", instance?.NetworkInterfaces?.[0]?.MacAddress as string],
      ["network-interface.addresses.primary", "true"],
      ["root-device-type", "ebs"],
      ["monitoring-state", "disabled"],
    ];
    for (const [name, value] of expected) {
      assert.ok(await matches(name, value), `${name}=${value}`);
    }
    assert.equal(await matches("tenancy", "dedicated"), false);
    assert.equal(await matches("architecture", "arm64"), false);
    for (const absent of [
      "outpost-arn",
      "operator.managed",
      "network-interface.addresses.association.customer-owned-ip",
      "platform",
    ]) {
      assert.equal(await matches(absent, "*"), false, `${absent} has no value here`);
    }
  });

  test("interfaces, subnets, VPCs and zones", async () => {
    const vpc = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.61.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
    );
    const vpcId = vpc.Vpc?.VpcId as string;
    const subnet = await cp.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.61.1.0/24", AvailabilityZone: "us-east-1c" }),
    );
    const subnetId = subnet.Subnet?.SubnetId as string;
    const zoneId = subnet.Subnet?.AvailabilityZoneId as string;
    const run = await cp.ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-0123456789abcdef0",
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnetId,
      }),
    );
    const eni = run.Instances?.[0]?.NetworkInterfaces?.[0];
    const eniIds = async (Filters: Filter[]) =>
      ((await cp.ec2.send(new DescribeNetworkInterfacesCommand({ Filters }))).NetworkInterfaces ?? []).map(
        (e) => e.NetworkInterfaceId,
      );
    const inSubnet = { Name: "subnet-id", Values: [subnetId] };
    assert.deepEqual(await eniIds([inSubnet, { Name: "availability-zone-id", Values: [zoneId] }]), [
      eni?.NetworkInterfaceId,
    ]);
    assert.deepEqual(await eniIds([inSubnet, { Name: "availability-zone-id", Values: ["use1-az9"] }]), []);
    assert.deepEqual(
      await eniIds([inSubnet, { Name: "private-dns-name", Values: [eni?.PrivateDnsName as string] }]),
      [eni?.NetworkInterfaceId],
    );
    const attachedAt = new Date(eni?.Attachment?.AttachTime ?? 0).toISOString().slice(0, 10);
    assert.deepEqual(
      await eniIds([inSubnet, { Name: "attachment.attach-time", Values: [`${attachedAt}*`] }]),
      [eni?.NetworkInterfaceId],
    );
    assert.deepEqual(await eniIds([inSubnet, { Name: "addresses.primary", Values: ["true"] }]), [
      eni?.NetworkInterfaceId,
    ]);
    assert.deepEqual(await eniIds([inSubnet, { Name: "requester-id", Values: ["*"] }]), []);

    const subnetIds = async (Filters: Filter[]) =>
      ((await cp.ec2.send(new DescribeSubnetsCommand({ Filters }))).Subnets ?? []).map((s) => s.SubnetId);
    const ofVpc = { Name: "vpc-id", Values: [vpcId] };
    assert.deepEqual(await subnetIds([ofVpc, { Name: "ipv6-native", Values: ["false"] }]), [subnetId]);
    assert.deepEqual(await subnetIds([ofVpc, { Name: "customer-owned-ipv4-pool", Values: ["*"] }]), []);

    const vpcIds = async (Filters: Filter[]) =>
      ((await cp.ec2.send(new DescribeVpcsCommand({ Filters }))).Vpcs ?? []).map((v) => v.VpcId);
    assert.deepEqual(
      await vpcIds([ofVpc, { Name: "ipv6-cidr-block-association.ipv6-pool", Values: ["Amazon"] }]),
      [vpcId],
    );

    const zones = await cp.ec2.send(
      new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "group-name", Values: ["us-east-1"] }] }),
    );
    assert.equal(zones.AvailabilityZones?.length, 3);
    const none = await cp.ec2.send(
      new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "parent-zone-id", Values: ["*"] }] }),
    );
    assert.deepEqual(none.AvailabilityZones, []);
  });
});
