// Network ACLs: custom ACLs, numbered entries per direction, the entry quota, subnet associations,
// against the real server through the SDK and the aws CLI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  type CreateNetworkAclEntryCommandInput,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkAclCommand,
  DeleteNetworkAclEntryCommand,
  DescribeNetworkAclsCommand,
  type NetworkAcl,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
} from "@aws-sdk/client-ec2";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let vpcId: string;
let defaultAclId: string;
const UNKNOWN_ACL = "acl-0123456789abcdef0";

async function newAcl(vpc = vpcId): Promise<string> {
  const out = await cp.ec2.send(new CreateNetworkAclCommand({ VpcId: vpc }));
  return out.NetworkAcl?.NetworkAclId as string;
}

async function describeAcl(id: string): Promise<NetworkAcl> {
  const out = await cp.ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] }));
  assert.equal(out.NetworkAcls?.length, 1);
  return out.NetworkAcls?.[0] as NetworkAcl;
}

function addEntry(aclId: string, input: Partial<CreateNetworkAclEntryCommandInput>) {
  return cp.ec2.send(
    new CreateNetworkAclEntryCommand({
      NetworkAclId: aclId,
      RuleNumber: 100,
      Protocol: "-1",
      RuleAction: "allow",
      Egress: false,
      CidrBlock: "0.0.0.0/0",
      ...input,
    }),
  );
}

const entry = (acl: NetworkAcl, ruleNumber: number, egress: boolean) =>
  acl.Entries?.find((e) => e.RuleNumber === ruleNumber && e.Egress === egress);

before(async () => {
  cp = await startControlPlane();
  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.90.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId as string;
  const acls = await cp.ec2.send(
    new DescribeNetworkAclsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "default", Values: ["true"] },
      ],
    }),
  );
  defaultAclId = acls.NetworkAcls?.[0]?.NetworkAclId as string;
});

after(async () => {
  await cp.close();
});

describe("CreateNetworkAcl", () => {
  test("a custom ACL denies everything: only the 32767 catch-alls, no associations, tags kept", async () => {
    const out = await cp.ec2.send(
      new CreateNetworkAclCommand({
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: "network-acl", Tags: [{ Key: "Name", Value: "strict" }] }],
      }),
    );
    const acl = out.NetworkAcl as NetworkAcl;
    assert.match(acl.NetworkAclId ?? "", /^acl-[0-9a-f]{17}$/);
    assert.equal(acl.VpcId, vpcId);
    assert.equal(acl.IsDefault, false);
    assert.equal(acl.OwnerId, cp.server.accountId);
    assert.deepEqual(acl.Associations, []);
    assert.deepEqual(acl.Tags, [{ Key: "Name", Value: "strict" }]);
    assert.deepEqual(
      (acl.Entries ?? []).map((e) => [e.RuleNumber, e.Egress, e.Protocol, e.RuleAction, e.CidrBlock]).sort(),
      [
        [32767, false, "-1", "deny", "0.0.0.0/0"],
        [32767, true, "-1", "deny", "0.0.0.0/0"],
      ],
    );
  });

  test("in a VPC with IPv6 the catch-alls include 32768 for ::/0", async () => {
    const vpc = await cp.ec2.send(
      new CreateVpcCommand({ CidrBlock: "10.91.0.0/16", AmazonProvidedIpv6CidrBlock: true }),
    );
    const acl = await describeAcl(await newAcl(vpc.Vpc?.VpcId as string));
    assert.deepEqual(
      (acl.Entries ?? []).map((e) => [e.RuleNumber, e.Egress, e.CidrBlock ?? e.Ipv6CidrBlock]).sort(),
      [
        [32767, false, "0.0.0.0/0"],
        [32767, true, "0.0.0.0/0"],
        [32768, false, "::/0"],
        [32768, true, "::/0"],
      ],
    );
  });

  test("unknown and malformed VPC and ACL ids; DryRun creates nothing", async () => {
    assert.equal(
      await errorCode(cp.ec2.send(new CreateNetworkAclCommand({ VpcId: "vpc-0123456789abcdef0" }))),
      "InvalidVpcID.NotFound",
    );
    // EC2's words, as clients such as Terraform see them
    await assert.rejects(cp.ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [UNKNOWN_ACL] })), {
      name: "InvalidNetworkAclID.NotFound",
      message: `The networkAcl ID '${UNKNOWN_ACL}' does not exist`,
    });
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: ["acl-zz"] }))),
      "InvalidNetworkAclId.Malformed",
    );
    const count = async () =>
      (await cp.ec2.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] })))
        .NetworkAcls?.length;
    const before = await count();
    assert.equal(
      await errorCode(cp.ec2.send(new CreateNetworkAclCommand({ VpcId: vpcId, DryRun: true }))),
      "DryRunOperation",
    );
    assert.equal(await count(), before);
  });
});

