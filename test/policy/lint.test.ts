// Each lint check on small hand-built estates: one that must fire and one that must not. Expected
// findings are worked out from the rules written in each test, not from lint's own output.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type {
  Estate,
  NetworkAcl,
  NetworkAclEntry,
  NetworkInterface,
  RulePeer,
  SecurityGroup,
  SecurityGroupRule,
} from "../../src/model/estate.js";
import { EMPTY_ESTATE } from "../../src/model/estate.js";
import {
  atLeast,
  formatLintTable,
  type LintCheck,
  type LintFinding,
  lintEstate,
} from "../../src/policy/lint.js";
import { AppListError, formatApps, parseAppList } from "../../src/policy/lint-apps.js";

const ACCOUNT = "111111111111";
type RuleSpec = Omit<SecurityGroupRule, "groupId">;

function peer(text: string): RulePeer {
  if (text.startsWith("sg-")) {
    const [groupId, userId] = text.split("@");
    return { kind: "group", groupId: groupId as string, userId: userId ?? ACCOUNT };
  }
  if (text.startsWith("pl-")) return { kind: "prefix-list", prefixListId: text };
  return text.includes(":") ? { kind: "ipv6", cidr: text } : { kind: "ipv4", cidr: text };
}

/** `inbound("sgr-a", "tcp", 22, 22, "0.0.0.0/0")`; every rule gets a description unless told. */
function inbound(
  id: string,
  protocol: string,
  from: number,
  to: number,
  p: string,
  description = "d",
): RuleSpec {
  return { id, direction: "ingress", protocol, fromPort: from, toPort: to, peer: peer(p), description };
}
function outbound(
  id: string,
  protocol: string,
  from: number,
  to: number,
  p: string,
  description = "d",
): RuleSpec {
  return { id, direction: "egress", protocol, fromPort: from, toPort: to, peer: peer(p), description };
}

function sg(id: string, rules: RuleSpec[], extra: Partial<SecurityGroup> = {}): SecurityGroup {
  return {
    id,
    name: extra.name ?? `${id}-name`,
    description: extra.description ?? `what ${id} is for`,
    vpcId: "vpc-1",
    ownerId: ACCOUNT,
    tags: {},
    rules: rules.map((r) => ({ ...r, groupId: id })),
  };
}

function eni(id: string, groupIds: string[]): NetworkInterface {
  return {
    id,
    ownerId: ACCOUNT,
    vpcId: "vpc-1",
    subnetId: "subnet-1",
    privateIpv4: ["10.0.0.5"],
    ipv6: [],
    groupIds,
    tags: {},
  };
}

/** An estate whose groups are all in use, so that only the checks under test fire. */
function estateOf(groups: SecurityGroup[], extra: Partial<Estate> = {}): Estate {
  return {
    ...EMPTY_ESTATE,
    securityGroups: groups,
    networkInterfaces: groups.map((g) => eni(`eni-${g.id}`, [g.id])),
    ...extra,
  };
}

function only(findings: LintFinding[], check: LintCheck): LintFinding[] {
  return findings.filter((f) => f.check === check);
}

function run(groups: SecurityGroup[], check: LintCheck, extra: Partial<Estate> = {}) {
  return only(lintEstate(estateOf(groups, extra)), check);
}

