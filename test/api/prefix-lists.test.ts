// Managed prefix lists: customer lists (create, versions, entries, paging, references from group
// rules) and AWS-managed lists, against the real server through the SDK and the aws CLI.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateManagedPrefixListCommand,
  type CreateManagedPrefixListCommandInput,
  CreateSecurityGroupCommand,
  DeleteManagedPrefixListCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupsCommand,
  GetManagedPrefixListEntriesCommand,
  ModifyManagedPrefixListCommand,
  type ModifyManagedPrefixListCommandInput,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { PROTOCOL_NUMBERS } from "../../src/net/protocol.js";
import { evaluateFlow } from "../../src/policy/evaluate.js";
import { PolicyIndex } from "../../src/policy/policy-index.js";
import { estateOf } from "../../src/store/estate.js";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
const UNKNOWN_LIST = "pl-0123456789abcdef0";

async function newList(input: Partial<CreateManagedPrefixListCommandInput> = {}) {
  const out = await cp.ec2.send(
    new CreateManagedPrefixListCommand({
      PrefixListName: "list",
      MaxEntries: 5,
      AddressFamily: "IPv4",
      ...input,
    }),
  );
  return out.PrefixList as NonNullable<typeof out.PrefixList>;
}

async function describeList(id: string) {
  const out = await cp.ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] }));
  assert.equal(out.PrefixLists?.length, 1);
  return out.PrefixLists?.[0] as NonNullable<typeof out.PrefixLists>[number];
}

async function entriesOf(id: string, TargetVersion?: number): Promise<[string, string | undefined][]> {
  const out = await cp.ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: id, TargetVersion }));
  return (out.Entries ?? [])
    .map((e) => [e.Cidr as string, e.Description] as [string, string | undefined])
    .sort();
}

function modify(id: string, input: Partial<ModifyManagedPrefixListCommandInput>) {
  return cp.ec2.send(new ModifyManagedPrefixListCommand({ PrefixListId: id, ...input }));
}

before(async () => {
  cp = await startControlPlane();
});

after(async () => {
  await cp.close();
});