describe("entries", () => {
  test("tcp with ports, icmp with type/code, all protocols, IPv6: described as numbers and canonical CIDRs", async () => {
    const id = await newAcl();
    await addEntry(id, {
      RuleNumber: 100,
      Protocol: "6",
      PortRange: { From: 443, To: 443 },
      CidrBlock: "203.0.113.77/24",
    });
    await addEntry(id, {
      RuleNumber: 110,
      Protocol: "17",
      PortRange: { From: 53, To: 53 },
      RuleAction: "deny",
    });
    await addEntry(id, { RuleNumber: 120, Protocol: "1", IcmpTypeCode: { Type: 8, Code: -1 } });
    await addEntry(id, { RuleNumber: 100, Egress: true, Protocol: "-1" });
    await addEntry(id, {
      RuleNumber: 130,
      Protocol: "-1",
      CidrBlock: undefined,
      Ipv6CidrBlock: "2001:DB8::/32",
    });
    const acl = await describeAcl(id);
    const tcp = entry(acl, 100, false);
    assert.equal(tcp?.Protocol, "6");
    assert.equal(tcp?.RuleAction, "allow");
    assert.equal(tcp?.CidrBlock, "203.0.113.0/24");
    assert.deepEqual(tcp?.PortRange, { From: 443, To: 443 });
    const udp = entry(acl, 110, false);
    assert.equal(udp?.Protocol, "17");
    assert.equal(udp?.RuleAction, "deny");
    assert.deepEqual(udp?.PortRange, { From: 53, To: 53 });
    const icmp = entry(acl, 120, false);
    assert.equal(icmp?.Protocol, "1");
    assert.deepEqual(icmp?.IcmpTypeCode, { Type: 8, Code: -1 });
    assert.equal(entry(acl, 100, true)?.Protocol, "-1");
    assert.equal(entry(acl, 130, false)?.Ipv6CidrBlock, "2001:db8::/32");
    assert.equal(entry(acl, 130, false)?.CidrBlock, undefined);
    assert.equal(acl.Entries?.length, 2 + 5);
  });

  test("NetworkAclEntryAlreadyExists for the same number and direction; the other direction is free", async () => {
    const id = await newAcl();
    await addEntry(id, { RuleNumber: 200 });
    assert.equal(
      await errorCode(addEntry(id, { RuleNumber: 200, RuleAction: "deny" })),
      "NetworkAclEntryAlreadyExists",
    );
    await addEntry(id, { RuleNumber: 200, Egress: true });
    assert.equal(entry(await describeAcl(id), 200, false)?.RuleAction, "allow", "the original is untouched");
  });

  test("protocol names, bad rule numbers, missing ports or ICMP, bad actions are refused", async () => {
    const id = await newAcl();
    try {
      await addEntry(id, { RuleNumber: 1, Protocol: "tcp", PortRange: { From: 22, To: 22 } });
      assert.fail("a protocol name was accepted");
    } catch (error) {
      assert.equal((error as Error).name, "InvalidParameterValue");
      assert.match((error as Error).message, /Invalid value 'tcp' for IP protocol/);
    }
    assert.equal(await errorCode(addEntry(id, { RuleNumber: 0 })), "InvalidParameterValue");
    assert.equal(
      await errorCode(addEntry(id, { RuleNumber: 32767 })),
      "InvalidParameterValue",
      "reserved for the catch-all",
    );
    assert.equal(await errorCode(addEntry(id, { RuleNumber: 5, Protocol: "256" })), "InvalidParameterValue");
    assert.equal(
      await errorCode(addEntry(id, { RuleNumber: 5, RuleAction: "reject" as never })),
      "InvalidParameterValue",
    );
    await errorCode(addEntry(id, { RuleNumber: 5, Protocol: "6" })); // tcp needs a port range
    await errorCode(addEntry(id, { RuleNumber: 5, Protocol: "1" })); // icmp needs a type and code
    assert.equal(await errorCode(addEntry(UNKNOWN_ACL, { RuleNumber: 5 })), "InvalidNetworkAclID.NotFound");
    // a bad value is the answer before an unknown ACL (spec 4.4)
    assert.equal(
      await errorCode(addEntry(UNKNOWN_ACL, { RuleNumber: 5, RuleAction: "reject" as never })),
      "InvalidParameterValue",
    );
    assert.equal(await errorCode(addEntry(id, { RuleNumber: 5, DryRun: true })), "DryRunOperation");
    assert.equal((await describeAcl(id)).Entries?.length, 2, "nothing was added");
  });

  test("ReplaceNetworkAclEntry changes an entry in place; a missing entry is InvalidNetworkAclEntry.NotFound", async () => {
    const id = await newAcl();
    await addEntry(id, { RuleNumber: 300, Protocol: "6", PortRange: { From: 22, To: 22 } });
    await cp.ec2.send(
      new ReplaceNetworkAclEntryCommand({
        NetworkAclId: id,
        RuleNumber: 300,
        Protocol: "6",
        PortRange: { From: 2222, To: 2222 },
        RuleAction: "deny",
        Egress: false,
        CidrBlock: "10.0.0.0/8",
      }),
    );
    const replaced = entry(await describeAcl(id), 300, false);
    assert.deepEqual(replaced?.PortRange, { From: 2222, To: 2222 });
    assert.equal(replaced?.RuleAction, "deny");
    assert.equal(replaced?.CidrBlock, "10.0.0.0/8");
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ReplaceNetworkAclEntryCommand({
            NetworkAclId: id,
            RuleNumber: 300,
            Protocol: "-1",
            RuleAction: "allow",
            Egress: true,
            CidrBlock: "0.0.0.0/0",
          }),
        ),
      ),
      "InvalidNetworkAclEntry.NotFound",
      "300 exists only for ingress",
    );
  });

  test("DeleteNetworkAclEntry removes one direction's entry; deleting it again is InvalidNetworkAclEntry.NotFound", async () => {
    const id = await newAcl();
    await addEntry(id, { RuleNumber: 400 });
    await addEntry(id, { RuleNumber: 400, Egress: true });
    await cp.ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 400, Egress: false }));
    const acl = await describeAcl(id);
    assert.equal(entry(acl, 400, false), undefined);
    assert.ok(entry(acl, 400, true));
    await assert.rejects(
      cp.ec2.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 400, Egress: false })),
      { name: "InvalidNetworkAclEntry.NotFound", message: "no ingress entry with number 400" },
    );
    // a repeated id is one ACL
    const twice = await cp.ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id, id] }));
    assert.deepEqual(
      twice.NetworkAcls?.map((a) => a.NetworkAclId),
      [id],
    );
  });

  test("20 entries per direction and family, the catch-all included: the 20th custom ingress entry is refused", async () => {
    const id = await newAcl();
    for (let i = 1; i <= 19; i++) await addEntry(id, { RuleNumber: i * 10 });
    assert.equal(await errorCode(addEntry(id, { RuleNumber: 500 })), "NetworkAclEntryLimitExceeded");
    await addEntry(id, { RuleNumber: 500, Egress: true });
    await addEntry(id, { RuleNumber: 500, CidrBlock: undefined, Ipv6CidrBlock: "::/0" });
    const acl = await describeAcl(id);
    assert.equal(acl.Entries?.filter((e) => !e.Egress && e.CidrBlock).length, 20);
  });

  test("ICMP type -1 (all types) with a specific code is refused, not stored as all ICMP", async () => {
    const id = await newAcl();
    const icmp = (Type: number, Code: number) =>
      addEntry(id, { RuleNumber: 70, Protocol: "1", IcmpTypeCode: { Type, Code } });
    assert.equal(await errorCode(icmp(-1, 3)), "InvalidParameterValue");
    const cli = await cp.aws([
      "create-network-acl-entry",
      "--network-acl-id",
      id,
      "--rule-number",
      "71",
      "--protocol",
      "icmp",
      "--icmp-type-code",
      "Type=-1,Code=3",
      "--rule-action",
      "allow",
      "--ingress",
      "--cidr-block",
      "0.0.0.0/0",
    ]);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /InvalidParameterValue/);
    await icmp(3, 4);
    await cp.ec2.send(
      new ReplaceNetworkAclEntryCommand({
        NetworkAclId: id,
        RuleNumber: 70,
        Protocol: "1",
        RuleAction: "allow",
        Egress: false,
        CidrBlock: "0.0.0.0/0",
        IcmpTypeCode: { Type: -1, Code: -1 },
      }),
    );
    assert.deepEqual(entry(await describeAcl(id), 70, false)?.IcmpTypeCode, { Type: -1, Code: -1 });
  });

  test("IPv6 entries count 19 of their own in a VPC without IPv6 too; ReplaceNetworkAclEntry may not go over", async () => {
    const id = await newAcl();
    const v6 = { CidrBlock: undefined, Ipv6CidrBlock: "::/0" };
    for (let i = 1; i <= 19; i++) await addEntry(id, { RuleNumber: i * 10, ...v6 });
    assert.equal(
      await errorCode(addEntry(id, { RuleNumber: 500, ...v6 })),
      "NetworkAclEntryLimitExceeded",
      "19 custom IPv6 entries per direction, as for IPv4 (spec 3.13)",
    );
    await addEntry(id, { RuleNumber: 900 });
    const replace = (input: Partial<CreateNetworkAclEntryCommandInput>) =>
      cp.ec2.send(
        new ReplaceNetworkAclEntryCommand({
          NetworkAclId: id,
          RuleNumber: 900,
          Protocol: "-1",
          RuleAction: "deny",
          Egress: false,
          CidrBlock: "10.0.0.0/8",
          ...input,
        }),
      );
    assert.equal(await errorCode(replace(v6)), "NetworkAclEntryLimitExceeded", "IPv4 entry 900 made IPv6");
    await replace({});
    const acl = await describeAcl(id);
    assert.equal(acl.Entries?.filter((e) => !e.Egress && e.Ipv6CidrBlock).length, 19);
    assert.equal(entry(acl, 900, false)?.CidrBlock, "10.0.0.0/8");
  });
});

