// The analysis commands as a user runs them: the built `ringfence` binary on the fixture dumps.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startControlPlane } from "../support/control-plane.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/aws/", import.meta.url));
const scratch = await mkdtemp(join(tmpdir(), "rf-analysis-cli-"));
after(() => rm(scratch, { recursive: true, force: true }));

function ringfence(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: scratch, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const batfish = ["--snapshot", `${FIXTURES}batfish-hybrid-cloud`];
const cloudmapper = ["--snapshot", `${FIXTURES}cloudmapper-demo`];

describe("ringfence can", () => {
  test("exit 0 when allowed, 1 when denied, 2 on errors", async () => {
    const yes = await ringfence(["can", ...batfish, "eni-822b55ac", "eni-0681f828", "tcp/80"]);
    assert.equal(yes.code, 0, yes.stderr);
    assert.match(yes.stdout, /ALLOWED/);
    const no = await ringfence(["can", ...batfish, "eni-822b55ac", "eni-0681f828", "tcp/8080"]);
    assert.equal(no.code, 1);
    assert.match(no.stdout, /DENIED at destination-ingress/);
    for (const args of [
      ["can", ...batfish, "eni-822b55ac", "eni-nope", "tcp/80"],
      ["can", ...batfish, "eni-822b55ac", "eni-0681f828", "tcp/99999"],
      ["can", ...batfish, "eni-822b55ac"],
      ["can", "--snapshot", join(scratch, "missing"), "a", "b", "tcp/1"],
      ["can", "--bogus"],
    ]) {
      const r = await ringfence(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
  });

  test("--json gives the verdicts; a port range is allowed only when every port is", async () => {
    const r = await ringfence(["can", ...batfish, "--json", "eni-0681f828", "eni-822b55ac", "tcp/8000-8010"]);
    assert.equal(r.code, 0);
    const [v] = JSON.parse(r.stdout) as { allowed: boolean; portsChecked: number; portsDenied: number[] }[];
    assert.equal(v?.portsChecked, 11);
    assert.deepEqual(v?.portsDenied, []);
    // sg-94df21e9 admits 80 but not 81
    const mixed = await ringfence(["can", ...batfish, "--json", "eni-822b55ac", "eni-0681f828", "tcp/80-81"]);
    assert.equal(mixed.code, 1);
    assert.deepEqual((JSON.parse(mixed.stdout) as { portsDenied: number[] }[])[0]?.portsDenied, [81]);
  });

  test("selectors by group name and tag; internet", async () => {
    // tag Name=border_01 is i-0383fda87c012141d with two interfaces; both admit tcp/22 from anywhere
    const r = await ringfence(["can", ...batfish, "internet", "tag:Name=border_01", "tcp/22"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 of 2 flows allowed/);
    const g = await ringfence(["can", ...cloudmapper, "Bastion", "Internal web", "tcp/8000"]);
    assert.equal(g.code, 0, g.stdout + g.stderr);
  });
});

describe("other queries", () => {
  test("who-can-reach, reachable-from, exposure", async () => {
    const who = await ringfence(["who-can-reach", ...cloudmapper, "i-00000000000000001", "tcp/8000"]);
    assert.equal(who.code, 0);
    assert.match(who.stdout, /i-00000000000000000\/eni-00000000 10\.0\.0\.1 \[sg-00000002\]/);
    // a range, as its help says: whoever may open flows on every port of it
    const range = await ringfence(["who-can-reach", ...cloudmapper, "i-00000000000000001", "tcp/8000-8001"]);
    assert.equal(range.code, 0, range.stderr);
    assert.match(range.stdout, /tcp\/8000-8001 can be reached from:\n {2}nobody/);
    const one = await ringfence(["who-can-reach", ...cloudmapper, "i-00000000000000001", "tcp/8000-8000"]);
    assert.equal(one.stdout, who.stdout);
    const from = await ringfence(["reachable-from", ...cloudmapper, "--json", "i-00000000000000000"]);
    assert.equal(from.code, 0, from.stderr);
    const parsed = JSON.parse(from.stdout) as {
      destinations: { interfaceId: string; services: string[] }[];
    }[];
    assert.deepEqual(parsed[0]?.destinations.find((d) => d.interfaceId === "eni-00000001")?.services, [
      "tcp/22",
      "tcp/443",
    ]);
    const exp = await ringfence(["exposure", ...cloudmapper, "--json"]);
    assert.equal(exp.code, 0, exp.stderr);
    const findings = JSON.parse(exp.stdout) as { interfaceId: string; service: string; grade: string }[];
    assert.deepEqual(
      findings.map((f) => `${f.grade} ${f.interfaceId} ${f.service}`),
      ["public eni-00000000 tcp/22", "public eni-00000000 tcp/22", "public eni-00000001 tcp/443"],
    );
  });

  test("matrix as csv and json, by instance and by group", async () => {
    const csv = await ringfence(["matrix", ...cloudmapper, "--format", "csv", "--ports", "tcp/22,tcp/8000"]);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = csv.stdout.trim().split("\n");
    assert.equal(rows[0], "source,eni-00000001,i-00000000000000000,i-00000000000000001,i-00000000000000002");
    // the bastion reaches eni-00000001 on 22 and both web servers on 8000
    assert.equal(rows[2], "i-00000000000000000,22,,8000,8000");
    const json = await ringfence([
      "matrix",
      ...cloudmapper,
      "--by",
      "group",
      "--json",
      "--ports",
      "tcp/8000",
    ]);
    const m = JSON.parse(json.stdout) as { allowed: Record<string, Record<string, string[]>> };
    assert.deepEqual(m.allowed, { "sg-00000002": { "sg-00000004": ["tcp/8000"] } });
    const bad = await ringfence(["matrix", ...cloudmapper, "--format", "xml"]);
    assert.equal(bad.code, 2);
  });

  test("diff between two snapshot directories", async () => {
    const before = join(scratch, "before");
    const afterDir = join(scratch, "after");
    await cp(`${FIXTURES}cloudmapper-demo`, before, { recursive: true });
    await cp(`${FIXTURES}cloudmapper-demo`, afterDir, { recursive: true });
    // open 8000 between the web servers: sg-00000004 also admits itself
    const file = join(afterDir, "us-east-1", "ec2-describe-security-groups.json");
    const body = JSON.parse(await readFile(file, "utf8")) as {
      SecurityGroups: {
        GroupId: string;
        IpPermissions: { UserIdGroupPairs: { GroupId: string; UserId: string }[] }[];
      }[];
    };
    const web = body.SecurityGroups.find((g) => g.GroupId === "sg-00000004");
    web?.IpPermissions[0]?.UserIdGroupPairs.push({ GroupId: "sg-00000004", UserId: "123456789012" });
    await writeFile(file, JSON.stringify(body));
    const same = await ringfence(["diff", before, before]);
    assert.equal(same.code, 0);
    const both = await ringfence(["diff", "--ipv4", "--ipv6", before, before]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /are the default/);
    const d = await ringfence(["diff", "--json", before, afterDir]);
    assert.equal(d.code, 1, d.stderr);
    const [parsed, ipv6, ...more] = JSON.parse(d.stdout) as {
      family: number;
      opened: { source: string; destination: string; services: string[] }[];
    }[];
    assert.deepEqual([parsed?.family, ipv6?.family, more.length], [4, 6, 0], "both families, IPv4 first");
    assert.deepEqual(ipv6?.opened, []);
    assert.deepEqual(
      parsed?.opened.map((f) => `${f.source}>${f.destination} ${f.services.join(",")}`).sort(),
      [
        "eni-00000000@i-00000000000000001>eni-00000000@i-00000000000000002 tcp/8000",
        "eni-00000000@i-00000000000000002>eni-00000000@i-00000000000000001 tcp/8000",
      ],
    );
  });

  test("snapshot -o from the live server, then analysed like any dump", async () => {
    const plane = await startControlPlane();
    try {
      const env = {
        RINGFENCE_ACCESS_KEY_ID: plane.server.accessKeyId,
        RINGFENCE_SECRET_ACCESS_KEY: plane.server.secretAccessKey,
      };
      const dir = join(scratch, "live");
      const r = await ringfence(["snapshot", "-o", dir, "--endpoint", plane.server.url], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /wrote 8 files/);
      const exp = await ringfence(["exposure", "--snapshot", dir], env);
      assert.equal(exp.code, 0, exp.stderr);
      const live = await ringfence(["exposure", "--endpoint", plane.server.url], env);
      assert.equal(live.stdout, exp.stdout);
      assert.equal(live.stderr, "", "not even the AWS SDK's notice about Node versions");
      // the endpoint says where `live` is, on either side of a diff
      for (const sides of [
        [dir, "live"],
        ["live", dir],
      ]) {
        const d = await ringfence(["diff", ...sides, "--endpoint", plane.server.url], env);
        assert.equal(d.code, 0, d.stderr);
        assert.match(d.stdout, /no flow opened or closed/);
      }
      const both = await ringfence(["exposure", "--snapshot", dir, "--endpoint", plane.server.url], env);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--snapshot excludes --endpoint and --aws/);
    } finally {
      await plane.close();
    }
    const down = await ringfence(["exposure", "--endpoint", "http://127.0.0.1:9"], {
      RINGFENCE_ACCESS_KEY_ID: "a",
      RINGFENCE_SECRET_ACCESS_KEY: "b",
    });
    assert.equal(down.code, 2, down.stderr);
    assert.match(down.stderr, /cannot reach the ringfence server|reading the ringfence server/);
  });
});

test("an IPv6-only interface is asked about in IPv6 without --ipv6, and its own address is its public one", async () => {
  const dir = join(scratch, "ipv6-only");
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "estate.json"),
    JSON.stringify({
      Vpcs: [{ VpcId: "vpc-6", CidrBlock: "10.6.0.0/16", OwnerId: "111111111111" }],
      Subnets: [
        {
          SubnetId: "subnet-6",
          VpcId: "vpc-6",
          CidrBlock: "10.6.1.0/24",
          Ipv6CidrBlockAssociationSet: [{ Ipv6CidrBlock: "2600:1f18:aaaa:1::/64" }],
        },
      ],
      SecurityGroups: [
        {
          GroupId: "sg-6",
          GroupName: "six",
          Description: "d",
          VpcId: "vpc-6",
          OwnerId: "111111111111",
          IpPermissions: [
            { IpProtocol: "tcp", FromPort: 443, ToPort: 443, Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
            { IpProtocol: "icmp", FromPort: -1, ToPort: -1, Ipv6Ranges: [{ CidrIpv6: "::/0" }] },
          ],
          IpPermissionsEgress: [],
        },
      ],
      NetworkInterfaces: [
        {
          NetworkInterfaceId: "eni-6",
          SubnetId: "subnet-6",
          VpcId: "vpc-6",
          OwnerId: "111111111111",
          PrivateIpAddresses: [],
          Ipv6Addresses: [{ Ipv6Address: "2600:1f18:aaaa:1::10" }],
          Groups: [{ GroupId: "sg-6" }],
        },
      ],
    }),
  );
  const who = await ringfence(["who-can-reach", "--snapshot", dir, "eni-6", "tcp/443"]);
  assert.equal(who.code, 0, who.stderr);
  assert.match(
    who.stdout,
    /eni-6 2600:1f18:aaaa:1::10 tcp\/443 can be reached from:\n {2}outside VPC: any address \(::\/0\)/,
  );
  const can = await ringfence(["can", "--snapshot", dir, "internet", "eni-6", "tcp/443", "--ipv6"]);
  assert.match(can.stdout, /reachable from the internet at 2600:1f18:aaaa:1::10/);
  // an icmp (IPv4) rule open to ::/0 matches nothing, so it exposes nothing
  const exposed = await ringfence(["exposure", "--snapshot", dir, "--json"]);
  const findings = JSON.parse(exposed.stdout) as { service: string }[];
  assert.deepEqual(
    findings.map((f) => f.service),
    ["tcp/443"],
  );
});

test("matrix --by group counts an ICMP type pair by pair, as can answers each pair", async () => {
  // sg-dst admits every ICMP; one member's ACL lets 8:0 in, the other's 8:5: each pair has a code
  const dir = join(scratch, "icmp-groups");
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "estate.json"),
    JSON.stringify({
      Vpcs: [{ VpcId: "vpc-1", CidrBlock: "10.0.0.0/16", OwnerId: "111111111111" }],
      Subnets: [
        { SubnetId: "subnet-a", VpcId: "vpc-1", CidrBlock: "10.0.1.0/24" },
        { SubnetId: "subnet-b1", VpcId: "vpc-1", CidrBlock: "10.0.2.0/24" },
        { SubnetId: "subnet-b2", VpcId: "vpc-1", CidrBlock: "10.0.3.0/24" },
      ],
      NetworkAcls: [
        {
          NetworkAclId: "acl-a",
          VpcId: "vpc-1",
          Associations: [{ SubnetId: "subnet-a" }],
          Entries: [
            { RuleNumber: 100, Protocol: "-1", RuleAction: "allow", Egress: false, CidrBlock: "0.0.0.0/0" },
            { RuleNumber: 100, Protocol: "-1", RuleAction: "allow", Egress: true, CidrBlock: "0.0.0.0/0" },
          ],
        },
        {
          NetworkAclId: "acl-b1",
          VpcId: "vpc-1",
          Associations: [{ SubnetId: "subnet-b1" }],
          Entries: [
            {
              RuleNumber: 100,
              Protocol: "1",
              RuleAction: "allow",
              Egress: false,
              CidrBlock: "0.0.0.0/0",
              IcmpTypeCode: { Type: 8, Code: 0 },
            },
            { RuleNumber: 100, Protocol: "-1", RuleAction: "allow", Egress: true, CidrBlock: "0.0.0.0/0" },
          ],
        },
        {
          NetworkAclId: "acl-b2",
          VpcId: "vpc-1",
          Associations: [{ SubnetId: "subnet-b2" }],
          Entries: [
            {
              RuleNumber: 100,
              Protocol: "1",
              RuleAction: "allow",
              Egress: false,
              CidrBlock: "0.0.0.0/0",
              IcmpTypeCode: { Type: 8, Code: 5 },
            },
            { RuleNumber: 100, Protocol: "-1", RuleAction: "allow", Egress: true, CidrBlock: "0.0.0.0/0" },
          ],
        },
      ],
      SecurityGroups: [
        {
          GroupId: "sg-src",
          GroupName: "src",
          Description: "d",
          VpcId: "vpc-1",
          OwnerId: "111111111111",
          IpPermissions: [],
          IpPermissionsEgress: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        },
        {
          GroupId: "sg-dst",
          GroupName: "dst",
          Description: "d",
          VpcId: "vpc-1",
          OwnerId: "111111111111",
          IpPermissions: [
            { IpProtocol: "icmp", FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: "10.0.0.0/16" }] },
          ],
          IpPermissionsEgress: [],
        },
      ],
      NetworkInterfaces: [
        {
          NetworkInterfaceId: "eni-a",
          SubnetId: "subnet-a",
          VpcId: "vpc-1",
          OwnerId: "111111111111",
          PrivateIpAddresses: [{ PrivateIpAddress: "10.0.1.10", Primary: true }],
          Groups: [{ GroupId: "sg-src" }],
        },
        {
          NetworkInterfaceId: "eni-b1",
          SubnetId: "subnet-b1",
          VpcId: "vpc-1",
          OwnerId: "111111111111",
          PrivateIpAddresses: [{ PrivateIpAddress: "10.0.2.10", Primary: true }],
          Groups: [{ GroupId: "sg-dst" }],
        },
        {
          NetworkInterfaceId: "eni-b2",
          SubnetId: "subnet-b2",
          VpcId: "vpc-1",
          OwnerId: "111111111111",
          PrivateIpAddresses: [{ PrivateIpAddress: "10.0.3.10", Primary: true }],
          Groups: [{ GroupId: "sg-dst" }],
        },
      ],
    }),
  );
  for (const target of ["eni-b1", "eni-b2"]) {
    const can = await ringfence(["can", "--snapshot", dir, "eni-a", target, "icmp/8"]);
    assert.equal(can.code, 0, `${target}: ${can.stdout}`);
  }
  const matrix = await ringfence([
    "matrix",
    "--snapshot",
    dir,
    "--by",
    "group",
    "--ports",
    "icmp/8",
    "--json",
  ]);
  assert.equal(matrix.code, 0, matrix.stderr);
  const m = JSON.parse(matrix.stdout) as { allowed: Record<string, Record<string, string[]>> };
  assert.deepEqual(m.allowed["sg-src"]?.["sg-dst"], ["icmp/8"]);
});
