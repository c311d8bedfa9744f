// Real AWS dumps (test/fixtures/aws, see its README) imported and questioned. Every expected fact
// below was worked out by reading the JSON files by hand; the comment next to it says how.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { readSnapshot } from "../../src/importers/snapshot.js";
import { evaluateFlow, isFlowAllowed } from "../../src/policy/evaluate.js";
import { PolicyIndex, type Traffic } from "../../src/policy/policy-index.js";
import { exposure, unusedGroups, verdictsBetween } from "../../src/policy/reachability.js";
import { select } from "../../src/policy/selectors.js";

const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/aws/", import.meta.url));
const load = async (name: string) => PolicyIndex.build(await readSnapshot(FIXTURES + name));
const eni = (interfaceId: string) => ({ kind: "interface" as const, interfaceId });
const ext = (address: string) => ({ kind: "address" as const, address });
const tcp = (port: number): Traffic => ({ protocol: 6, port });

describe("batfish hybrid-cloud (us-west-2)", async () => {
  const index = await load("batfish-hybrid-cloud");

  test("counts match the files", () => {
    // README and the files: 11 groups, 4 VPCs, 9 interfaces (NetworkInterfaces.json), 10 subnets, 4 NACLs,
    // 4 instances (Reservations.json), prefix lists pl-68a54001 (3 CIDRs) and pl-00a54069 (1 CIDR).
    const e = index.estate;
    assert.deepEqual(
      [
        e.securityGroups.length,
        e.vpcs.length,
        e.networkInterfaces.length,
        e.subnets.length,
        e.networkAcls.length,
        e.instances.length,
      ],
      [11, 4, 9, 10, 4, 4],
    );
    assert.equal(index.prefixListEntries("pl-68a54001")[4].size(), 2n ** 13n + 2n ** 15n + 2n ** 10n);
    // i-0837c877110427f2b lists eni-6b705445 and eni-a50c2b8b in Reservations.json
    assert.deepEqual(index.estate.instances.find((i) => i.id === "i-0837c877110427f2b")?.interfaceIds, [
      "eni-6b705445",
      "eni-a50c2b8b",
    ]);
  });

  test("unused groups", () => {
    // Groups carried by interfaces (NetworkInterfaces.json, Groups): sg-331ad04e (7 interfaces),
    // sg-83b348fe (eni-822b55ac), sg-94df21e9 (eni-0681f828). The other 8 of 11 are unused.
    assert.deepEqual(unusedGroups(index), [
      "sg-3dfb3140",
      "sg-55510831",
      "sg-6c4d1408",
      "sg-9a1f3ffe",
      "sg-a30183d9",
      "sg-adcd87d0",
      "sg-bb550cdf",
      "sg-eed02393",
    ]);
  });

  test("world-open ports on used groups", () => {
    // 0.0.0.0/0 ingress in SecurityGroups.json on used groups: sg-331ad04e tcp/22; sg-83b348fe tcp/22;
    // sg-94df21e9 tcp/80, 22, 443 and icmp (all types). No interface has a public IP (no Association).
    const open = new Set(
      exposure(index)
        .filter((f) => f.worldOpen && f.family === 4)
        .map((f) => `${f.groupId} ${f.service}`),
    );
    assert.deepEqual([...open].sort(), [
      "sg-331ad04e tcp/22",
      "sg-83b348fe tcp/22",
      "sg-94df21e9 icmp/all",
      "sg-94df21e9 tcp/22",
      "sg-94df21e9 tcp/443",
      "sg-94df21e9 tcp/80",
    ]);
    assert.ok(exposure(index).every((f) => f.grade === "private-only"));
  });

  test("flows within subnet-62f14104 (vpc-925131f4)", () => {
    // eni-822b55ac (10.0.0.30, sg-83b348fe) and eni-0681f828 (10.0.0.54, sg-94df21e9) share the subnet.
    // sg-94df21e9 admits tcp/80 from 0.0.0.0/0: allowed; tcp/8080 is in none of its rules: denied.
    assert.equal(
      isFlowAllowed(index, {
        source: eni("eni-822b55ac"),
        destination: eni("eni-0681f828"),
        traffic: tcp(80),
      }),
      true,
    );
    const v = evaluateFlow(index, {
      source: eni("eni-822b55ac"),
      destination: eni("eni-0681f828"),
      traffic: tcp(8080),
    });
    assert.equal(v.blockedAt, "destination-ingress");
    assert.deepEqual(v.steps.destinationNaclIn, { kind: "skipped", reason: "same-subnet" });
    // sg-83b348fe admits everything (-1) from 10.0.0.0/16, so the other way tcp/8080 is allowed.
    assert.equal(
      isFlowAllowed(index, {
        source: eni("eni-0681f828"),
        destination: eni("eni-822b55ac"),
        traffic: tcp(8080),
      }),
      true,
    );
  });

  test("across subnets of vpc-b390fad5 the NACL (acl-7b78771d, allow all at 100) is consulted", () => {
    // eni-707e5a5e 192.168.1.186 (subnet-1641fa70) -> eni-4b466165 192.168.2.22 (subnet-073b8061):
    // both subnets are associated with acl-7b78771d, whose entry 100 allows -1 from/to 0.0.0.0/0;
    // sg-331ad04e admits -1 from 192.168.0.0/16.
    const v = evaluateFlow(index, {
      source: eni("eni-707e5a5e"),
      destination: eni("eni-4b466165"),
      traffic: tcp(3306),
    });
    assert.equal(v.allowed, true);
    assert.deepEqual(v.steps.destinationNaclIn, {
      kind: "decided",
      aclId: "acl-7b78771d",
      subnetId: "subnet-073b8061",
      action: "allow",
      ruleNumber: 100,
    });
  });

  test("internet to the Arista interfaces: tcp/22 yes (0.0.0.0/0), tcp/80 no", () => {
    assert.equal(
      isFlowAllowed(index, { source: ext("8.8.8.8"), destination: eni("eni-707e5a5e"), traffic: tcp(22) }),
      true,
    );
    assert.equal(
      isFlowAllowed(index, { source: ext("8.8.8.8"), destination: eni("eni-707e5a5e"), traffic: tcp(80) }),
      false,
    );
    // icmp only from 38.140.26.0/24
    const ping = (a: string) =>
      isFlowAllowed(index, {
        source: ext(a),
        destination: eni("eni-707e5a5e"),
        traffic: { protocol: 1, icmpType: 8, icmpCode: 0 },
      });
    assert.equal(ping("38.140.26.200"), true);
    assert.equal(ping("38.140.27.1"), false);
  });

  test("tcp/80 from the internet to eni-0681f828 is untracked (0.0.0.0/0 in, all-open out)", () => {
    const v = evaluateFlow(index, {
      source: ext("8.8.8.8"),
      destination: eni("eni-0681f828"),
      traffic: tcp(80),
    });
    assert.deepEqual(v.untracked, { source: false, destination: true });
  });
});