describe("associations", () => {
  test("a new subnet joins the default ACL; ReplaceNetworkAclAssociation moves it; associated or default ACLs cannot be deleted", async () => {
    const subnet = await cp.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.90.1.0/24" }));
    const subnetId = subnet.Subnet?.SubnetId as string;
    const defaultAcl = await describeAcl(defaultAclId);
    const association = defaultAcl.Associations?.find((a) => a.SubnetId === subnetId);
    assert.ok(association, "the subnet starts in the default ACL");
    assert.match(association?.NetworkAclAssociationId ?? "", /^aclassoc-[0-9a-f]{17}$/);
    const custom = await newAcl();
    const moved = await cp.ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: association?.NetworkAclAssociationId,
        NetworkAclId: custom,
      }),
    );
    assert.match(moved.NewAssociationId ?? "", /^aclassoc-[0-9a-f]{17}$/);
    assert.deepEqual(
      (await describeAcl(custom)).Associations?.map((a) => [a.SubnetId, a.NetworkAclAssociationId]),
      [[subnetId, moved.NewAssociationId]],
    );
    assert.ok(!(await describeAcl(defaultAclId)).Associations?.some((a) => a.SubnetId === subnetId));
    const bySubnet = await cp.ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: "association.subnet-id", Values: [subnetId] }] }),
    );
    assert.deepEqual(
      bySubnet.NetworkAcls?.map((a) => a.NetworkAclId),
      [custom],
      "every subnet has exactly one ACL",
    );

    assert.equal(
      await errorCode(cp.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: custom }))),
      "DependencyViolation",
    );
    await errorCode(cp.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: defaultAclId })));
    assert.equal((await describeAcl(defaultAclId)).IsDefault, true, "the default ACL is still there");

    // An ACL of another VPC cannot take the subnet.
    const otherVpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.92.0.0/16" }));
    const foreign = await newAcl(otherVpc.Vpc?.VpcId as string);
    await errorCode(
      cp.ec2.send(
        new ReplaceNetworkAclAssociationCommand({
          AssociationId: moved.NewAssociationId,
          NetworkAclId: foreign,
        }),
      ),
    );
    assert.deepEqual((await describeAcl(foreign)).Associations, []);
    assert.equal(
      await errorCode(
        cp.ec2.send(
          new ReplaceNetworkAclAssociationCommand({
            AssociationId: "aclassoc-0123456789abcdef0",
            NetworkAclId: custom,
          }),
        ),
      ),
      "InvalidAssociationID.NotFound",
    );

    const back = await cp.ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: moved.NewAssociationId,
        NetworkAclId: defaultAclId,
      }),
    );
    assert.ok(back.NewAssociationId);
    await cp.ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: custom }));
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [custom] }))),
      "InvalidNetworkAclID.NotFound",
    );
  });
});

