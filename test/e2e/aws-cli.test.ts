// The aws CLI (v2, as Debian ships it) against ringfence, as the people who use security groups
// drive EC2: curated groups, tiers by group reference, roles by several groups, a bastion.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { AWS_CLI, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;

before(async () => {
  cp = await startControlPlane();
});
after(async () => {
  await cp.close();
});

interface Group {
  GroupId: string;
  GroupName: string;
  Description: string;
  IpPermissions: Permission[];
  IpPermissionsEgress: Permission[];
}
interface Permission {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges: { CidrIp: string; Description?: string }[];
  Ipv6Ranges: { CidrIpv6: string }[];
  UserIdGroupPairs: { GroupId: string; UserId: string }[];
  PrefixListIds: unknown[];
}

async function ok(args: string[]): Promise<unknown> {
  const result = await cp.aws(args);
  assert.equal(result.code, 0, `aws ec2 ${args.join(" ")} failed: ${result.stderr}`);
  return result.json;
}

async function createGroup(name: string, description: string): Promise<string> {
  const out = (await ok(["create-security-group", "--group-name", name, "--description", description])) as {
    GroupId: string;
  };
  return out.GroupId;
}

async function group(id: string): Promise<Group> {
  const out = (await ok(["describe-security-groups", "--group-ids", id])) as { SecurityGroups: Group[] };
  return out.SecurityGroups[0] as Group;
}

const allEgress: Permission = {
  IpProtocol: "-1",
  IpRanges: [{ CidrIp: "0.0.0.0/0" }],
  Ipv6Ranges: [],
  PrefixListIds: [],
  UserIdGroupPairs: [],
};

const tcpWorld = (port: number, description?: string): Permission => ({
  IpProtocol: "tcp",
  FromPort: port,
  ToPort: port,
  IpRanges: [description ? { CidrIp: "0.0.0.0/0", Description: description } : { CidrIp: "0.0.0.0/0" }],
  Ipv6Ranges: [],
  PrefixListIds: [],
  UserIdGroupPairs: [],
});

describe("curated groups, created with the CLI and described back field by field", () => {
  test("http, https, ssh, shiny, flask: one world-open TCP port each", async () => {
    for (const [name, port] of [
      ["http", 80],
      ["https", 443],
      ["ssh", 22],
      ["shiny", 3838],
      ["flask", 5000],
    ] as const) {
      const id = await createGroup(name, `${name} from anywhere`);
      await ok([
        "authorize-security-group-ingress",
        "--group-id",
        id,
        "--protocol",
        "tcp",
        "--port",
        String(port),
        "--cidr",
        "0.0.0.0/0",
      ]);
      const described = await group(id);
      assert.equal(described.GroupName, name);
      assert.equal(described.Description, `${name} from anywhere`);
      assert.deepEqual(described.IpPermissions, [tcpWorld(port)]);
      assert.deepEqual(described.IpPermissionsEgress, [allEgress]);
    }
  });

  test("openvpn: tcp/443 and udp/1194 with descriptions, given as --ip-permissions JSON", async () => {
    const id = await createGroup("openvpn", "OpenVPN server");
    await ok([
      "authorize-security-group-ingress",
      "--group-id",
      id,
      "--ip-permissions",
      JSON.stringify([
        {
          IpProtocol: "tcp",
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "vpn over tcp" }],
        },
        {
          IpProtocol: "udp",
          FromPort: 1194,
          ToPort: 1194,
          IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "vpn" }],
        },
      ]),
    ]);
    const described = await group(id);
    assert.deepEqual(described.IpPermissions, [
      tcpWorld(443, "vpn over tcp"),
      { ...tcpWorld(1194, "vpn"), IpProtocol: "udp" },
    ]);
  });

  test("exodus: no ingress, egress everywhere over IPv4 and IPv6", async () => {
    const id = await createGroup("exodus", "all egress");
    await ok([
      "authorize-security-group-egress",
      "--group-id",
      id,
      "--ip-permissions",
      JSON.stringify([{ IpProtocol: "-1", Ipv6Ranges: [{ CidrIpv6: "::/0" }] }]),
    ]);
    const described = await group(id);
    assert.deepEqual(described.IpPermissions, []);
    assert.deepEqual(described.IpPermissionsEgress, [{ ...allEgress, Ipv6Ranges: [{ CidrIpv6: "::/0" }] }]);
  });
});