describe("CreateManagedPrefixList", () => {
  test("fields, version 1, canonical CIDRs with descriptions, tags; describe shows create-complete", async () => {
    const list = await newList({
      PrefixListName: "offices",
      MaxEntries: 10,
      Entries: [
        { Cidr: "192.0.2.77/24", Description: "london" },
        { Cidr: "198.51.100.0/25", Description: "paris" },
        { Cidr: "203.0.113.9/32" },
      ],
      TagSpecifications: [{ ResourceType: "prefix-list", Tags: [{ Key: "team", Value: "net" }] }],
    });
    const id = list.PrefixListId as string;
    assert.match(id, /^pl-[0-9a-f]{17}$/);
    assert.equal(list.PrefixListName, "offices");
    assert.equal(list.AddressFamily, "IPv4");
    assert.equal(list.MaxEntries, 10);
    assert.equal(list.Version, 1);
    assert.equal(list.State, "create-in-progress");
    assert.equal(list.OwnerId, cp.server.accountId);
    assert.equal(list.PrefixListArn, `arn:aws:ec2:us-east-1:${cp.server.accountId}:prefix-list/${id}`);
    assert.deepEqual(list.Tags, [{ Key: "team", Value: "net" }]);
    assert.equal((await describeList(id)).State, "create-complete");
    assert.deepEqual(await entriesOf(id), [
      ["192.0.2.0/24", "london"],
      ["198.51.100.0/25", "paris"],
      ["203.0.113.9/32", undefined],
    ]);
  });

  test("IPv6 lists take IPv6 CIDRs only, and the other way round", async () => {
    const v6 = await newList({
      PrefixListName: "v6",
      AddressFamily: "IPv6",
      Entries: [{ Cidr: "2001:DB8:0:0::/32" }],
    });
    assert.deepEqual(await entriesOf(v6.PrefixListId as string), [["2001:db8::/32", undefined]]);
    assert.equal(
      await errorCode(newList({ AddressFamily: "IPv6", Entries: [{ Cidr: "10.0.0.0/8" }] })),
      "InvalidParameterValue",
    );
    assert.equal(await errorCode(newList({ Entries: [{ Cidr: "2001:db8::/32" }] })), "InvalidParameterValue");
  });

  test("refused: reserved names, bad family, more entries than MaxEntries, duplicate or malformed CIDRs", async () => {
    const before = (await cp.ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists?.length;
    assert.equal(
      await errorCode(newList({ PrefixListName: "com.amazonaws.us-east-1.s3" })),
      "InvalidParameterValue",
    );
    assert.equal(await errorCode(newList({ AddressFamily: "IPv5" })), "InvalidParameterValue");
    assert.equal(
      await errorCode(newList({ MaxEntries: 1, Entries: [{ Cidr: "10.0.0.0/8" }, { Cidr: "11.0.0.0/8" }] })),
      "InvalidParameterValue",
    );
    assert.equal(
      await errorCode(newList({ Entries: [{ Cidr: "10.0.0.0/8" }, { Cidr: "10.1.0.0/8" }] })),
      "InvalidParameterValue",
      "10.1.0.0/8 is 10.0.0.0/8 again",
    );
    assert.equal(await errorCode(newList({ Entries: [{ Cidr: "10.0.0.0/33" }] })), "InvalidParameterValue");
    assert.equal(await errorCode(newList({ DryRun: true })), "DryRunOperation");
    assert.equal((await cp.ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists?.length, before);
  });

  test("the same ClientToken returns the same list", async () => {
    const first = await newList({ PrefixListName: "idempotent", ClientToken: "token-1" });
    const second = await newList({ PrefixListName: "idempotent", ClientToken: "token-1" });
    assert.equal(second.PrefixListId, first.PrefixListId);
    assert.equal(
      await errorCode(newList({ PrefixListName: "different", ClientToken: "token-1" })),
      "IdempotentParameterMismatch",
    );
  });
});

describe("ModifyManagedPrefixList", () => {
  test("add and remove with the current version make a new version; the old one stays readable", async () => {
    const list = await newList({
      PrefixListName: "versions",
      Entries: [{ Cidr: "10.0.0.0/8" }, { Cidr: "172.16.0.0/12" }],
    });
    const id = list.PrefixListId as string;
    const out = await modify(id, {
      CurrentVersion: 1,
      AddEntries: [{ Cidr: "192.168.0.0/16", Description: "home" }],
      RemoveEntries: [{ Cidr: "172.16.0.0/12" }],
    });
    assert.equal(out.PrefixList?.Version, 2);
    assert.equal((await describeList(id)).Version, 2);
    assert.deepEqual(await entriesOf(id), [
      ["10.0.0.0/8", undefined],
      ["192.168.0.0/16", "home"],
    ]);
    assert.deepEqual(await entriesOf(id, 1), [
      ["10.0.0.0/8", undefined],
      ["172.16.0.0/12", undefined],
    ]);
    assert.equal(
      await errorCode(modify(id, { CurrentVersion: 1, AddEntries: [{ Cidr: "100.64.0.0/10" }] })),
      "PrefixListVersionMismatch",
    );
    assert.equal(
      await errorCode(
        modify(id, { CurrentVersion: 2, AddEntries: [{ Cidr: "100.64.0.0/10" }], DryRun: true }),
      ),
      "DryRunOperation",
    );
    assert.equal((await describeList(id)).Version, 2, "neither the stale nor the dry request changed it");
    assert.equal((await entriesOf(id)).length, 2);
  });

  test("MaxEntries: not together with entry changes, never below the entry count, and adds cannot overflow it", async () => {
    const list = await newList({
      PrefixListName: "bounded",
      MaxEntries: 2,
      Entries: [{ Cidr: "10.0.0.0/8" }],
    });
    const id = list.PrefixListId as string;
    assert.equal(
      await errorCode(modify(id, { CurrentVersion: 1, MaxEntries: 3, AddEntries: [{ Cidr: "11.0.0.0/8" }] })),
      "InvalidParameterCombination",
    );
    // Three entries in a list of at most two fails (the spec names no code, so any error will do).
    await errorCode(
      modify(id, { CurrentVersion: 1, AddEntries: [{ Cidr: "11.0.0.0/8" }, { Cidr: "12.0.0.0/8" }] }),
    );
    assert.deepEqual(await entriesOf(id), [["10.0.0.0/8", undefined]]);
    await modify(id, { MaxEntries: 3 });
    assert.equal((await describeList(id)).MaxEntries, 3);
    await modify(id, { CurrentVersion: 1, AddEntries: [{ Cidr: "11.0.0.0/8" }, { Cidr: "12.0.0.0/8" }] });
    assert.equal(await errorCode(modify(id, { MaxEntries: 2 })), "InvalidParameterValue");
    assert.equal(
      await errorCode(modify(id, { CurrentVersion: 2, RemoveEntries: [{ Cidr: "13.0.0.0/8" }] })),
      "InvalidParameterValue",
      "removing an entry that is not there",
    );
    await modify(id, { PrefixListName: "renamed" });
    assert.equal((await describeList(id)).PrefixListName, "renamed");
  });
});

describe("MaxEntries and the rule quota", () => {
  test("a larger maximum that would take a referring group over its quota is refused", async () => {
    const list = await newList({ PrefixListName: "weighted", MaxEntries: 50 });
    const id = list.PrefixListId as string;
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "weighted-refs", Description: "quota" }),
    );
    const groupId = group.GroupId as string;
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: id }] },
          {
            IpProtocol: "tcp",
            FromPort: 22,
            ToPort: 22,
            IpRanges: Array.from({ length: 10 }, (_, i) => ({ CidrIp: `10.${i}.0.0/16` })),
          },
        ],
      }),
    );
    // 50 + 10 = 60: at the quota; one more entry of room would be 61
    assert.equal(await errorCode(modify(id, { MaxEntries: 51 })), "RulesPerSecurityGroupLimitExceeded");
    assert.equal((await describeList(id)).MaxEntries, 50, "nothing changed");
    await modify(id, { MaxEntries: 40 });
    assert.equal((await describeList(id)).MaxEntries, 40);
  });
});

