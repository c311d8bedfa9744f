import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ImportError, readSnapshot } from "../../src/importers/snapshot.js";

const scratch = await mkdtemp(join(tmpdir(), "rf-import-"));
after(() => rm(scratch, { recursive: true, force: true }));

let counter = 0;
async function snapshotOf(files: Record<string, unknown>): Promise<string> {
  const dir = join(scratch, `s${counter++}`);
  for (const [name, body] of Object.entries(files)) {
    const path = join(dir, name);
    await mkdir(join(path, ".."), { recursive: true });
    await writeFile(path, typeof body === "string" ? body : JSON.stringify(body));
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

const sg = (id: string, ingress: unknown[] = [], extra: Record<string, unknown> = {}) => ({
  GroupId: id,
  GroupName: id,
  Description: "d",
  VpcId: "vpc-1",
  OwnerId: "111111111111",
  IpPermissions: ingress,
  IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
  ...extra,
});

describe("snapshot directories", () => {
  test("symbolic links to files and directories are followed; a loop is read once", async () => {
    const real = await snapshotOf({
      "groups.json": { SecurityGroups: [sg("sg-linked")] },
      "eu-west-1/SecurityGroups.json": { SecurityGroups: [sg("sg-in-linked-dir")] },
    });
    const links = join(scratch, `links${counter++}`);
    await mkdir(links);
    await symlink(join(real, "groups.json"), join(links, "groups.json"));
    await symlink(join(real, "eu-west-1"), join(links, "eu-west-1"));
    await symlink(links, join(links, "loop"));
    const e = await readSnapshot(links);
    assert.deepEqual(e.securityGroups.map((g) => g.id).sort(), ["sg-in-linked-dir", "sg-linked"]);
  });

  test("a link to nothing and a directory without JSON are errors, not an empty estate", async () => {
    const dangling = await snapshotOf({ "groups.json": { SecurityGroups: [sg("sg-1")] } });
    await symlink(join(dangling, "gone.json"), join(dangling, "vpcs.json"));
    await assert.rejects(readSnapshot(dangling), (error: unknown) => {
      assert.ok(error instanceof ImportError);
      assert.match(error.message, /vpcs\.json: a symbolic link to nothing/);
      return true;
    });
    const empty = await snapshotOf({ "notes.txt": "not json" });
    await assert.rejects(readSnapshot(empty), /no \.json files in this directory/);
  });
});

describe("snapshot shapes", () => {
  test("a group pair's peering and its status are read", async () => {
    const dir = await snapshotOf({
      "groups.json": {
        SecurityGroups: [
          sg("sg-1", [
            {
              IpProtocol: "tcp",
              FromPort: 22,
              ToPort: 22,
              UserIdGroupPairs: [
                {
                  GroupId: "sg-2",
                  UserId: "222222222222",
                  VpcPeeringConnectionId: "pcx-1",
                  PeeringStatus: "deleted",
                },
              ],
            },
          ]),
        ],
      },
    });
    const peer = (await readSnapshot(dir)).securityGroups[0]?.rules.find(
      (r) => r.direction === "ingress",
    )?.peer;
    assert.deepEqual(peer, {
      kind: "group",
      groupId: "sg-2",
      userId: "222222222222",
      vpcPeeringConnectionId: "pcx-1",
      peeringStatus: "deleted",
    });
  });

  test("file names do not matter; the top-level key does", async () => {
    const dir = await snapshotOf({
      "whatever.json": { SecurityGroups: [sg("sg-1")] },
      "describe-subnets.json": {
        Subnets: [{ SubnetId: "subnet-1", VpcId: "vpc-1", CidrBlock: "10.0.0.0/24" }],
      },
      "ignored.json": { InternetGateways: [] },
      "notes.txt": "not json, not read",
    });
    const e = await readSnapshot(dir);
    assert.deepEqual(
      e.securityGroups.map((g) => g.id),
      ["sg-1"],
    );
    assert.deepEqual(
      e.subnets.map((s) => s.cidr),
      ["10.0.0.0/24"],
    );
    assert.equal(e.networkInterfaces.length, 0);
  });

  test("recorded-response wrappers and one subdirectory per region are merged; recorded errors skipped", async () => {
    const dir = await snapshotOf({
      "us-east-1/ec2.DescribeSecurityGroups_1.json": {
        status_code: 200,
        data: { SecurityGroups: [sg("sg-east")] },
      },
      "eu-west-1/SecurityGroups.json": { SecurityGroups: [sg("sg-west")] },
      "eu-west-1/ec2.DescribeVpcs_1.json": {
        status_code: 400,
        data: { Error: { Code: "UnauthorizedOperation" } },
      },
    });
    const e = await readSnapshot(dir);
    assert.deepEqual(e.securityGroups.map((g) => g.id).sort(), ["sg-east", "sg-west"]);
    assert.equal(e.vpcs.length, 0);
    // nothing but refusals is no answer: not an empty estate that every check passes
    const refused = await snapshotOf({
      "ec2.DescribeSecurityGroups_1.json": {
        status_code: 403,
        data: { Error: { Code: "UnauthorizedOperation" } },
      },
    });
    await assert.rejects(readSnapshot(refused), /no describe-\* output here/);
  });

  test("rules without ids get stable ids from their content", async () => {
    const perm = { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.0.0.0/8" }] };
    const a = await readSnapshot(await snapshotOf({ "a.json": { SecurityGroups: [sg("sg-1", [perm])] } }));
    const b = await readSnapshot(
      await snapshotOf({
        // same rule, other description and non-canonical CIDR text: still the same rule (spec 3.4)
        "b.json": {
          SecurityGroups: [
            sg("sg-1", [
              { ...perm, IpRanges: [{ CidrIp: "10.1.2.3/8", Description: "x" }] },
              { ...perm, FromPort: 23, ToPort: 23 },
            ]),
          ],
        },
      }),
    );
    const idsA = a.securityGroups[0]?.rules.map((r) => r.id) ?? [];
    const idsB = b.securityGroups[0]?.rules.map((r) => r.id) ?? [];
    assert.equal(idsA.length, 2); // ingress 22 + egress all
    assert.equal(idsB.length, 3);
    assert.ok(idsA.every((id) => /^sgr-[0-9a-f]{17}$/.test(id)));
    assert.ok(idsB.includes(idsA[0] as string));
    assert.equal(new Set(idsB).size, 3);
  });

  test("an interface's connection-tracking timeouts are read, and absent where it has none", async () => {
    const e = await readSnapshot(
      await snapshotOf({
        "NetworkInterfaces.json": {
          NetworkInterfaces: [
            {
              NetworkInterfaceId: "eni-1",
              PrivateIpAddresses: [{ PrivateIpAddress: "10.0.0.5", Primary: true }],
              ConnectionTrackingConfiguration: { TcpEstablishedTimeout: 350, UdpTimeout: 30 },
            },
            { NetworkInterfaceId: "eni-2", PrivateIpAddresses: [{ PrivateIpAddress: "10.0.0.6" }] },
          ],
        },
      }),
    );
    const byId = new Map(e.networkInterfaces.map((i) => [i.id, i]));
    assert.deepEqual(byId.get("eni-1")?.connectionTracking, { tcpEstablishedTimeout: 350, udpTimeout: 30 });
    assert.equal(byId.get("eni-2")?.connectionTracking, undefined);
  });

  test("a byte order mark is not part of the JSON: UTF-8 and UTF-16 files with one are read", async () => {
    const body = JSON.stringify({ SecurityGroups: [sg("sg-bom")] });
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, "utf16le")]);
    const utf16be = Buffer.from(utf16le);
    utf16be.swap16();
    const dir = await snapshotOf({});
    await writeFile(join(dir, "a.json"), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]));
    await writeFile(join(dir, "b.json"), utf16le);
    await writeFile(join(dir, "c.json"), utf16be);
    for (const file of ["a.json", "b.json", "c.json"]) {
      const e = await readSnapshot(join(dir, file));
      assert.deepEqual(
        e.securityGroups.map((g) => g.id),
        ["sg-bom"],
        file,
      );
    }
  });

  test("an IPv6-only subnet has no IPv4 block", async () => {
    const e = await readSnapshot(
      await snapshotOf({
        "subnets.json": {
          Subnets: [
            {
              SubnetId: "subnet-6",
              VpcId: "vpc-1",
              Ipv6Native: true,
              Ipv6CidrBlockAssociationSet: [{ Ipv6CidrBlock: "2600:1f18:1:1::/64" }],
            },
          ],
        },
      }),
    );
    assert.equal(e.subnets[0]?.cidr, undefined);
    assert.deepEqual(e.subnets[0]?.ipv6Cidrs, ["2600:1f18:1:1::/64"]);
  });

  test("a missing directory is an ImportError; so is an empty one; files with empty lists are an empty estate", async () => {
    await assert.rejects(readSnapshot(join(scratch, "nope")), ImportError);
    await assert.rejects(readSnapshot(await snapshotOf({})), ImportError);
    const e = await readSnapshot(await snapshotOf({ "groups.json": { SecurityGroups: [] } }));
    assert.equal(e.securityGroups.length + e.networkInterfaces.length + e.vpcs.length, 0);
  });
});