describe("cloudmapper demo (us-east-1)", async () => {
  const index = await load("cloudmapper-demo");

  test("instances whose interfaces share an anonymised id stay apart", () => {
    // ec2-describe-instances.json gives all three instances the interface id eni-00000000.
    assert.equal(index.interfaces.size, 4);
    assert.equal(select(index, "i-00000000000000001").kind, "interfaces");
  });

  test("unused groups", () => {
    // Used: sg-00000002 (Bastion instance), sg-00000004 (Web1, Web2), sg-00000008 (eni-00000001).
    assert.deepEqual(unusedGroups(index), [
      "sg-00000001",
      "sg-00000003",
      "sg-00000005",
      "sg-00000006",
      "sg-00000007",
    ]);
  });

  test("bastion reaches the web servers on 8000; the web servers do not reach each other", () => {
    // sg-00000004 admits tcp/8000 from sg-00000003 and sg-00000002; the bastion (10.0.0.1) carries sg-00000002.
    const b2w = (dst: string) =>
      verdictsBetween(index, select(index, "Bastion"), select(index, dst), tcp(8000), 4).map(
        (v) => v.allowed,
      );
    assert.deepEqual(b2w("i-00000000000000001"), [true]);
    assert.deepEqual(b2w("i-00000000000000002"), [true]);
    const w2w = verdictsBetween(
      index,
      select(index, "i-00000000000000001"),
      select(index, "i-00000000000000002"),
      tcp(8000),
      4,
    );
    assert.equal(w2w[0]?.blockedAt, "destination-ingress");
  });

  test("ssh to the bastion: 1.1.1.1 and 2.2.2.0/28 (written 2.2.2.2/28) only", () => {
    // the bastion is 10.0.0.1; sg-00000002 admits tcp/22 from 1.1.1.1/32 and 2.2.2.2/28
    const bastion = select(index, "10.0.0.1");
    assert.equal(bastion.kind, "interfaces");
    const id = bastion.kind === "interfaces" ? (bastion.interfaces[0]?.eni.id ?? "") : "";
    const ssh = (a: string) =>
      isFlowAllowed(index, { source: ext(a), destination: eni(id), traffic: tcp(22) });
    assert.equal(ssh("1.1.1.1"), true);
    assert.equal(ssh("2.2.2.15"), true);
    assert.equal(ssh("2.2.2.16"), false);
    assert.equal(ssh("3.3.3.3"), false);
  });

  test("exposure: eni-00000001 has public IP 3.80.3.41 and tcp/443 open to the world", () => {
    const f = exposure(index).filter((x) => x.worldOpen);
    assert.deepEqual(
      f.map((x) => [x.interface.eni.id, x.service, x.grade]),
      [["eni-00000001", "tcp/443", "public"]],
    );
  });
});