describe("tiers and roles", () => {
  test("appserver may reach dbserver on tcp/3306 by group reference", async () => {
    const db = await createGroup("dbserver", "MySQL");
    const app = await createGroup("appserver", "application tier");
    await ok([
      "authorize-security-group-ingress",
      "--group-id",
      db,
      "--protocol",
      "tcp",
      "--port",
      "3306",
      "--source-group",
      app,
    ]);
    const described = await group(db);
    assert.deepEqual(described.IpPermissions, [
      {
        IpProtocol: "tcp",
        FromPort: 3306,
        ToPort: 3306,
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [{ GroupId: app, UserId: cp.server.accountId }],
      },
    ]);
    const referencing = (await ok([
      "describe-security-groups",
      "--filters",
      `Name=ip-permission.group-id,Values=${app}`,
    ])) as {
      SecurityGroups: Group[];
    };
    assert.deepEqual(
      referencing.SecurityGroups.map((g) => g.GroupId),
      [db],
    );
  });

  test("an instance launched into two groups carries both roles", async () => {
    const web = await createGroup("role-web", "web role");
    const monitored = await createGroup("role-monitored", "monitoring agent role");
    const run = (await ok([
      "run-instances",
      "--image-id",
      "ami-12345678",
      "--count",
      "1",
      "--security-group-ids",
      web,
      monitored,
    ])) as {
      Instances: { InstanceId: string; SecurityGroups: { GroupId: string; GroupName: string }[] }[];
    };
    const instance = run.Instances[0];
    assert.deepEqual(instance?.SecurityGroups, [
      { GroupId: web, GroupName: "role-web" },
      { GroupId: monitored, GroupName: "role-monitored" },
    ]);
    const byRole = (await ok([
      "describe-instances",
      "--filters",
      `Name=instance.group-id,Values=${monitored}`,
    ])) as {
      Reservations: { Instances: { InstanceId: string }[] }[];
    };
    assert.deepEqual(
      byRole.Reservations.flatMap((r) => r.Instances.map((i) => i.InstanceId)),
      [instance?.InstanceId],
    );
  });

  test("a bastion group with tcp/22 beside a plain http group; the aws CLI's --port all is refused for tcp", async () => {
    const bastion = await createGroup("bastion", "jump host");
    await ok([
      "authorize-security-group-ingress",
      "--group-id",
      bastion,
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--cidr",
      "203.0.113.0/24",
    ]);
    const web = await createGroup("plain-http", "web");
    await ok([
      "authorize-security-group-ingress",
      "--group-id",
      web,
      "--protocol",
      "tcp",
      "--port",
      "80",
      "--cidr",
      "0.0.0.0/0",
    ]);
    await ok([
      "authorize-security-group-ingress",
      "--group-id",
      web,
      "--protocol",
      "tcp",
      "--port",
      "22",
      "--source-group",
      bastion,
    ]);
    const sshOnly = (await ok([
      "describe-security-groups",
      "--filters",
      "Name=ip-permission.from-port,Values=22",
      "Name=group-name,Values=bastion,plain-http",
    ])) as {
      SecurityGroups: Group[];
    };
    assert.deepEqual(sshOnly.SecurityGroups.map((g) => g.GroupName).sort(), ["bastion", "plain-http"]);
    const bad = await cp.aws([
      "authorize-security-group-ingress",
      "--group-id",
      web,
      "--protocol",
      "tcp",
      "--port",
      "all",
      "--cidr",
      "0.0.0.0/0",
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /InvalidPermission\.Malformed/);
  });
});

describe("the CLI's own paths", () => {
  test("--dry-run prints DryRunOperation and exits non-zero", async () => {
    const result = await cp.aws([
      "create-security-group",
      "--group-name",
      "dry",
      "--description",
      "dry",
      "--dry-run",
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /DryRunOperation/);
  });

  test("sts get-caller-identity names the key's account", async () => {
    const identity = await new Promise<{ Account: string; Arn: string }>((resolve, reject) => {
      execFile(
        AWS_CLI,
        ["--endpoint-url", cp.server.url, "--output", "json", "sts", "get-caller-identity"],
        {
          env: {
            PATH: process.env.PATH,
            HOME: cp.dataDir,
            AWS_ACCESS_KEY_ID: cp.server.accessKeyId,
            AWS_SECRET_ACCESS_KEY: cp.server.secretAccessKey,
            AWS_DEFAULT_REGION: "us-east-1",
          },
        },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(JSON.parse(stdout))),
      );
    });
    assert.equal(identity.Account, cp.server.accountId);
    assert.equal(identity.Arn, `arn:aws:iam::${cp.server.accountId}:root`);
  });

  test("describe-security-groups pages through everything with --page-size", async () => {
    const all = (await ok(["describe-security-groups"])) as { SecurityGroups: Group[] };
    const paged = (await ok(["describe-security-groups", "--page-size", "5"])) as { SecurityGroups: Group[] };
    assert.ok(all.SecurityGroups.length > 5);
    assert.deepEqual(
      paged.SecurityGroups.map((g) => g.GroupId),
      all.SecurityGroups.map((g) => g.GroupId),
    );
  });
});