describe("DescribeManagedPrefixLists and GetManagedPrefixListEntries", () => {
  test("filters by name, id and owner", async () => {
    const list = await newList({ PrefixListName: "findme" });
    const ids = async (Filters: { Name: string; Values: string[] }[]) =>
      ((await cp.ec2.send(new DescribeManagedPrefixListsCommand({ Filters }))).PrefixLists ?? []).map(
        (l) => l.PrefixListId,
      );
    assert.deepEqual(await ids([{ Name: "prefix-list-name", Values: ["findme"] }]), [list.PrefixListId]);
    assert.deepEqual(await ids([{ Name: "prefix-list-id", Values: [list.PrefixListId as string] }]), [
      list.PrefixListId,
    ]);
    assert.ok((await ids([{ Name: "owner-id", Values: [cp.server.accountId] }])).includes(list.PrefixListId));
    assert.deepEqual(await ids([{ Name: "owner-id", Values: ["999999999999"] }]), []);
  });

  test("paging lists (MaxResults 1..100) and entries round trip", async () => {
    const all = (await cp.ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists ?? [];
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await cp.ec2.send(
        new DescribeManagedPrefixListsCommand({ MaxResults: 2, NextToken: token }),
      );
      seen.push(...(page.PrefixLists ?? []).map((l) => l.PrefixListId as string));
      token = page.NextToken;
      pages++;
    } while (token && pages < 100);
    assert.equal(pages, Math.ceil(all.length / 2));
    assert.deepEqual(seen.sort(), all.map((l) => l.PrefixListId as string).sort());
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeManagedPrefixListsCommand({ MaxResults: 101 }))),
      "InvalidParameterValue",
    );

    const cidrs = Array.from({ length: 5 }, (_, i) => `10.${i}.0.0/16`);
    const list = await newList({ PrefixListName: "paged", Entries: cidrs.map((Cidr) => ({ Cidr })) });
    const id = list.PrefixListId as string;
    const first = await cp.ec2.send(
      new GetManagedPrefixListEntriesCommand({ PrefixListId: id, MaxResults: 3 }),
    );
    assert.equal(first.Entries?.length, 3);
    assert.ok(first.NextToken);
    const second = await cp.ec2.send(
      new GetManagedPrefixListEntriesCommand({ PrefixListId: id, MaxResults: 3, NextToken: first.NextToken }),
    );
    assert.equal(second.Entries?.length, 2);
    assert.equal(second.NextToken, undefined);
    assert.deepEqual(
      [...(first.Entries ?? []), ...(second.Entries ?? [])].map((e) => e.Cidr).sort(),
      [...cidrs].sort(),
    );
  });

  test("unknown and malformed ids", async () => {
    assert.equal(
      await errorCode(cp.ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: UNKNOWN_LIST }))),
      "InvalidPrefixListID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [UNKNOWN_LIST] }))),
      "InvalidPrefixListID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: "pl-zz" }))),
      "InvalidPrefixListId.Malformed",
    );
    assert.equal(
      await errorCode(modify(UNKNOWN_LIST, { PrefixListName: "x" })),
      "InvalidPrefixListID.NotFound",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: UNKNOWN_LIST }))),
      "InvalidPrefixListID.NotFound",
    );
  });
});