describe("DescribeNetworkAcls", () => {
  test("filters on entries and defaults; pagination round trip", async () => {
    const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.93.0.0/16" }));
    const pagedVpc = vpc.Vpc?.VpcId as string;
    const made: string[] = [];
    for (let i = 0; i < 6; i++) made.push(await newAcl(pagedVpc));
    await addEntry(made[0] as string, { RuleNumber: 42, Protocol: "6", PortRange: { From: 5432, To: 5432 } });
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await cp.ec2.send(new DescribeNetworkAclsCommand({ Filters }))).NetworkAcls ?? [])
        .map((a) => a.NetworkAclId as string)
        .sort();
    const inVpc = { Name: "vpc-id", Values: [pagedVpc] };
    assert.deepEqual(await ids([inVpc, { Name: "entry.rule-number", Values: ["42"] }]), [made[0]]);
    assert.deepEqual(await ids([inVpc, { Name: "entry.port-range.from", Values: ["5432"] }]), [made[0]]);
    assert.deepEqual(await ids([inVpc, { Name: "entry.protocol", Values: ["6"] }]), [made[0]]);
    assert.deepEqual(await ids([inVpc, { Name: "entry.protocol", Values: ["tcp"] }]), [made[0]]);
    await addEntry(made[1] as string, { RuleNumber: 43, Protocol: "17", PortRange: { From: 53, To: 53 } });
    await addEntry(made[2] as string, {
      RuleNumber: 44,
      Protocol: "1",
      IcmpTypeCode: { Type: 8, Code: -1 },
    });
    assert.deepEqual(await ids([inVpc, { Name: "entry.protocol", Values: ["udp"] }]), [made[1]]);
    assert.deepEqual(await ids([inVpc, { Name: "entry.protocol", Values: ["icmp"] }]), [made[2]]);
    assert.deepEqual(await ids([inVpc, { Name: "entry.protocol", Values: ["t*"] }]), [made[0]]);
    assert.equal((await ids([inVpc, { Name: "default", Values: ["true"] }])).length, 1);
    assert.deepEqual(await ids([inVpc, { Name: "default", Values: ["false"] }]), [...made].sort());

    const all = await ids([inVpc]);
    assert.equal(all.length, 7);
    const first = await cp.ec2.send(new DescribeNetworkAclsCommand({ Filters: [inVpc], MaxResults: 5 }));
    assert.equal(first.NetworkAcls?.length, 5);
    assert.ok(first.NextToken);
    const second = await cp.ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [inVpc], MaxResults: 5, NextToken: first.NextToken }),
    );
    assert.equal(second.NetworkAcls?.length, 2);
    assert.equal(second.NextToken, undefined);
    assert.deepEqual(
      [...(first.NetworkAcls ?? []), ...(second.NetworkAcls ?? [])]
        .map((a) => a.NetworkAclId as string)
        .sort(),
      all,
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeNetworkAclsCommand({ Filters: [inVpc], MaxResults: 4 }))),
      "InvalidParameterValue",
    );
  });
});

