// Policy tests on a small hand-built shop: web -> app -> db, a bastion, and two deliberate flaws
// (a legacy group on app2 letting the whole VPC in on ssh, and a NACL entry denying app2 mysql on
// the db subnet). Every expected outcome is worked out from those rules in the comments.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  Estate,
  NetworkAclEntry,
  NetworkInterface,
  SecurityGroup,
  SecurityGroupRule,
} from "../../src/model/estate.js";
import { EMPTY_ESTATE } from "../../src/model/estate.js";
import {
  checkPolicyTest,
  expectDenies,
  expectOnly,
  expectOnlyFrom,
  expectOnlyTo,
  expectPermits,
  type PolicyTest,
  PolicyTestFailure,
  runPolicyTests,
} from "../../src/policy/policy-test.js";
import { parseApplication } from "../../src/policy/policy-test-apps.js";
import { PolicyFileError, parsePolicyTests } from "../../src/policy/policy-test-file.js";
import { formatPolicyReport, toJUnitXml } from "../../src/policy/policy-test-report.js";

const ACCOUNT = "111111111111";
const OFFICE = "52.10.0.0/24";

function rule(
  direction: "ingress" | "egress",
  protocol: string,
  from: number,
  to: number,
  peer: string,
  id: string,
): Omit<SecurityGroupRule, "groupId"> {
  const p = peer.startsWith("sg-")
    ? { kind: "group" as const, groupId: peer, userId: ACCOUNT }
    : { kind: "ipv4" as const, cidr: peer };
  return { id, direction, protocol, fromPort: from, toPort: to, peer: p };
}

function sg(id: string, name: string, rules: Omit<SecurityGroupRule, "groupId">[]): SecurityGroup {
  return {
    id,
    name,
    description: name,
    vpcId: "vpc-1",
    ownerId: ACCOUNT,
    tags: {},
    rules: [...rules, rule("egress", "-1", -1, -1, "0.0.0.0/0", `sgr-${name}-out`)].map((r) => ({
      ...r,
      groupId: id,
    })),
  };
}

function eni(id: string, subnetId: string, ip: string, groupIds: string[], role?: string): NetworkInterface {
  return {
    id,
    ownerId: ACCOUNT,
    vpcId: "vpc-1",
    subnetId,
    privateIpv4: [ip],
    ipv6: [],
    groupIds,
    tags: role ? { Role: role } : {},
  };
}

const allowAll = (egress: boolean): NetworkAclEntry => ({
  ruleNumber: 100,
  egress,
  protocol: "-1",
  action: "allow",
  cidr: "0.0.0.0/0",
});

const SHOP: Estate = {
  ...EMPTY_ESTATE,
  vpcs: [
    { id: "vpc-1", ownerId: ACCOUNT, cidrs: ["10.0.0.0/16"], ipv6Cidrs: [], isDefault: false, tags: {} },
  ],
  subnets: ["web", "app", "db"].map((name, k) => ({
    id: `subnet-${name}`,
    vpcId: "vpc-1",
    ownerId: ACCOUNT,
    cidr: `10.0.${k + 1}.0/24`,
    ipv6Cidrs: [],
    availabilityZone: "us-east-1a",
    tags: {},
  })),
  securityGroups: [
    sg("sg-web", "web", [
      rule("ingress", "tcp", 80, 80, "0.0.0.0/0", "sgr-web-80"),
      rule("ingress", "tcp", 443, 443, "0.0.0.0/0", "sgr-web-443"),
    ]),
    sg("sg-app", "appserver", [
      rule("ingress", "tcp", 80, 80, "sg-web", "sgr-app-80"),
      rule("ingress", "tcp", 443, 443, "sg-web", "sgr-app-443"),
      rule("ingress", "tcp", 22, 22, "sg-bastion", "sgr-app-ssh"),
    ]),
    sg("sg-legacy", "legacy", [rule("ingress", "tcp", 22, 22, "10.0.0.0/16", "sgr-legacy-ssh")]),
    sg("sg-db", "dbserver", [rule("ingress", "tcp", 3306, 3306, "sg-app", "sgr-db-mysql")]),
    sg("sg-bastion", "bastion", [rule("ingress", "tcp", 22, 22, OFFICE, "sgr-bastion-ssh")]),
  ],
  networkInterfaces: [
    eni("eni-web1", "subnet-web", "10.0.1.10", ["sg-web"], "web"),
    eni("eni-web2", "subnet-web", "10.0.1.11", ["sg-web"], "web"),
    eni("eni-bastion", "subnet-web", "10.0.1.50", ["sg-bastion"]),
    eni("eni-app1", "subnet-app", "10.0.2.10", ["sg-app"], "app"),
    eni("eni-app2", "subnet-app", "10.0.2.11", ["sg-app", "sg-legacy"], "app"),
    eni("eni-db1", "subnet-db", "10.0.3.10", ["sg-db"]),
  ],
  networkAcls: [
    {
      id: "acl-open",
      vpcId: "vpc-1",
      ownerId: ACCOUNT,
      isDefault: true,
      entries: [allowAll(false), allowAll(true)],
      subnetIds: ["subnet-web", "subnet-app"],
      tags: {},
    },
    {
      id: "acl-db",
      vpcId: "vpc-1",
      ownerId: ACCOUNT,
      isDefault: false,
      entries: [
        {
          ruleNumber: 50,
          egress: false,
          protocol: "6",
          action: "deny",
          cidr: "10.0.2.11/32",
          portRange: { from: 3306, to: 3306 },
        },
        allowAll(false),
        allowAll(true),
      ],
      subnetIds: ["subnet-db"],
      tags: {},
    },
  ],
};