describe("malformed dumps name the file and the field", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      "bad CIDR",
      {
        "SecurityGroups.json": {
          SecurityGroups: [
            sg("sg-0"),
            sg("sg-1"),
            sg("sg-2"),
            sg("sg-3", [
              {
                IpProtocol: "tcp",
                FromPort: 1,
                ToPort: 2,
                IpRanges: [{ CidrIp: "10.0.0.0/8" }, { CidrIp: "10.0.0/8" }],
              },
            ]),
          ],
        },
      },
      /^SecurityGroups\.json: SecurityGroups\[3\]\.IpPermissions\[0\]\.IpRanges\[1\]\.CidrIp: "10\.0\.0\/8" is not an IPv4 CIDR$/,
    ],
    ["not JSON", { "Vpcs.json": "{ nope" }, /^Vpcs\.json: not valid JSON/],
    [
      "missing id",
      { "x.json": { SecurityGroups: [{ GroupName: "a" }] } },
      /^x\.json: SecurityGroups\[0\]\.GroupId: is missing$/,
    ],
    [
      "bad protocol",
      {
        "x.json": {
          SecurityGroups: [sg("sg-1", [{ IpProtocol: "all", IpRanges: [{ CidrIp: "1.2.3.4/32" }] }])],
        },
      },
      /SecurityGroups\[0\]\.IpPermissions\[0\]\.IpProtocol: "all" is not an IP protocol/,
    ],
    [
      "port out of range",
      {
        "x.json": {
          SecurityGroups: [sg("sg-1", [{ IpProtocol: "tcp", FromPort: 0, ToPort: 70000, IpRanges: [] }])],
        },
      },
      /IpPermissions\[0\]\.ToPort: 70000 is not a port/,
    ],
    ["list expected", { "x.json": { Subnets: { SubnetId: "s" } } }, /^x\.json: Subnets: .* is not a list$/],
    [
      "bad address in a region subdirectory",
      {
        "eu/NetworkInterfaces.json": {
          NetworkInterfaces: [
            { NetworkInterfaceId: "eni-1", PrivateIpAddresses: [{ PrivateIpAddress: "10.0.0.300" }] },
          ],
        },
      },
      /^eu\/NetworkInterfaces\.json: NetworkInterfaces\[0\]\.PrivateIpAddresses\[0\]\.PrivateIpAddress: "10\.0\.0\.300" is not an IPv4 address$/,
    ],
    [
      "bad ACL action",
      {
        "a.json": {
          NetworkAcls: [
            {
              NetworkAclId: "acl-1",
              Entries: [{ RuleNumber: 1, Protocol: "-1", RuleAction: "maybe", CidrBlock: "0.0.0.0/0" }],
            },
          ],
        },
      },
      /NetworkAcls\[0\]\.Entries\[0\]\.RuleAction: "maybe" is not allow or deny/,
    ],
    [
      "a tcp range with one end",
      {
        "x.json": {
          SecurityGroups: [sg("sg-1", [{ IpProtocol: "tcp", FromPort: 22, IpRanges: [] }])],
        },
      },
      /IpPermissions\[0\]\.ToPort: is missing$/,
    ],
    [
      "ICMP type out of range",
      {
        "x.json": {
          SecurityGroups: [
            sg("sg-1", [
              { IpProtocol: "icmp", FromPort: 300, ToPort: -1, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
            ]),
          ],
        },
      },
      /IpPermissions\[0\]\.FromPort: 300 is not an ICMP type/,
    ],
    [
      "ICMPv6 code out of range",
      {
        "x.json": {
          SecurityGroups: [
            sg("sg-1", [{ IpProtocol: "icmpv6", FromPort: 128, ToPort: 256, Ipv6Ranges: [] }]),
          ],
        },
      },
      /IpPermissions\[0\]\.ToPort: 256 is not an ICMP code/,
    ],
    [
      "ACL ICMP type out of range",
      {
        "a.json": {
          NetworkAcls: [
            {
              NetworkAclId: "acl-1",
              Entries: [
                {
                  RuleNumber: 1,
                  Protocol: "1",
                  RuleAction: "allow",
                  CidrBlock: "0.0.0.0/0",
                  IcmpTypeCode: { Type: 99999, Code: -1 },
                },
              ],
            },
          ],
        },
      },
      /Entries\[0\]\.IcmpTypeCode\.Type: 99999 is not an ICMP type/,
    ],
    [
      "ACL port range upside down",
      {
        "a.json": {
          NetworkAcls: [
            {
              NetworkAclId: "acl-1",
              Entries: [
                {
                  RuleNumber: 1,
                  Protocol: "6",
                  RuleAction: "allow",
                  CidrBlock: "0.0.0.0/0",
                  PortRange: { From: 90, To: 80 },
                },
              ],
            },
          ],
        },
      },
      /Entries\[0\]\.PortRange: From 90 is above To 80/,
    ],
    [
      "no describe output at all",
      { "routes.json": { RouteTables: [] }, "empty.json": {} },
      /no describe-\* output here/,
    ],
  ];
  for (const [name, files, message] of cases) {
    test(name, async () => {
      const dir = await snapshotOf(files);
      await assert.rejects(readSnapshot(dir), (error: unknown) => {
        assert.ok(error instanceof ImportError, String(error));
        assert.match(error.message, message);
        return true;
      });
    });
  }
});

export const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/aws/", import.meta.url));