describe("internet exposure of security groups", () => {
  it("reports all traffic from 0.0.0.0/0 as critical", () => {
    const found = run([sg("sg-a", [inbound("sgr-all", "-1", -1, -1, "0.0.0.0/0")])], "internet-all-traffic");
    assert.equal(found.length, 1);
    assert.equal(found[0]?.severity, "critical");
    assert.deepEqual(found[0]?.ruleIds, ["sgr-all"]);
    assert.match(found[0]?.reason ?? "", /all traffic/);
    assert.match(found[0]?.reason ?? "", /IPv4/);
  });

  it("counts a /1 pair as the internet and names both rules", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-lo", "tcp", 0, 65535, "0.0.0.0/1"),
          inbound("sgr-hi", "tcp", 0, 65535, "128.0.0.0/1"),
        ]),
      ],
      "internet-all-traffic",
    );
    assert.equal(found.length, 1);
    assert.deepEqual([...(found[0]?.ruleIds ?? [])].sort(), ["sgr-hi", "sgr-lo"]);
    assert.match(found[0]?.reason ?? "", /all ports of tcp/);
  });

  it("does not report all ports open to a private range", () => {
    const found = run([sg("sg-a", [inbound("sgr-p", "-1", -1, -1, "10.0.0.0/8")])], "internet-all-traffic");
    assert.deepEqual(found, []);
  });

  it("reports each sensitive port inside an open range, over IPv6 too", () => {
    // 3000-3400 contains 3306 (mysql) and 3389 (rdp) and no other sensitive port
    const found = run([sg("sg-a", [inbound("sgr-r", "tcp", 3000, 3400, "::/0")])], "internet-sensitive-port");
    assert.deepEqual(
      found.map((f) => f.reason.split(" ")[0]),
      ["tcp/3306", "tcp/3389"],
    );
    assert.ok(found.every((f) => f.severity === "high" && f.reason.endsWith("over IPv6")));
    assert.equal(found[0]?.resource, "sg-a/sgr-r");
  });

  it("reports ssh open to the internet", () => {
    const found = run(
      [sg("sg-a", [inbound("sgr-ssh", "tcp", 22, 22, "0.0.0.0/0")])],
      "internet-sensitive-port",
    );
    assert.equal(found.length, 1);
    assert.match(found[0]?.reason ?? "", /^tcp\/22 \(ssh\)/);
  });

  it("looks inside prefix lists", () => {
    const list = (id: string, cidr: string) => ({
      id,
      name: id,
      ownerId: ACCOUNT,
      addressFamily: "IPv4" as const,
      maxEntries: 5,
      entries: [{ cidr }],
    });
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-open", "tcp", 22, 22, "pl-open"),
          inbound("sgr-office", "tcp", 23, 23, "pl-office"),
        ]),
      ],
      "internet-sensitive-port",
      { prefixLists: [list("pl-open", "0.0.0.0/0"), list("pl-office", "8.8.8.0/24")] },
    );
    assert.deepEqual(
      found.map((f) => f.resource),
      ["sg-a/sgr-open"],
    );
  });

  it("does not report ssh from a small public range or from a group", () => {
    const found = run(
      [
        sg("sg-a", [inbound("sgr-1", "tcp", 22, 22, "8.8.8.0/24"), inbound("sgr-2", "tcp", 22, 22, "sg-b")]),
        sg("sg-b", []),
      ],
      "internet-sensitive-port",
    );
    assert.deepEqual(found, []);
  });

  it("reports ports beyond the allow-list, but not the allowed ones nor ICMP", () => {
    const groups = [
      sg("sg-a", [
        inbound("sgr-https", "tcp", 443, 443, "0.0.0.0/0"),
        inbound("sgr-alt", "tcp", 8443, 8443, "0.0.0.0/0"),
        inbound("sgr-ping", "icmp", 8, -1, "0.0.0.0/0"),
      ]),
    ];
    const found = run(groups, "internet-port-not-allowed");
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]?.ruleIds, ["sgr-alt"]);
    assert.match(found[0]?.reason ?? "", /tcp\/8443$/);
    const tuned = only(
      lintEstate(estateOf(groups), { allowedApps: parseAppList("443,8443") }),
      "internet-port-not-allowed",
    );
    assert.deepEqual(tuned, []);
  });
});

describe("wide public CIDRs and egress", () => {
  it("reports a public /8 but not a private /8, a /24 or the whole internet", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-wide", "tcp", 443, 443, "8.0.0.0/8"),
          inbound("sgr-private", "tcp", 443, 443, "10.0.0.0/8"),
          inbound("sgr-narrow", "tcp", 443, 443, "8.8.8.0/24"),
          inbound("sgr-world", "tcp", 443, 443, "0.0.0.0/0"),
        ]),
      ],
      "wide-public-cidr",
    );
    assert.deepEqual(
      found.map((f) => f.resource),
      ["sg-a/sgr-wide"],
    );
    assert.equal(found[0]?.severity, "medium");
  });

  it("reports a public IPv6 /16 but not a /48", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-wide6", "tcp", 443, 443, "2600::/16"),
          inbound("sgr-narrow6", "tcp", 443, 443, "2600:1f18::/48"),
        ]),
      ],
      "wide-public-cidr",
    );
    assert.deepEqual(
      found.map((f) => f.resource),
      ["sg-a/sgr-wide6"],
    );
  });

  it("reports all traffic out to the internet, not a single port out", () => {
    const open = run([sg("sg-a", [outbound("sgr-out", "-1", -1, -1, "0.0.0.0/0")])], "unrestricted-egress");
    assert.equal(open.length, 1);
    assert.equal(open[0]?.severity, "low");
    const narrow = run(
      [sg("sg-a", [outbound("sgr-out", "tcp", 443, 443, "0.0.0.0/0")])],
      "unrestricted-egress",
    );
    assert.deepEqual(narrow, []);
  });
});