function outcomes(test: PolicyTest): [string, string][] {
  return checkPolicyTest(SHOP, test).expectations.map((e) => [e.expectation, e.outcome]);
}

describe("policy test outcomes", () => {
  it("passes when every pair is allowed", () => {
    // app1 -> db1: egress all, NACL acl-open out 100 allow, acl-db in: 50 is for 10.0.2.11 only,
    // 100 allows; sg-db admits members of sg-app (10.0.2.10 is one).
    const r = checkPolicyTest(SHOP, {
      name: "app1 db",
      from: ["eni-app1"],
      to: ["group:dbserver"],
      permits: ["tcp/3306"],
    });
    assert.equal(r.outcome, "PASS");
    assert.equal(r.expectations[0]?.checkedPairs, 1);
  });

  it("is PARTIAL when one source of a group is blocked, naming that pair and where", () => {
    // app2 (10.0.2.11) is denied by acl-db entry 50; app1 is allowed (above).
    const r = checkPolicyTest(SHOP, {
      name: "apps db",
      from: ["group:appserver"],
      to: ["group:dbserver"],
      permits: ["tcp/3306"],
    });
    assert.equal(r.outcome, "PARTIAL");
    const e = r.expectations[0];
    assert.equal(e?.checkedPairs, 2);
    assert.deepEqual(
      e?.failures.map((f) => [f.source, f.destination, f.applications]),
      [["eni-app2", "eni-db1", ["tcp/3306"]]],
    );
    assert.match(e?.failures[0]?.explanation ?? "", /DENIED at destination-nacl-in/);
    assert.match(e?.failures[0]?.explanation ?? "", /acl-db entry 50/);
  });

  it("fails when no pair is allowed", () => {
    // sg-db admits only sg-app members: no internet address gets in.
    const r = checkPolicyTest(SHOP, {
      name: "internet db",
      from: ["internet"],
      to: ["group:dbserver"],
      permits: ["tcp/3306"],
    });
    assert.equal(r.outcome, "FAIL");
    assert.match(r.expectations[0]?.message ?? "", /^denied for all \d+ pair/);
  });

  it("checks every application of a list on its own", () => {
    // web -> app1: 80 and 443 allowed by sg-app; 8080 is not in any rule.
    assert.deepEqual(
      outcomes({
        name: "t",
        from: ["tag:Role=web"],
        to: ["eni-app1"],
        permits: ["tcp/80", "tcp/8080", "tcp/443"],
      }),
      [
        ["permits tcp/80", "PASS"],
        ["permits tcp/8080", "FAIL"],
        ["permits tcp/443", "PASS"],
      ],
    );
  });

  it("denies: all traffic from the internet to the db passes", () => {
    assert.deepEqual(outcomes({ name: "t", from: ["internet"], to: ["group:dbserver"], denies: ["all"] }), [
      ["denies all", "PASS"],
    ]);
  });

  it("denies: a range of which one port is open fails and names that port", () => {
    // web1 -> app1 on tcp/1-1000: only 80 and 443 get through.
    const r = checkPolicyTest(SHOP, {
      name: "t",
      from: ["eni-web1"],
      to: ["eni-app1"],
      denies: ["tcp/1-1000"],
    });
    assert.equal(r.outcome, "FAIL");
    assert.deepEqual(r.expectations[0]?.failures[0]?.applications, ["tcp/80", "tcp/443"]);
  });

  it("only: the listed applications pass and the rest is PARTIAL through app2's legacy ssh", () => {
    // web1, web2 -> app1, app2 on 80/443: allowed by sg-app. Everything else: app1 admits nothing
    // more; app2 admits tcp/22 from 10.0.0.0/16 (sg-legacy), so web1->app2 and web2->app2 leak.
    const r = checkPolicyTest(SHOP, {
      name: "t",
      from: ["tag:Role=web"],
      to: ["tag:Role=app"],
      only: ["tcp/80", "tcp/443"],
    });
    assert.deepEqual(
      r.expectations.map((e) => [e.expectation, e.outcome]),
      [
        ["permits tcp/80", "PASS"],
        ["permits tcp/443", "PASS"],
        ["denies everything else", "PARTIAL"],
      ],
    );
    const leaks = r.expectations[2]?.failures ?? [];
    assert.deepEqual(
      leaks.map((f) => [f.source, f.destination, f.applications]),
      [
        ["eni-web1", "eni-app2", ["tcp/22"]],
        ["eni-web2", "eni-app2", ["tcp/22"]],
      ],
    );
  });

  it("only_from: the bastion reaches ssh, but the legacy group lets others in on app2", () => {
    // bastion -> app1/app2 tcp/22: sg-app admits sg-bastion members. Others: app1 admits nobody
    // else; app2 admits all of 10.0.0.0/16 (web1, web2, app1, db1 and unowned VPC addresses).
    const r = checkPolicyTest(SHOP, {
      name: "t",
      to: ["tag:Role=app"],
      onlyFrom: ["group:bastion"],
      on: ["tcp/22"],
    });
    assert.equal(r.expectations[0]?.expectation, "permits tcp/22 from group:bastion");
    assert.equal(r.expectations[0]?.outcome, "PASS");
    const others = r.expectations[1];
    assert.equal(others?.expectation, "denies tcp/22 from everyone else");
    assert.equal(others?.outcome, "PARTIAL");
    const sources = new Set(others?.failures.map((f) => f.source));
    for (const s of ["eni-web1", "eni-web2", "eni-app1", "eni-db1"]) assert.ok(sources.has(s), s);
    assert.ok(others?.failures.every((f) => f.destination === "eni-app2"));
    // an address of the VPC that no interface owns is found too
    assert.ok(others?.failures.some((f) => f.source.startsWith("10.0.")));
  });

  it("only_from passes when only the listed sources get in", () => {
    // sg-bastion admits only the office range; probes from the rest of the internet are denied.
    const r = checkPolicyTest(SHOP, { name: "t", to: ["eni-bastion"], onlyFrom: [OFFICE], on: ["tcp/22"] });
    assert.deepEqual(
      r.expectations.map((e) => e.outcome),
      ["PASS", "PASS"],
    );
  });

  it("only_to: app1 reaches the db on mysql, and no other interface, but any outside address", () => {
    // app1 -> db1 tcp/3306 is allowed (see above). Every other interface (web1, web2, bastion,
    // app2) admits no tcp/3306. app1 may send anything to 0.0.0.0/0 and an outside address has
    // no group, so the one outside piece (0.0.0.0; app1 has no IPv6) gets through.
    const r = checkPolicyTest(SHOP, {
      name: "t",
      from: ["eni-app1"],
      onlyTo: ["group:dbserver"],
      on: ["tcp/3306"],
    });
    assert.deepEqual(
      r.expectations.map((e) => [e.expectation, e.outcome, e.checkedPairs]),
      [
        ["permits tcp/3306 to group:dbserver", "PASS", 1],
        ["denies tcp/3306 to everyone else", "PARTIAL", 5],
      ],
    );
    assert.deepEqual(
      r.expectations[1]?.failures.map((f) => [f.source, f.destination]),
      [["eni-app1", "0.0.0.0"]],
    );
  });

  it("samples the internet once per range the destination's rules tell apart", () => {
    // sg-bastion admits tcp/22 from 52.10.0.0/24 only; acl-open allows all. The internet is thus
    // cut into below the office (first public address 1.0.0.0), the office (52.10.0.0) and
    // above it (52.10.1.0): three pairs, of which only the office one gets in.
    const r = checkPolicyTest(SHOP, {
      name: "t",
      from: ["internet"],
      to: ["eni-bastion"],
      permits: ["tcp/22"],
    });
    const e = r.expectations[0];
    assert.equal(e?.outcome, "PARTIAL");
    assert.equal(e?.checkedPairs, 3);
    assert.deepEqual(
      e?.failures.map((f) => f.source),
      ["1.0.0.0", "52.10.1.0"],
    );
  });

  it("is an ERROR when a selector is unknown or matches nothing", () => {
    const unknown = checkPolicyTest(SHOP, {
      name: "t",
      from: ["group:nope"],
      to: ["eni-db1"],
      permits: ["tcp/1"],
    });
    assert.equal(unknown.outcome, "ERROR");
    assert.match(unknown.expectations[0]?.message ?? "", /group:nope/);
    const empty = checkPolicyTest(SHOP, {
      name: "t",
      from: ["tag:Role=nothing"],
      to: ["eni-db1"],
      permits: ["tcp/1"],
    });
    assert.equal(empty.outcome, "ERROR");
    assert.match(
      empty.expectations[0]?.message ?? "",
      /tag:Role=nothing.*no interface or instance has that tag/,
    );
    const garbage = checkPolicyTest(SHOP, {
      name: "t",
      from: ["web servers"],
      to: ["eni-db1"],
      permits: ["tcp/1"],
    });
    assert.equal(garbage.outcome, "ERROR");
  });

  it("is an ERROR when an interface is only paired with itself", () => {
    const r = checkPolicyTest(SHOP, { name: "t", from: ["eni-db1"], to: ["eni-db1"], permits: ["tcp/3306"] });
    assert.equal(r.outcome, "ERROR");
  });

  it("summarises a run and passes only when every test passes", () => {
    const report = runPolicyTests(SHOP, [
      { name: "a", from: ["eni-app1"], to: ["eni-db1"], permits: ["tcp/3306"] },
      { name: "b", from: ["internet"], to: ["eni-db1"], permits: ["tcp/3306"] },
    ]);
    assert.equal(report.passed, false);
    assert.deepEqual(report.counts, { PASS: 1, PARTIAL: 0, FAIL: 1, ERROR: 0 });
    const text = formatPolicyReport(report);
    assert.match(text, /^PASS {5}a$/m);
    assert.match(text, /^FAIL {5}b$/m);
    assert.match(text, /2 test\(s\): 1 PASS, 0 PARTIAL, 1 FAIL, 0 ERROR$/);
  });
});