describe("ACL quota", () => {
  test("200 ACLs per VPC, the default one included: the next is NetworkAclLimitExceeded", async () => {
    // Another region of the same account: this region's VPC quota is used up by the tests above.
    const client = cp.clientFor(cp.server.accessKeyId, cp.server.secretAccessKey, "eu-west-1");
    try {
      const vpc = await client.send(new CreateVpcCommand({ CidrBlock: "10.94.0.0/16" }));
      const id = vpc.Vpc?.VpcId as string;
      let created = 0;
      let refusal = "";
      while (created < 250) {
        try {
          await client.send(new CreateNetworkAclCommand({ VpcId: id }));
          created++;
        } catch (error) {
          refusal = (error as Error).name;
          break;
        }
      }
      assert.equal(refusal, "NetworkAclLimitExceeded");
      const acls = await client.send(
        new DescribeNetworkAclsCommand({ Filters: [{ Name: "vpc-id", Values: [id] }] }),
      );
      assert.equal(acls.NetworkAcls?.length, 200);
      assert.equal(created, 199);
    } finally {
      client.destroy();
    }
  });
});

describe("the aws CLI", () => {
  test("create-network-acl, create-network-acl-entry (number and name), duplicate number, describe-network-acls", async () => {
    const created = await cp.aws(["create-network-acl", "--vpc-id", vpcId]);
    assert.equal(created.code, 0, created.stderr);
    const id = (created.json as { NetworkAcl: { NetworkAclId: string } }).NetworkAcl.NetworkAclId;
    const added = await cp.aws([
      "create-network-acl-entry",
      "--network-acl-id",
      id,
      "--ingress",
      "--rule-number",
      "100",
      "--protocol",
      "6",
      "--port-range",
      "From=80,To=80",
      "--cidr-block",
      "0.0.0.0/0",
      "--rule-action",
      "allow",
    ]);
    assert.equal(added.code, 0, added.stderr);
    const byName = await cp.aws([
      "create-network-acl-entry",
      "--network-acl-id",
      id,
      "--ingress",
      "--rule-number",
      "110",
      "--protocol",
      "tcp",
      "--port-range",
      "From=81,To=81",
      "--cidr-block",
      "0.0.0.0/0",
      "--rule-action",
      "allow",
    ]);
    // The aws CLI itself turns protocol names into numbers (the server sees "6"; the SDK test above
    // covers a raw name reaching the server).
    assert.equal(byName.code, 0, byName.stderr);
    const again = await cp.aws([
      "create-network-acl-entry",
      "--network-acl-id",
      id,
      "--ingress",
      "--rule-number",
      "100",
      "--protocol",
      "-1",
      "--cidr-block",
      "0.0.0.0/0",
      "--rule-action",
      "deny",
    ]);
    assert.match(again.stderr, /NetworkAclEntryAlreadyExists/);
    const described = await cp.aws(["describe-network-acls", "--network-acl-ids", id]);
    const entries = (
      described.json as {
        NetworkAcls: { Entries: { RuleNumber: number; Protocol: string; Egress: boolean }[] }[];
      }
    ).NetworkAcls[0]?.Entries;
    assert.deepEqual(entries?.map((e) => [e.RuleNumber, e.Protocol, e.Egress]).sort(), [
      [100, "6", false],
      [110, "6", false],
      [32767, "-1", false],
      [32767, "-1", true],
    ]);
  });
});