describe("DeleteManagedPrefixList", () => {
  test("a list referenced by a group rule cannot be deleted; after the revoke it can", async () => {
    const list = await newList({ PrefixListName: "referenced", Entries: [{ Cidr: "10.0.0.0/8" }] });
    const id = list.PrefixListId as string;
    const group = await cp.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "uses-list", Description: "uses a list" }),
    );
    const permission = {
      IpProtocol: "tcp",
      FromPort: 443,
      ToPort: 443,
      PrefixListIds: [{ PrefixListId: id }],
    };
    await cp.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: group.GroupId, IpPermissions: [permission] }),
    );
    const described = await cp.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: [group.GroupId as string] }),
    );
    assert.deepEqual(
      described.SecurityGroups?.[0]?.IpPermissions?.[0]?.PrefixListIds?.map((p) => p.PrefixListId),
      [id],
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id }))),
      "DependencyViolation",
    );
    await cp.ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: group.GroupId, IpPermissions: [permission] }),
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id, DryRun: true }))),
      "DryRunOperation",
    );
    assert.equal((await describeList(id)).PrefixListId, id, "dry run kept it");
    const deleted = await cp.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: id }));
    assert.equal(deleted.PrefixList?.State, "delete-in-progress");
    assert.equal(
      await errorCode(cp.ec2.send(new DescribeManagedPrefixListsCommand({ PrefixListIds: [id] }))),
      "InvalidPrefixListID.NotFound",
    );
  });
});

describe("AWS-managed lists", () => {
  const west = () => cp.clientFor(cp.server.accessKeyId, cp.server.secretAccessKey, "us-west-2");

  test("DescribeManagedPrefixLists lists the region's AWS-managed lists, owned by AWS (spec 2.22)", async () => {
    const out = await cp.ec2.send(
      new DescribeManagedPrefixListsCommand({ Filters: [{ Name: "owner-id", Values: ["AWS"] }] }),
    );
    const lists = out.PrefixLists ?? [];
    assert.deepEqual(lists.map((l) => l.PrefixListName).sort(), [
      "com.amazonaws.us-east-1.dynamodb",
      "com.amazonaws.us-east-1.s3",
    ]);
    const s3 = lists.find((l) => l.PrefixListName === "com.amazonaws.us-east-1.s3");
    assert.equal(s3?.PrefixListId, "pl-63a5400a");
    assert.equal(s3?.OwnerId, "AWS");
    assert.equal(s3?.AddressFamily, "IPv4");
    assert.equal(s3?.State, "create-complete");
    assert.equal(s3?.PrefixListArn, "arn:aws:ec2:us-east-1:aws:prefix-list/pl-63a5400a");
    // The account's own lists are not AWS's.
    const own = await cp.ec2.send(
      new DescribeManagedPrefixListsCommand({
        Filters: [{ Name: "owner-id", Values: [cp.server.accountId] }],
      }),
    );
    assert.ok((own.PrefixLists ?? []).every((l) => l.OwnerId === cp.server.accountId));
  });

  test("entries where AWS published them; by id, by name filter, and in every account", async () => {
    const client = west();
    try {
      const byName = await client.send(
        new DescribeManagedPrefixListsCommand({
          Filters: [{ Name: "prefix-list-name", Values: ["com.amazonaws.us-west-2.s3"] }],
        }),
      );
      assert.equal(byName.PrefixLists?.[0]?.PrefixListId, "pl-68a54001");
      const entries = await client.send(
        new GetManagedPrefixListEntriesCommand({ PrefixListId: "pl-68a54001" }),
      );
      assert.deepEqual((entries.Entries ?? []).map((e) => e.Cidr).sort(), [
        "52.218.128.0/17",
        "52.92.32.0/22",
        "54.231.160.0/19",
      ]);
      // Another region's AWS list is not this region's.
      assert.equal(
        await errorCode(cp.ec2.send(new GetManagedPrefixListEntriesCommand({ PrefixListId: "pl-68a54001" }))),
        "InvalidPrefixListID.NotFound",
      );
    } finally {
      client.destroy();
    }
  });

  test("AWS-managed lists cannot be modified or deleted", async () => {
    assert.equal(
      await errorCode(modify("pl-63a5400a", { CurrentVersion: 1, AddEntries: [{ Cidr: "10.0.0.0/8" }] })),
      "UnsupportedOperation",
    );
    assert.equal(
      await errorCode(cp.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: "pl-63a5400a" }))),
      "UnsupportedOperation",
    );
    assert.equal((await describeList("pl-63a5400a")).PrefixListName, "com.amazonaws.us-east-1.s3");
  });

  test("names reserved for AWS: com.amazonaws with or without a dot after it, com.amazon. and com.aws., on create and on rename", async () => {
    const reserved = [
      "com.amazonaws.probe",
      "com.amazonaws-probe",
      "com.amazonaws",
      "com.amazon.probe",
      "com.aws.probe",
    ];
    for (const name of reserved) {
      assert.equal(await errorCode(newList({ PrefixListName: name })), "InvalidParameterValue", name);
    }
    for (const name of ["comamazonaws.probe", "com.amazon-probe"]) {
      const list = await newList({ PrefixListName: name });
      assert.equal(list.PrefixListName, name);
      for (const taken of reserved) {
        assert.equal(
          await errorCode(
            cp.ec2.send(
              new ModifyManagedPrefixListCommand({ PrefixListId: list.PrefixListId, PrefixListName: taken }),
            ),
          ),
          "InvalidParameterValue",
          `renamed to ${taken}`,
        );
      }
      await cp.ec2.send(new DeleteManagedPrefixListCommand({ PrefixListId: list.PrefixListId }));
    }
  });

  test("a rule may name an AWS-managed list, and the analysis expands its entries", async () => {
    const client = west();
    try {
      const group = await client.send(
        new CreateSecurityGroupCommand({ GroupName: "to-s3", Description: "egress to S3 only" }),
      );
      const groupId = group.GroupId as string;
      // Without the default all-egress rule, only the list's addresses are reachable.
      await client.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: groupId,
          IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        }),
      );
      const authorized = await client.send(
        new AuthorizeSecurityGroupEgressCommand({
          GroupId: groupId,
          IpPermissions: [
            {
              IpProtocol: "tcp",
              FromPort: 443,
              ToPort: 443,
              PrefixListIds: [{ PrefixListId: "pl-68a54001" }],
            },
          ],
        }),
      );
      const ruleId = authorized.SecurityGroupRules?.[0]?.SecurityGroupRuleId;
      const described = await client.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
      const rule = described.SecurityGroups?.[0]?.IpPermissionsEgress?.find((p) => p.FromPort === 443);
      assert.deepEqual(
        rule?.PrefixListIds?.map((p) => p.PrefixListId),
        ["pl-68a54001"],
      );

      const run = await client.send(
        new RunInstancesCommand({
          ImageId: "ami-any",
          MinCount: 1,
          MaxCount: 1,
          SecurityGroupIds: [groupId],
        }),
      );
      const eniId = run.Instances?.[0]?.NetworkInterfaces?.[0]?.NetworkInterfaceId as string;
      const index = PolicyIndex.build(estateOf(cp.server.store.view(), "us-west-2"));
      const to = (address: string) =>
        evaluateFlow(index, {
          source: { kind: "interface", interfaceId: eniId },
          destination: { kind: "address", address },
          traffic: { protocol: PROTOCOL_NUMBERS.tcp, port: 443 },
        });
      const allowed = to("52.92.33.7");
      assert.equal(allowed.allowed, true);
      assert.deepEqual(
        allowed.steps.sourceEgress.kind === "allowed"
          ? allowed.steps.sourceEgress.matches.map((m) => m.ruleId)
          : [],
        [ruleId],
      );
      const outside = to("52.92.36.1");
      assert.equal(outside.allowed, false);
      assert.equal(outside.blockedAt, "source-egress");
    } finally {
      client.destroy();
    }
  });
});