describe("IP families", () => {
  // eni-a and eni-b have an IPv4 and an IPv6 address; sg-b admits tcp/443 from 10.0.0.0/8 only,
  // and ICMPv6 echo (type 128) from anywhere in IPv6.
  const dual = (id: string, v4: string, v6: string, groupId: string): NetworkInterface => ({
    ...eni(id, "subnet-dual", v4, [groupId]),
    ipv6: [v6],
  });
  const out6 = {
    ...rule("egress", "-1", -1, -1, "0.0.0.0/0", "sgr-a-out6"),
    peer: { kind: "ipv6" as const, cidr: "::/0" },
  };
  const ping6 = {
    ...rule("ingress", "icmpv6", 128, -1, "0.0.0.0/0", "sgr-b-ping6"),
    peer: { kind: "ipv6" as const, cidr: "::/0" },
  };
  const DUAL: Estate = {
    ...EMPTY_ESTATE,
    securityGroups: [
      sg("sg-a", "a", [out6]),
      sg("sg-b", "b", [rule("ingress", "tcp", 443, 443, "10.0.0.0/8", "sgr-b-443"), ping6]),
    ],
    networkInterfaces: [
      dual("eni-a", "10.1.0.1", "2001:db8::1", "sg-a"),
      dual("eni-b", "10.1.0.2", "2001:db8::2", "sg-b"),
    ],
  };

  it("checks each family both ends have, and only one when asked", () => {
    const both = checkPolicyTest(DUAL, { name: "t", from: ["eni-a"], to: ["eni-b"], permits: ["tcp/443"] });
    assert.equal(both.outcome, "PARTIAL");
    assert.deepEqual(
      both.expectations[0]?.failures.map((f) => f.family),
      [6],
    );
    const v4 = checkPolicyTest(DUAL, {
      name: "t",
      from: ["eni-a"],
      to: ["eni-b"],
      permits: ["tcp/443"],
      family: 4,
    });
    assert.equal(v4.outcome, "PASS");
    const v6 = checkPolicyTest(DUAL, {
      name: "t",
      from: ["eni-a"],
      to: ["eni-b"],
      permits: ["tcp/443"],
      family: 6,
    });
    assert.equal(v6.outcome, "FAIL");
  });

  it("checks icmp in IPv4 flows and icmpv6 in IPv6 flows, never one type number as the other", () => {
    const ping6 = checkPolicyTest(DUAL, {
      name: "t",
      from: ["eni-a"],
      to: ["eni-b"],
      permits: ["icmpv6/128"],
    });
    assert.equal(ping6.outcome, "PASS");
    assert.equal(ping6.expectations[0]?.checkedPairs, 1);
    // ICMPv6 echo is open, but icmp/128 is an IPv4 type: only the IPv4 pair is asked, and denies it
    const v4Only = checkPolicyTest(DUAL, { name: "t", from: ["eni-a"], to: ["eni-b"], denies: ["icmp/128"] });
    assert.equal(v4Only.outcome, "PASS");
    assert.equal(v4Only.expectations[0]?.checkedPairs, 1);
    const none = checkPolicyTest(DUAL, {
      name: "t",
      from: ["eni-a"],
      to: ["eni-b"],
      permits: ["icmp/128"],
      family: 6,
    });
    assert.equal(none.outcome, "ERROR");
    assert.match(none.expectations[0]?.message ?? "", /icmp is IPv4's/);
  });

  it("takes the internet of both families", () => {
    // sg-b admits ICMPv6 echo from ::/0: the internet reaches eni-b in IPv6 only
    const r = checkPolicyTest(DUAL, { name: "t", from: ["internet"], to: ["eni-b"], denies: ["all"] });
    assert.equal(r.outcome, "PARTIAL");
    assert.deepEqual([...new Set(r.expectations[0]?.failures.map((f) => f.family))], [6]);
  });
});

describe("secondary addresses", () => {
  // eni-a sends from 10.1.0.1 and from its secondary 10.1.0.11; sg-b admits udp/1500 from the
  // secondary alone, and tcp/22 from the whole subnet
  const TWO: Estate = {
    ...EMPTY_ESTATE,
    securityGroups: [
      sg("sg-a", "a", []),
      sg("sg-b", "b", [
        rule("ingress", "udp", 1500, 1500, "10.1.0.11/32", "sgr-b-secondary"),
        rule("ingress", "tcp", 22, 22, "10.1.0.0/24", "sgr-b-ssh"),
      ]),
    ],
    networkInterfaces: [
      { ...eni("eni-a", "subnet-1", "10.1.0.1", ["sg-a"]), privateIpv4: ["10.1.0.1", "10.1.0.11"] },
      eni("eni-b", "subnet-1", "10.1.0.2", ["sg-b"]),
    ],
  };

  it("an interface denies only when none of its addresses is allowed", () => {
    const r = checkPolicyTest(TWO, { name: "t", from: ["eni-a"], to: ["eni-b"], denies: ["udp/1500"] });
    assert.equal(r.outcome, "PARTIAL");
    assert.deepEqual(
      r.expectations[0]?.failures.map((f) => f.source),
      ["eni-a 10.1.0.11"],
    );
  });

  it("an interface permits only when every address is allowed", () => {
    const r = checkPolicyTest(TWO, { name: "t", from: ["eni-a"], to: ["eni-b"], permits: ["udp/1500"] });
    assert.equal(r.outcome, "PARTIAL");
    assert.deepEqual(
      r.expectations[0]?.failures.map((f) => f.source),
      ["eni-a 10.1.0.1"],
    );
  });

  it("only_from an address of an interface counts its other addresses as everyone else", () => {
    // sg-b admits tcp/22 from the whole subnet: eni-a's primary reaches it as well as the one listed
    const r = checkPolicyTest(TWO, { name: "t", to: ["eni-b"], onlyFrom: ["10.1.0.11"], on: ["tcp/22"] });
    const denyOthers = r.expectations.find((e) => e.expectation.startsWith("denies"));
    assert.notEqual(denyOthers?.outcome, "PASS");
    assert.ok(denyOthers?.failures.some((f) => f.source === "eni-a 10.1.0.1"));
  });

  it("addresses that every rule on the path holds alike are one pair", () => {
    const r = checkPolicyTest(TWO, { name: "t", from: ["eni-a"], to: ["eni-b"], permits: ["tcp/22"] });
    assert.equal(r.outcome, "PASS");
    assert.equal(r.expectations[0]?.checkedPairs, 2, "the /32 rule tells the two apart, so both are asked");
    const other = {
      ...TWO,
      securityGroups: [
        sg("sg-a", "a", []),
        sg("sg-b", "b", [rule("ingress", "tcp", 22, 22, "10.1.0.0/24", "sgr-b-ssh")]),
      ],
    };
    const one = checkPolicyTest(other, { name: "t", from: ["eni-a"], to: ["eni-b"], permits: ["tcp/22"] });
    assert.equal(one.outcome, "PASS");
    assert.equal(one.expectations[0]?.checkedPairs, 1);
  });
});

describe("TypeScript assertions", () => {
  it("return on success and throw PolicyTestFailure with the explanation otherwise", () => {
    expectPermits(SHOP, "eni-app1", "group:dbserver", "tcp/3306");
    expectDenies(SHOP, "internet", "group:dbserver", ["all"]);
    expectOnly(SHOP, "eni-web1", "eni-app1", ["tcp/80", "tcp/443"]);
    expectOnlyFrom(SHOP, "eni-app1", "group:bastion", "tcp/22");
    assert.throws(() => expectOnlyTo(SHOP, "eni-app1", "group:dbserver", "tcp/3306"), PolicyTestFailure);
    assert.throws(
      () => expectPermits(SHOP, "group:appserver", "group:dbserver", "tcp/3306"),
      (error: unknown) =>
        error instanceof PolicyTestFailure &&
        error.result.outcome === "PARTIAL" &&
        /acl-db entry 50/.test(error.message),
    );
    assert.throws(() => expectDenies(SHOP, "eni-web1", "eni-app2", "tcp/22"), PolicyTestFailure);
  });
});

describe("applications", () => {
  it("parses the application syntax and rejects nonsense", () => {
    assert.ok(parseApplication("tcp/22").equals(parseApplication("6/22")));
    assert.equal(parseApplication("udp/1000-2000").size(), 1001n);
    assert.equal(parseApplication("icmp/8").size(), 256n);
    assert.equal(parseApplication("icmp/8:0").size(), 1n);
    assert.equal(parseApplication("47").size(), 65536n);
    assert.ok(parseApplication("icmp/8", 6).equals(parseApplication("icmpv6/8")));
    assert.equal(parseApplication("all").size(), 256n * 65536n);
    for (const bad of ["tcp", "tcp/70000", "tcp/9-1", "http/80", "47/1", "icmp/300", "icmp"]) {
      assert.throws(() => parseApplication(bad), Error, bad);
    }
  });
});

describe("policy-test files", () => {
  it("reads every key", () => {
    const tests = parsePolicyTests(
      [
        "tests:",
        "  - name: app reaches db",
        "    from: group:appserver",
        "    to: [group:dbserver]",
        "    permits: [tcp/3306]",
        "    denies: udp/3306",
        "    family: ipv4",
        "  - name: only bastion",
        "    to: tag:Role=app",
        "    only_from: [group:bastion]",
        "    on: [tcp/22]",
        "  - name: app talks only to db",
        "    from: eni-app1",
        "    only_to: group:dbserver",
        "    on: tcp/3306",
        "  - name: web to app",
        "    from: tag:Role=web",
        "    to: tag:Role=app",
        "    only: [tcp/80, tcp/443]",
      ].join("\n"),
      "shop.yaml",
    );
    assert.deepEqual(tests[0], {
      name: "app reaches db",
      from: ["group:appserver"],
      to: ["group:dbserver"],
      permits: ["tcp/3306"],
      denies: ["udp/3306"],
      family: 4,
      file: "shop.yaml",
    });
    assert.deepEqual(tests[1], {
      name: "only bastion",
      to: ["tag:Role=app"],
      onlyFrom: ["group:bastion"],
      on: ["tcp/22"],
      file: "shop.yaml",
    });
    assert.deepEqual(tests[2], {
      name: "app talks only to db",
      from: ["eni-app1"],
      onlyTo: ["group:dbserver"],
      on: ["tcp/3306"],
      file: "shop.yaml",
    });
    assert.deepEqual(tests[3]?.only, ["tcp/80", "tcp/443"]);
  });

  function problems(text: string): string[] {
    try {
      parsePolicyTests(text, "bad.yaml");
    } catch (error) {
      assert.ok(error instanceof PolicyFileError);
      return [...error.problems];
    }
    assert.fail("expected a PolicyFileError");
  }

  it("reports broken YAML with the file and line", () => {
    const p = problems("tests:\n  - name: x\n    from: [a, b\n    to: c\n");
    assert.ok(p.length > 0);
    assert.match(p[0] ?? "", /^bad\.yaml:\d+: invalid YAML/);
  });

  it("reports each bad key with the file, line, test name and key", () => {
    const p = problems(
      [
        "tests:",
        "  - name: first",
        "    from: a",
        "    to: b",
        "    permits: [tcp/99999]",
        "    colour: red",
        "  - name: second",
        "    to: b",
        "    only_from: [a]",
        "  - from: a",
        "    to: b",
        "    permits: tcp/1",
        "  - name: fourth",
        "    from: a",
        "    to: b",
        "    permits: tcp/1",
        "    only: [tcp/2]",
        "  - name: first",
        "    from: a",
        "    to: b",
        "    denies: all",
      ].join("\n"),
    );
    const has = (re: RegExp) =>
      assert.ok(
        p.some((line) => re.test(line)),
        `${re} in\n${p.join("\n")}`,
      );
    has(/^bad\.yaml:2: test 'first': key 'permits': 'tcp\/99999'/);
    has(/^bad\.yaml:2: test 'first': key 'colour': unknown key/);
    has(/^bad\.yaml:7: test 'second': key 'on': required with only_from/);
    has(/^bad\.yaml:10: test #3: key 'name': required/);
    has(/test 'fourth': combine only one of/);
    has(/^bad\.yaml:18: test 'first': the name is already used by test #1/);
  });

  it("reports keys that contradict only_to", () => {
    const p = problems(
      ["tests:", "  - name: x", "    from: a", "    to: b", "    only_to: c", "    on: tcp/1"].join("\n"),
    );
    assert.deepEqual(p, ["bad.yaml:2: test 'x': key 'to': not used with only_to: only_to names them"]);
    const q = problems(["tests:", "  - name: y", "    from: a", "    only_to: c"].join("\n"));
    assert.deepEqual(q, ["bad.yaml:2: test 'y': key 'on': required with only_to: the applications to check"]);
  });

  it("reports a file without a tests list", () => {
    assert.match(problems("checks: []")[0] ?? "", /unknown top-level key 'checks'/);
    assert.match(problems("- a\n- b")[0] ?? "", /expected a mapping with a 'tests' list/);
    assert.match(problems("tests: []")[0] ?? "", /'tests' is empty/);
  });
});

/** A small XML reader: enough to prove the JUnit output is well-formed and to read it back. */
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function parseXml(xml: string): XmlElement {
  let at = 0;
  const decode = (s: string) =>
    s.replace(
      /&(lt|gt|amp|quot|apos);/g,
      (_, e: string) => ({ lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" })[e] ?? "",
    );
  const skipSpace = () => {
    while (/\s/.test(xml[at] ?? "")) at++;
  };
  if (xml.startsWith("<?xml")) at = xml.indexOf("?>") + 2;
  const element = (): XmlElement => {
    skipSpace();
    const open = /^<([A-Za-z_][\w.-]*)/.exec(xml.slice(at));
    if (!open) throw new Error(`expected an element at ${at}`);
    at += open[0].length;
    const node: XmlElement = { name: open[1] as string, attributes: {}, children: [], text: "" };
    for (;;) {
      skipSpace();
      if (xml.startsWith("/>", at)) {
        at += 2;
        return node;
      }
      if (xml[at] === ">") {
        at++;
        break;
      }
      const attr = /^([A-Za-z_][\w.-]*)="([^"<]*)"/.exec(xml.slice(at));
      if (!attr) throw new Error(`bad attribute at ${at}`);
      if ((attr[1] as string) in node.attributes) throw new Error(`duplicate attribute ${attr[1]}`);
      node.attributes[attr[1] as string] = decode(attr[2] as string);
      at += attr[0].length;
    }
    for (;;) {
      const lt = xml.indexOf("<", at);
      if (lt < 0) throw new Error(`unclosed <${node.name}>`);
      const text = xml.slice(at, lt);
      if (/&(?!(lt|gt|amp|quot|apos);)/.test(text)) throw new Error("bare &");
      node.text += decode(text);
      at = lt;
      if (xml.startsWith(`</${node.name}>`, at)) {
        at += node.name.length + 3;
        return node;
      }
      if (xml.startsWith("</", at)) throw new Error(`mismatched close at ${at}`);
      node.children.push(element());
    }
  };
  const root = element();
  skipSpace();
  if (at !== xml.length) throw new Error("content after the root element");
  return root;
}

describe("JUnit XML", () => {
  it("is well-formed, with one testcase per expectation and failures and errors marked", () => {
    const report = runPolicyTests(SHOP, [
      { name: "pass <&>", file: "a.yaml", from: ["eni-app1"], to: ["eni-db1"], permits: ["tcp/3306"] },
      { name: "partial", file: "a.yaml", from: ["group:appserver"], to: ["eni-db1"], permits: ["tcp/3306"] },
      { name: "error", file: "b.yaml", from: ["group:nope"], to: ["eni-db1"], permits: ["tcp/3306"] },
      {
        name: "two apps",
        file: "b.yaml",
        from: ["eni-web1"],
        to: ["eni-app1"],
        permits: ["tcp/80", "tcp/22"],
      },
    ]);
    const root = parseXml(toJUnitXml(report));
    assert.equal(root.name, "testsuites");
    assert.deepEqual(root.attributes, {
      name: "ringfence policy tests",
      tests: "5",
      failures: "2",
      errors: "1",
    });
    assert.deepEqual(
      root.children.map((s) => [
        s.attributes.name,
        s.attributes.tests,
        s.attributes.failures,
        s.attributes.errors,
      ]),
      [
        ["a.yaml", "2", "1", "0"],
        ["b.yaml", "3", "1", "1"],
      ],
    );
    const cases = root.children.flatMap((s) => s.children);
    assert.equal(cases[0]?.attributes.classname, "a.yaml: pass <&>");
    assert.deepEqual(cases[0]?.children, []);
    const partial = cases[1]?.children[0];
    assert.equal(partial?.name, "failure");
    assert.equal(partial?.attributes.type, "PARTIAL");
    assert.match(partial?.text ?? "", /acl-db entry 50/);
    assert.equal(cases[2]?.children[0]?.name, "error");
    assert.deepEqual(
      cases.slice(3).map((c) => [c.attributes.name, c.children[0]?.name]),
      [
        ["permits tcp/80", undefined],
        ["permits tcp/22", "failure"],
      ],
    );
  });

  it("the reader used here rejects malformed XML", () => {
    assert.throws(() => parseXml("<a><b></a>"));
    assert.throws(() => parseXml('<a x="1" x="2"/>'));
    assert.throws(() => parseXml("<a>&</a>"));
  });
});