describe("default, unused and stale groups", () => {
  const defaults = (id: string) => [
    inbound("sgr-self", "-1", -1, -1, id, ""),
    outbound("sgr-eg", "-1", -1, -1, "0.0.0.0/0", ""),
  ];

  it("reports rules beyond the defaults in a default group, naming only the extra rule", () => {
    const g = sg("sg-d", [...defaults("sg-d"), inbound("sgr-x", "tcp", 22, 22, "10.0.0.0/8")], {
      name: "default",
    });
    const found = lintEstate({ ...EMPTY_ESTATE, securityGroups: [g] });
    assert.deepEqual(
      only(found, "default-group-rules").map((f) => f.ruleIds),
      [["sgr-x"]],
    );
    const plain = sg("sg-d", defaults("sg-d"), { name: "default" });
    assert.deepEqual(
      only(lintEstate({ ...EMPTY_ESTATE, securityGroups: [plain] }), "default-group-rules"),
      [],
    );
  });

  it("reports a default group attached to an interface", () => {
    const g = sg("sg-d", defaults("sg-d"), { name: "default" });
    const used = only(lintEstate(estateOf([g])), "default-group-in-use");
    assert.equal(used.length, 1);
    assert.match(used[0]?.reason ?? "", /eni-sg-d/);
    assert.deepEqual(only(lintEstate({ ...EMPTY_ESTATE, securityGroups: [g] }), "default-group-in-use"), []);
  });

  it("reports groups attached to nothing, except default groups", () => {
    const estate: Estate = {
      ...EMPTY_ESTATE,
      securityGroups: [sg("sg-used", []), sg("sg-idle", []), sg("sg-d", [], { name: "default" })],
      networkInterfaces: [eni("eni-1", ["sg-used"])],
    };
    assert.deepEqual(
      only(lintEstate(estate), "unused-group").map((f) => f.resource),
      ["sg-idle"],
    );
  });

  it("reports unused groups only as info when the estate has no interfaces at all", () => {
    const found = only(lintEstate({ ...EMPTY_ESTATE, securityGroups: [sg("sg-idle", [])] }), "unused-group");
    assert.deepEqual(
      found.map((f) => [f.resource, f.severity]),
      [["sg-idle", "info"]],
    );
  });

  it("reports references to missing groups, lower for another account", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-gone", "tcp", 80, 80, "sg-gone"),
          inbound("sgr-foreign", "tcp", 80, 80, "sg-far@222222222222"),
          inbound("sgr-ok", "tcp", 80, 80, "sg-b"),
        ]),
        sg("sg-b", []),
      ],
      "stale-reference",
    );
    assert.deepEqual(
      found.map((f) => [f.resource, f.severity]),
      [
        ["sg-a/sgr-gone", "medium"],
        ["sg-a/sgr-foreign", "low"],
      ],
    );
  });

  it("a group that interfaces carry but the dump leaves out is unknown, not stale", () => {
    const estate = estateOf([sg("sg-a", [inbound("sgr-left-out", "tcp", 80, 80, "sg-zzz")])], {
      networkInterfaces: [eni("eni-1", ["sg-zzz"]), eni("eni-2", ["sg-zzz"]), eni("eni-3", ["sg-a"])],
    });
    const findings = lintEstate(estate);
    assert.deepEqual(only(findings, "stale-reference"), []);
    const unknown = only(findings, "unknown-group");
    assert.deepEqual(
      unknown.map((f) => [f.resource, f.severity]),
      [["sg-zzz", "medium"]],
    );
    assert.match(unknown[0]?.reason ?? "", /2 interface\(s\) \(eni-1, eni-2\).*rules are unknown/);
  });
});