describe("the aws CLI", () => {
  test("create-managed-prefix-list, modify with --current-version, get-managed-prefix-list-entries", async () => {
    const created = await cp.aws([
      "create-managed-prefix-list",
      "--prefix-list-name",
      "cli",
      "--max-entries",
      "4",
      "--address-family",
      "IPv4",
      "--entries",
      "Cidr=10.9.0.0/16,Description=nine",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const id = (created.json as { PrefixList: { PrefixListId: string; Version: number } }).PrefixList
      .PrefixListId;
    const modified = await cp.aws([
      "modify-managed-prefix-list",
      "--prefix-list-id",
      id,
      "--current-version",
      "1",
      "--add-entries",
      "Cidr=10.10.0.0/16",
    ]);
    assert.equal(modified.code, 0, modified.stderr);
    assert.equal((modified.json as { PrefixList: { Version: number } }).PrefixList.Version, 2);
    const stale = await cp.aws([
      "modify-managed-prefix-list",
      "--prefix-list-id",
      id,
      "--current-version",
      "1",
      "--add-entries",
      "Cidr=10.11.0.0/16",
    ]);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /PrefixListVersionMismatch/);
    const entries = await cp.aws(["get-managed-prefix-list-entries", "--prefix-list-id", id]);
    assert.deepEqual((entries.json as { Entries: { Cidr: string }[] }).Entries.map((e) => e.Cidr).sort(), [
      "10.10.0.0/16",
      "10.9.0.0/16",
    ]);
  });
});