describe("cloud-custodian recorded responses", async () => {
  const used = await load("custodian-sg-used");
  const selfRef = await load("custodian-self-reference");

  test("sg-used: groups on interfaces vs unused", () => {
    // DescribeNetworkInterfaces_1.json: sg-f9cc4d9f, sg-1c8a186c, sg-0a2cb503a229c31c1 are carried.
    // DescribeSecurityGroups_1 and _2 are identical: 7 groups, not 14.
    assert.equal(used.estate.securityGroups.length, 7);
    assert.deepEqual(unusedGroups(used), ["sg-13de8f75", "sg-6bfe7312", "sg-ce548cb7", "sg-f6a42890"]);
  });

  test("sg-used: the Lambda interface may only send tcp (egress tcp 0-65535 to 0.0.0.0/0)", () => {
    const lambda = eni("eni-0c779745aaa5e430d");
    assert.equal(
      isFlowAllowed(used, { source: lambda, destination: ext("8.8.8.8"), traffic: tcp(443) }),
      true,
    );
    const dns = evaluateFlow(used, {
      source: lambda,
      destination: ext("8.8.8.8"),
      traffic: { protocol: 17, port: 53 },
    });
    assert.equal(dns.blockedAt, "source-egress");
    // to the VPC endpoint interface: sg-f9cc4d9f admits tcp/22 only from 71.163.79.221/32 and
    // sg-0a2cb503a229c31c1 has no ingress at all
    const v = evaluateFlow(used, {
      source: lambda,
      destination: eni("eni-04b74850b90891a7c"),
      traffic: tcp(22),
    });
    assert.equal(v.blockedAt, "destination-ingress");
  });

  test("sg-used: ssh to eni-caa070b4 from 71.163.79.221 only; it has public IP 35.162.52.140", () => {
    const ssh = (a: string) =>
      evaluateFlow(used, { source: ext(a), destination: eni("eni-caa070b4"), traffic: tcp(22) });
    assert.equal(ssh("71.163.79.221").allowed, true);
    assert.equal(ssh("71.163.79.222").allowed, false);
    assert.match(ssh("71.163.79.221").notes.join("\n"), /35\.162\.52\.140/);
  });

  test("self-reference: 42 groups, 79 permissions holding 81 rules, none in use", () => {
    // 79 IpPermissions entries in total; sg-269a2f57 has one with two UserIdGroupPairs and
    // sg-6c7fa917 one with an IpRange and a UserIdGroupPair: 81 rules.
    assert.equal(selfRef.estate.securityGroups.length, 42);
    assert.equal(
      selfRef.estate.securityGroups.reduce((n, g) => n + g.rules.length, 0),
      81,
    );
    assert.equal(unusedGroups(selfRef).length, 42);
    // self-referencing groups: sg-269a2f57 (tcp/80), and the defaults sg-4b9ada34, sg-6c7fa917, sg-d89b2ea9
    const selfReferencing = selfRef.estate.securityGroups
      .filter((g) => g.rules.some((r) => r.peer.kind === "group" && r.peer.groupId === g.id))
      .map((g) => g.id)
      .sort();
    assert.deepEqual(selfReferencing, ["sg-269a2f57", "sg-4b9ada34", "sg-6c7fa917", "sg-d89b2ea9"]);
  });
});