describe("redundant and overlapping rules", () => {
  it("reports a rule inside a broader one", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-narrow", "tcp", 22, 22, "10.1.0.0/16"),
          inbound("sgr-broad", "tcp", 0, 1024, "10.0.0.0/8"),
        ]),
      ],
      "redundant-rule",
    );
    assert.deepEqual(
      found.map((f) => f.ruleIds),
      [["sgr-narrow", "sgr-broad"]],
    );
  });

  it("reports a rule covered only by the union of two others", () => {
    // 80-90 = 80-85 + 86-90 on the same peers; 80-85 and 86-90 are each inside 80-90 as well
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-all", "tcp", 80, 90, "10.0.0.0/8"),
          inbound("sgr-low", "tcp", 80, 85, "10.0.0.0/8"),
          inbound("sgr-high", "tcp", 86, 90, "10.0.0.0/8"),
        ]),
      ],
      "redundant-rule",
    );
    const byRule = new Map(found.map((f) => [f.ruleIds?.[0], f.ruleIds?.slice(1)]));
    assert.deepEqual(byRule.get("sgr-all"), ["sgr-low", "sgr-high"]);
    assert.deepEqual(byRule.get("sgr-low"), ["sgr-all"]);
    assert.deepEqual(byRule.get("sgr-high"), ["sgr-all"]);
  });

  it("reports a group reference made redundant by rules for every address", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-ref", "tcp", 5432, 5432, "sg-b"),
          inbound("sgr-v4", "tcp", 5432, 5432, "0.0.0.0/0"),
          inbound("sgr-v6", "tcp", 5432, 5432, "::/0"),
        ]),
        sg("sg-b", []),
      ],
      "redundant-rule",
    );
    assert.deepEqual(
      found.map((f) => f.resource),
      ["sg-a/sgr-ref"],
    );
  });

  it("does not report rules that differ in protocol, direction or peer", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-tcp", "tcp", 53, 53, "10.0.0.0/8"),
          inbound("sgr-udp", "udp", 53, 53, "10.0.0.0/8"),
          outbound("sgr-out", "tcp", 53, 53, "10.0.0.0/8"),
          inbound("sgr-ref", "tcp", 53, 53, "sg-b"),
          inbound("sgr-v4", "tcp", 53, 53, "0.0.0.0/0"),
        ]),
        sg("sg-b", []),
      ],
      "redundant-rule",
    );
    // sgr-tcp is inside sgr-v4; the group reference is not (its members may have IPv6 addresses)
    assert.deepEqual(
      found.map((f) => f.resource),
      ["sg-a/sgr-tcp"],
    );
  });

  it("of two identical rules reports only the later one", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-1", "tcp", 80, 80, "10.0.0.0/8"),
          inbound("sgr-2", "6", 80, 80, "10.0.0.0/8"),
        ]),
      ],
      "redundant-rule",
    );
    assert.deepEqual(
      found.map((f) => f.resource),
      ["sg-a/sgr-2"],
    );
  });

  it("reports overlapping CIDRs on the same ports, not identical, disjoint or other ports", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-8", "tcp", 22, 22, "10.0.0.0/8"),
          inbound("sgr-16", "tcp", 22, 22, "10.1.0.0/16"),
          inbound("sgr-other", "tcp", 23, 23, "10.1.0.0/16"),
          inbound("sgr-disjoint", "tcp", 22, 22, "192.168.0.0/16"),
        ]),
      ],
      "overlapping-cidrs",
    );
    assert.deepEqual(
      found.map((f) => f.ruleIds),
      [["sgr-8", "sgr-16"]],
    );
  });
});

describe("quota", () => {
  const cidrs = (n: number, prefix: string) =>
    Array.from({ length: n }, (_, k) =>
      inbound(`sgr-${prefix}${k}`, "tcp", 443, 443, `10.${prefix === "a" ? 1 : 2}.${k}.0/24`),
    );

  it("warns at 48 of 60 slots and not at 47", () => {
    assert.equal(run([sg("sg-a", cidrs(48, "a"))], "rule-quota").length, 1);
    assert.deepEqual(run([sg("sg-a", cidrs(47, "a"))], "rule-quota"), []);
  });

  it("counts group references in both tables and prefix lists by their max entries", () => {
    // 30 IPv4 + 18 group references = 48 slots: warn
    const refs = Array.from({ length: 18 }, (_, k) => inbound(`sgr-r${k}`, "tcp", 443, 443, `sg-x${k}`));
    const withRefs = run([sg("sg-a", [...cidrs(30, "a"), ...refs])], "rule-quota");
    assert.equal(withRefs[0]?.severity, "medium");
    // 40 IPv4 + a prefix list of max 25 entries (2 actual) = 65 slots: over the quota
    const list = {
      id: "pl-1",
      name: "l",
      ownerId: ACCOUNT,
      addressFamily: "IPv4" as const,
      maxEntries: 25,
      entries: [{ cidr: "10.9.0.0/16" }, { cidr: "10.8.0.0/16" }],
    };
    const over = run(
      [sg("sg-a", [...cidrs(40, "a"), inbound("sgr-pl", "tcp", 443, 443, "pl-1")])],
      "rule-quota",
      {
        prefixLists: [list],
      },
    );
    assert.equal(over[0]?.severity, "high");
    assert.match(over[0]?.reason ?? "", /65 of 60/);
    // IPv4 and IPv6 are separate tables: 30 + 30 = 30 slots
    const v6 = Array.from({ length: 30 }, (_, k) =>
      inbound(`sgr-six${k}`, "tcp", 443, 443, `2001:db8:${k}::/48`),
    );
    assert.deepEqual(run([sg("sg-a", [...cidrs(30, "a"), ...v6])], "rule-quota"), []);
  });
});

describe("descriptions", () => {
  it("reports a group description that is empty or repeats the name", () => {
    const found = run(
      [
        sg("sg-a", [], { name: "web", description: "web" }),
        sg("sg-b", [], { name: "db", description: "" }),
        sg("sg-c", [], { name: "app", description: "application servers" }),
      ],
      "group-description",
    );
    assert.deepEqual(
      found.map((f) => f.resource),
      ["sg-a", "sg-b"],
    );
  });

  it("reports rules without a description, but not the egress rule EC2 creates", () => {
    const found = run(
      [
        sg("sg-a", [
          inbound("sgr-bare", "tcp", 22, 22, "10.0.0.0/8", ""),
          inbound("sgr-told", "tcp", 23, 23, "10.0.0.0/8", "telnet from the office"),
          outbound("sgr-auto", "-1", -1, -1, "0.0.0.0/0", ""),
        ]),
      ],
      "rule-description",
    );
    assert.deepEqual(
      found.map((f) => [f.resource, f.severity]),
      [["sg-a/sgr-bare", "low"]],
    );
  });
});

describe("network ACLs", () => {
  function entry(
    ruleNumber: number,
    action: "allow" | "deny",
    protocol: string,
    cidr: string,
    ports?: [number, number],
    egress = false,
  ): NetworkAclEntry {
    return {
      ruleNumber,
      egress,
      protocol,
      action,
      cidr,
      ...(ports ? { portRange: { from: ports[0], to: ports[1] } } : {}),
    };
  }
  function acl(entries: NetworkAclEntry[]): NetworkAcl {
    return {
      id: "acl-1",
      vpcId: "vpc-1",
      ownerId: ACCOUNT,
      isDefault: false,
      entries,
      subnetIds: ["subnet-1"],
      tags: {},
    };
  }
  const catchAll = entry(32767, "deny", "-1", "0.0.0.0/0");
  const lint = (entries: NetworkAclEntry[]) => lintEstate({ ...EMPTY_ESTATE, networkAcls: [acl(entries)] });

  it("reports an inbound allow-all as opening sensitive ports", () => {
    const found = only(
      lint([entry(100, "allow", "-1", "0.0.0.0/0"), catchAll]),
      "nacl-internet-sensitive-port",
    );
    assert.equal(found.length, 1);
    assert.equal(found[0]?.resource, "acl-1#100");
    assert.match(found[0]?.reason ?? "", /22 \(ssh\)/);
    assert.match(found[0]?.reason ?? "", /3389 \(rdp\)/);
  });

  it("leaves out a port that an earlier deny closes", () => {
    const found = only(
      lint([
        entry(90, "deny", "6", "0.0.0.0/0", [22, 22]),
        entry(100, "allow", "6", "0.0.0.0/0", [0, 65535]),
        catchAll,
      ]),
      "nacl-internet-sensitive-port",
    );
    assert.equal(found.length, 1);
    assert.doesNotMatch(found[0]?.reason ?? "", /\b22 \(ssh\)/);
    assert.match(found[0]?.reason ?? "", /3389 \(rdp\)/);
  });

  it("does not report web ports, private sources or outbound entries", () => {
    const found = only(
      lint([
        entry(100, "allow", "6", "0.0.0.0/0", [443, 443]),
        entry(110, "allow", "-1", "10.0.0.0/8"),
        entry(100, "allow", "-1", "0.0.0.0/0", undefined, true),
        catchAll,
      ]),
      "nacl-internet-sensitive-port",
    );
    assert.deepEqual(found, []);
  });

  it("reports a deny behind a lower-numbered allow", () => {
    const found = only(
      lint([
        entry(100, "allow", "6", "0.0.0.0/0", [0, 65535]),
        entry(200, "deny", "6", "198.51.100.7/32", [22, 22]),
        catchAll,
      ]),
      "nacl-hidden-deny",
    );
    assert.equal(found.length, 1);
    assert.equal(found[0]?.resource, "acl-1#200");
    assert.deepEqual(found[0]?.ruleNumbers, [200, 100]);
  });

  it("reports a deny hidden by the union of two allows", () => {
    const found = only(
      lint([
        entry(100, "allow", "6", "0.0.0.0/1", [0, 65535]),
        entry(110, "allow", "6", "128.0.0.0/1", [0, 65535]),
        entry(200, "deny", "6", "0.0.0.0/0", [22, 22]),
      ]),
      "nacl-hidden-deny",
    );
    assert.deepEqual(found[0]?.ruleNumbers, [200, 100, 110]);
  });

  it("does not report a deny that comes first, a partly covered deny, or the catch-all", () => {
    const found = only(
      lint([
        entry(50, "deny", "6", "198.51.100.7/32", [22, 22]),
        entry(100, "allow", "6", "10.0.0.0/8", [0, 65535]),
        entry(150, "deny", "-1", "10.0.0.0/8"),
        entry(200, "allow", "-1", "0.0.0.0/0"),
        catchAll,
      ]),
      "nacl-hidden-deny",
    );
    // 150 denies udp and icmp from 10/8 that 100 (tcp only) does not allow: it still fires
    assert.deepEqual(found, []);
  });
});

describe("options, severities and output", () => {
  it("parses application lists and rejects nonsense", () => {
    assert.deepEqual(formatApps(parseAppList("80, udp/53, tcp/8000-8100")), [
      "tcp/80",
      "tcp/8000-8100",
      "udp/53",
      "udp/80",
    ]);
    assert.deepEqual(formatApps(parseAppList("icmp/8")), ["icmp 8"]);
    assert.throws(() => parseAppList("80-70"), AppListError);
    assert.throws(() => parseAppList("gre/5"), AppListError);
    assert.throws(() => parseAppList("http"), AppListError);
  });

  it("orders severities", () => {
    assert.ok(atLeast("critical", "high"));
    assert.ok(atLeast("high", "high"));
    assert.ok(!atLeast("medium", "high"));
  });

  it("sorts findings most severe first and prints a table with a summary", () => {
    const findings = lintEstate(
      estateOf([sg("sg-a", [inbound("sgr-all", "-1", -1, -1, "0.0.0.0/0", "")], { description: "" })]),
    );
    assert.equal(findings[0]?.severity, "critical");
    for (let k = 1; k < findings.length; k++) {
      assert.ok(atLeast(findings[k - 1]?.severity ?? "info", findings[k]?.severity ?? "info"));
    }
    const table = formatLintTable(findings);
    assert.match(table.split("\n")[0] ?? "", /^SEVERITY\s+CHECK\s+RESOURCE\s+REASON$/);
    assert.match(table, /finding\(s\): 1 critical/);
    assert.equal(formatLintTable([]), "0 finding(s): 0 critical, 0 high, 0 medium, 0 low, 0 info");
    // an estate's worth of findings: more rows than a call takes arguments
    const many = Array.from({ length: 300_000 }, (_, k) => ({
      ...(findings[0] as LintFinding),
      resource: `sg-${k}`,
    }));
    const lines = formatLintTable(many).split("\n");
    assert.equal(lines.length, 300_003, "header, rows, a blank line and the summary");
    assert.match(lines.at(-1) ?? "", /^300000 finding\(s\): 300000 critical/);
    assert.match(lines[1] ?? "", /^critical\s+\S+\s+sg-0\s{6}/);
  });

  it("finds nothing in a tidy estate", () => {
    const tidy = sg("sg-a", [
      inbound("sgr-1", "tcp", 443, 443, "10.0.0.0/8"),
      outbound("sgr-2", "tcp", 5432, 5432, "sg-a"),
    ]);
    assert.deepEqual(lintEstate(estateOf([tidy])), []);
  });
});
