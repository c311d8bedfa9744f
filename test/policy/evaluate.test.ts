import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type IpAddress, parseIp } from "../../src/net/address.js";
import {
  type Endpoint,
  evaluateFlow,
  FlowError,
  isFlowAllowed,
  renderVerdict,
} from "../../src/policy/evaluate.js";
import { PolicyIndex, type Traffic } from "../../src/policy/policy-index.js";
import { ALL_OUT, acl, aclEntry, eni, estate, group, prefixList, rule, subnet } from "./estate-builder.js";

const at = (interfaceId: string, address?: string): Endpoint =>
  address ? { kind: "interface", interfaceId, address } : { kind: "interface", interfaceId };
const ext = (address: string): Endpoint => ({ kind: "address", address });
const tcp = (port: number): Traffic => ({ protocol: 6, port });

// Three tiers in one subnet: app may reach db on 3306 by reference to the app group.
const tiers = estate({
  subnets: [subnet("subnet-a", "10.0.1.0/24")],
  securityGroups: [
    group("sg-app", [ALL_OUT()]),
    group("sg-db", [rule("ingress", "tcp", 3306, 3306, "sg-app", "sgr-db3306"), ALL_OUT()]),
    group("sg-other", [ALL_OUT()]),
  ],
  networkInterfaces: [
    eni("eni-app", "subnet-a", ["10.0.1.10"], ["sg-app"]),
    eni("eni-db", "subnet-a", ["10.0.1.20"], ["sg-db"]),
    eni("eni-stranger", "subnet-a", ["10.0.1.30"], ["sg-other"]),
  ],
});

describe("group references", () => {
  const index = PolicyIndex.build(tiers);

  test("appserver reaches dbserver on tcp/3306 through the app-group reference", () => {
    const v = evaluateFlow(index, { source: at("eni-app"), destination: at("eni-db"), traffic: tcp(3306) });
    assert.equal(v.allowed, true);
    assert.deepEqual(v.steps.destinationIngress, {
      kind: "allowed",
      matches: [{ groupId: "sg-db", ruleId: "sgr-db3306", direction: "ingress" }],
    });
    assert.equal(v.steps.sourceEgress.kind, "allowed");
    // one subnet: the ACL is not crossed
    assert.deepEqual(v.steps.sourceNaclOut, { kind: "skipped", reason: "same-subnet" });
  });

  test("a stranger without the app group is denied at destination ingress", () => {
    const v = evaluateFlow(index, {
      source: at("eni-stranger"),
      destination: at("eni-db"),
      traffic: tcp(3306),
    });
    assert.equal(v.allowed, false);
    assert.equal(v.blockedAt, "destination-ingress");
    assert.deepEqual(v.steps.destinationIngress, { kind: "denied", groupIds: ["sg-db"] });
    assert.match(renderVerdict(v), /DENIED at destination-ingress/);
  });

  test("another port is denied even for the app server", () => {
    assert.equal(
      isFlowAllowed(index, { source: at("eni-app"), destination: at("eni-db"), traffic: tcp(3307) }),
      false,
    );
  });

  test("the db does not reach the app (no ingress on the app group)", () => {
    assert.equal(
      isFlowAllowed(index, { source: at("eni-db"), destination: at("eni-app"), traffic: tcp(3306) }),
      false,
    );
  });

  test("a public address of a member never matches a group reference", () => {
    const withPublic = estate({
      ...tiers,
      networkInterfaces: [
        eni("eni-app", "subnet-a", ["10.0.1.10"], ["sg-app"], { publicIp: "54.1.1.1" }),
        eni("eni-db", "subnet-a", ["10.0.1.20"], ["sg-db"]),
      ],
    });
    const i = PolicyIndex.build(withPublic);
    assert.equal(
      isFlowAllowed(i, { source: ext("54.1.1.1"), destination: at("eni-db"), traffic: tcp(3306) }),
      false,
    );
    assert.equal(i.groupMembers("sg-app")[4].has(0x0a00010an), true);
  });
});

test("members of a default group reach each other on every protocol, outsiders do not", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24")],
    securityGroups: [group("sg-default", [rule("ingress", "-1", -1, -1, "sg-default"), ALL_OUT()])],
    networkInterfaces: [
      eni("eni-1", "subnet-a", ["10.0.1.1"], ["sg-default"]),
      eni("eni-2", "subnet-a", ["10.0.1.2"], ["sg-default"]),
      eni("eni-3", "subnet-a", ["10.0.1.3"], []),
    ],
  });
  const index = PolicyIndex.build(e);
  for (const traffic of [
    tcp(5432),
    { protocol: 17, port: 53 },
    { protocol: 1, icmpType: 8, icmpCode: 0 },
    { protocol: 47 },
  ]) {
    assert.equal(isFlowAllowed(index, { source: at("eni-1"), destination: at("eni-2"), traffic }), true);
    assert.equal(isFlowAllowed(index, { source: at("eni-2"), destination: at("eni-1"), traffic }), true);
  }
  // eni-3 has no group at all: it has no egress rule, so it cannot even send
  const v = evaluateFlow(index, { source: at("eni-3"), destination: at("eni-1"), traffic: tcp(22) });
  assert.equal(v.blockedAt, "source-egress");
  assert.deepEqual(v.steps.sourceEgress, { kind: "denied", groupIds: [] });
});

test("only the bastion reaches port 22; an instance in two groups gets the union", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24")],
    securityGroups: [
      group("sg-bastion", [ALL_OUT()]),
      group("sg-ssh-from-bastion", [rule("ingress", "tcp", 22, 22, "sg-bastion", "sgr-ssh")]),
      group("sg-web", [rule("ingress", "tcp", 443, 443, "0.0.0.0/0", "sgr-https"), ALL_OUT()]),
    ],
    networkInterfaces: [
      eni("eni-bastion", "subnet-a", ["10.0.1.5"], ["sg-bastion"]),
      eni("eni-web", "subnet-a", ["10.0.1.6"], ["sg-web", "sg-ssh-from-bastion"]),
      eni("eni-web2", "subnet-a", ["10.0.1.7"], ["sg-web"]),
    ],
  });
  const index = PolicyIndex.build(e);
  assert.equal(
    isFlowAllowed(index, { source: at("eni-bastion"), destination: at("eni-web"), traffic: tcp(22) }),
    true,
  );
  assert.equal(
    isFlowAllowed(index, { source: at("eni-web2"), destination: at("eni-web"), traffic: tcp(22) }),
    false,
  );
  assert.equal(
    isFlowAllowed(index, { source: ext("8.8.8.8"), destination: at("eni-web"), traffic: tcp(22) }),
    false,
  );
  // The web server in two groups also keeps 443 from sg-web.
  const v = evaluateFlow(index, { source: ext("8.8.8.8"), destination: at("eni-web"), traffic: tcp(443) });
  assert.equal(v.allowed, true);
  assert.deepEqual(v.steps.sourceEgress, { kind: "outside-vpc" });
  assert.match(v.notes.join("\n"), /no public or Elastic IP/);
  // eni-web2 lacks the ssh group: no path from the bastion
  assert.equal(
    isFlowAllowed(index, { source: at("eni-bastion"), destination: at("eni-web2"), traffic: tcp(22) }),
    false,
  );
  assert.equal(index.effectiveRules("eni-web", "ingress").length, 2);
});

test("cross-account group references match the other account's members", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24"), subnet("subnet-b", "10.0.2.0/24")],
    securityGroups: [
      group("sg-mine", [rule("ingress", "tcp", 8080, 8080, "sg-theirs@222222222222", "sgr-x"), ALL_OUT()]),
      group("sg-theirs", [ALL_OUT()], { ownerId: "222222222222" }),
    ],
    networkInterfaces: [
      eni("eni-mine", "subnet-a", ["10.0.1.1"], ["sg-mine"]),
      eni("eni-theirs", "subnet-b", ["10.0.2.1"], ["sg-theirs"], { ownerId: "222222222222" }),
    ],
  });
  const index = PolicyIndex.build(e);
  const v = evaluateFlow(index, {
    source: at("eni-theirs"),
    destination: at("eni-mine"),
    traffic: tcp(8080),
  });
  assert.equal(v.allowed, true);
  // no ACLs in this estate: the ACL steps were not checked, and the verdict says so
  assert.deepEqual(v.steps.destinationNaclIn, { kind: "skipped", reason: "no-acl-known" });
  assert.match(v.notes.join("\n"), /no network ACL is known/);
});

describe("network ACLs", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24"), subnet("subnet-b", "10.0.2.0/24")],
    securityGroups: [group("sg-open", [rule("ingress", "-1", -1, -1, "10.0.0.0/8"), ALL_OUT()])],
    networkInterfaces: [
      eni("eni-a1", "subnet-a", ["10.0.1.1"], ["sg-open"]),
      eni("eni-a2", "subnet-a", ["10.0.1.2"], ["sg-open"]),
      eni("eni-b1", "subnet-b", ["10.0.2.1"], ["sg-open"]),
    ],
    networkAcls: [
      acl(
        "acl-a",
        ["subnet-a"],
        [aclEntry(100, true, "allow", "0.0.0.0/0"), aclEntry(100, false, "allow", "0.0.0.0/0")],
      ),
      // deny tcp/22 from 10.0.1.0/24 at 90, allow everything at 100; udp denied by nothing but not allowed either
      acl(
        "acl-b",
        ["subnet-b"],
        [
          aclEntry(90, false, "deny", "10.0.1.0/24", "6", [22, 22]),
          aclEntry(100, false, "allow", "10.0.0.0/8", "6", [0, 65535]),
          aclEntry(100, true, "allow", "0.0.0.0/0"),
        ],
      ),
    ],
  });
  const index = PolicyIndex.build(e);

  test("a lower-numbered deny wins over a later allow", () => {
    const v = evaluateFlow(index, { source: at("eni-a1"), destination: at("eni-b1"), traffic: tcp(22) });
    assert.equal(v.allowed, false);
    assert.equal(v.blockedAt, "destination-nacl-in");
    assert.deepEqual(v.steps.destinationNaclIn, {
      kind: "decided",
      aclId: "acl-b",
      subnetId: "subnet-b",
      action: "deny",
      ruleNumber: 90,
    });
  });

  test("other tcp ports pass entry 100; udp hits the catch-all", () => {
    const ok = evaluateFlow(index, { source: at("eni-a1"), destination: at("eni-b1"), traffic: tcp(80) });
    assert.equal(ok.allowed, true);
    assert.equal(ok.steps.destinationNaclIn.kind === "decided" && ok.steps.destinationNaclIn.ruleNumber, 100);
    const udp = evaluateFlow(index, {
      source: at("eni-a1"),
      destination: at("eni-b1"),
      traffic: { protocol: 17, port: 53 },
    });
    assert.equal(udp.blockedAt, "destination-nacl-in");
    assert.equal(
      udp.steps.destinationNaclIn.kind === "decided" && udp.steps.destinationNaclIn.ruleNumber,
      undefined,
    );
    assert.match(renderVerdict(udp), /catch-all/);
  });

  test("within one subnet the ACL is skipped", () => {
    const v = evaluateFlow(index, { source: at("eni-a1"), destination: at("eni-a2"), traffic: tcp(22) });
    assert.equal(v.allowed, true);
    assert.deepEqual(v.steps.destinationNaclIn, { kind: "skipped", reason: "same-subnet" });
  });

  test("the source subnet's outbound ACL blocks before anything inbound", () => {
    const e2 = estate({
      ...e,
      networkAcls: [
        acl("acl-a", ["subnet-a"], [aclEntry(10, true, "deny", "10.0.2.0/24")]),
        acl("acl-b", ["subnet-b"], []),
      ],
    });
    const v = evaluateFlow(PolicyIndex.build(e2), {
      source: at("eni-a1"),
      destination: at("eni-b1"),
      traffic: tcp(80),
    });
    assert.equal(v.blockedAt, "source-nacl-out");
  });
});

test("IPv6: CIDR rules match by family, an IPv4 rule never matches IPv6", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24", ["2600:1f18:1:1::/64"])],
    securityGroups: [
      group("sg-web6", [
        rule("ingress", "tcp", 443, 443, "::/0", "sgr-v6"),
        rule("ingress", "tcp", 80, 80, "0.0.0.0/0"),
      ]),
    ],
    networkInterfaces: [eni("eni-w", "subnet-a", ["10.0.1.9", "2600:1f18:1:1::9"], ["sg-web6"])],
  });
  const index = PolicyIndex.build(e);
  const v = evaluateFlow(index, { source: ext("2001:db8::1"), destination: at("eni-w"), traffic: tcp(443) });
  assert.equal(v.allowed, true);
  assert.equal(v.family, 6);
  assert.equal(v.destination.address, "2600:1f18:1:1::9");
  assert.equal(
    isFlowAllowed(index, { source: ext("2001:db8::1"), destination: at("eni-w"), traffic: tcp(80) }),
    false,
  );
  assert.equal(
    isFlowAllowed(index, { source: ext("192.0.2.1"), destination: at("eni-w"), traffic: tcp(443) }),
    false,
  );
  assert.throws(
    () => evaluateFlow(index, { source: ext("2001:db8::1"), destination: ext("192.0.2.1"), traffic: tcp(1) }),
    FlowError,
  );
});

test("ICMP type and code", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24")],
    securityGroups: [
      group("sg-ping", [
        rule("ingress", "icmp", 8, -1, "0.0.0.0/0"), // echo request, any code
        rule("ingress", "icmp", 3, 4, "0.0.0.0/0"), // fragmentation needed only
      ]),
    ],
    networkInterfaces: [eni("eni-p", "subnet-a", ["10.0.1.9"], ["sg-ping"])],
  });
  const index = PolicyIndex.build(e);
  const ok = (icmpType: number, icmpCode?: number) =>
    isFlowAllowed(index, {
      source: ext("198.51.100.1"),
      destination: at("eni-p"),
      traffic: icmpCode === undefined ? { protocol: 1, icmpType } : { protocol: 1, icmpType, icmpCode },
    });
  assert.equal(ok(8, 0), true);
  assert.equal(ok(8), true);
  assert.equal(ok(3, 4), true);
  assert.equal(ok(3, 1), false);
  assert.equal(ok(0, 0), false);
  // ICMP is always tracked, even when opened to 0.0.0.0/0
  const v = evaluateFlow(index, {
    source: ext("198.51.100.1"),
    destination: at("eni-p"),
    traffic: { protocol: 1, icmpType: 8 },
  });
  assert.deepEqual(v.untracked, { source: false, destination: false });
});

test("prefix lists expand to their entries, of their own family", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24")],
    securityGroups: [group("sg-pl", [rule("ingress", "tcp", 5432, 5432, "pl-office", "sgr-pl")])],
    networkInterfaces: [eni("eni-x", "subnet-a", ["10.0.1.9"], ["sg-pl"])],
    prefixLists: [prefixList("pl-office", ["203.0.113.0/24", "198.51.100.7/32"])],
  });
  const index = PolicyIndex.build(e);
  const from = (a: string) =>
    isFlowAllowed(index, { source: ext(a), destination: at("eni-x"), traffic: tcp(5432) });
  assert.equal(from("203.0.113.200"), true);
  assert.equal(from("198.51.100.7"), true);
  assert.equal(from("198.51.100.8"), false);
  assert.equal(index.prefixListEntries("pl-office")[4].size(), 257n);
  // an unknown list matches nothing
  assert.equal(index.prefixListEntries("pl-missing")[4].isEmpty, true);
});

test("untracked: tcp allowed by 0.0.0.0/0 with an all-open egress rule; tracked otherwise", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24")],
    securityGroups: [
      group("sg-open", [
        rule("ingress", "tcp", 80, 80, "0.0.0.0/0"),
        rule("ingress", "tcp", 22, 22, "203.0.113.1/32"),
        ALL_OUT(),
      ]),
      group("sg-no-all-out", [
        rule("ingress", "tcp", 80, 80, "0.0.0.0/0"),
        rule("egress", "tcp", 443, 443, "0.0.0.0/0"),
      ]),
    ],
    networkInterfaces: [
      eni("eni-open", "subnet-a", ["10.0.1.1"], ["sg-open"], { publicIp: "54.0.0.1" }),
      eni("eni-tracked", "subnet-a", ["10.0.1.2"], ["sg-no-all-out"]),
    ],
  });
  const index = PolicyIndex.build(e);
  const v80 = evaluateFlow(index, {
    source: ext("203.0.113.1"),
    destination: at("eni-open"),
    traffic: tcp(80),
  });
  assert.deepEqual(v80.untracked, { source: false, destination: true });
  assert.match(v80.notes.join("\n"), /reachable from the internet at 54\.0\.0\.1/);
  const v22 = evaluateFlow(index, {
    source: ext("203.0.113.1"),
    destination: at("eni-open"),
    traffic: tcp(22),
  });
  assert.deepEqual(v22.untracked, { source: false, destination: false });
  const t = evaluateFlow(index, {
    source: ext("203.0.113.1"),
    destination: at("eni-tracked"),
    traffic: tcp(80),
  });
  assert.equal(t.allowed, true);
  assert.deepEqual(t.untracked, { source: false, destination: false });
});

test("a dynamic subnet makes its groups cover the whole subnet CIDR", () => {
  const e = estate({
    subnets: [
      subnet("subnet-a", "10.0.1.0/24"),
      { ...subnet("subnet-dyn", "10.0.9.0/24"), tags: { Name: "workers" } },
    ],
    securityGroups: [
      group("sg-worker", [ALL_OUT()]),
      group("sg-api", [rule("ingress", "tcp", 443, 443, "sg-worker")]),
    ],
    networkInterfaces: [
      eni("eni-api", "subnet-a", ["10.0.1.1"], ["sg-api"]),
      eni("eni-w", "subnet-dyn", ["10.0.9.5"], ["sg-worker"]),
    ],
  });
  const plain = PolicyIndex.build(e);
  const dynamic = PolicyIndex.build(e, { dynamicSubnets: ["workers"] });
  const from = (i: PolicyIndex) =>
    isFlowAllowed(i, { source: ext("10.0.9.77"), destination: at("eni-api"), traffic: tcp(443) });
  assert.equal(from(plain), false);
  assert.equal(from(dynamic), true);
  assert.throws(() => PolicyIndex.build(e, { dynamicSubnets: ["nope"] }), /nope/);
});

test("unknown endpoints are errors, not verdicts", () => {
  const index = PolicyIndex.build(tiers);
  assert.throws(
    () => evaluateFlow(index, { source: at("eni-none"), destination: at("eni-db"), traffic: tcp(1) }),
    /eni-none/,
  );
  assert.throws(
    () => evaluateFlow(index, { source: ext("nonsense"), destination: at("eni-db"), traffic: tcp(1) }),
    FlowError,
  );
  assert.throws(
    () =>
      evaluateFlow(index, { source: at("eni-app", "10.9.9.9"), destination: at("eni-db"), traffic: tcp(1) }),
    /not a private address/,
  );
  assert.throws(
    () =>
      evaluateFlow(index, { source: at("eni-app"), destination: at("eni-db"), traffic: tcp(1), family: 6 }),
    /no IPv6/,
  );
});

describe("the policy index", () => {
  const both = estate({
    subnets: [subnet("subnet-1", "10.0.0.0/24", ["fd00::/64"])],
    securityGroups: [group("sg-a", [rule("ingress", "tcp", 22, 22, "10.0.0.0/8"), ALL_OUT()])],
    networkInterfaces: [
      eni("eni-v4", "subnet-1", ["0.0.0.1"], ["sg-a", "sg-a"]),
      eni("eni-v6", "subnet-1", ["::1"], ["sg-a"], { publicIp: "192.0.2.7" }),
    ],
  });
  const index = PolicyIndex.build(both);

  test("keeps IPv4 and IPv6 addresses of equal value apart", () => {
    assert.equal(index.interfaceAt({ family: 4, value: 1n })?.eni.id, "eni-v4");
    assert.equal(index.interfaceAt({ family: 6, value: 1n })?.eni.id, "eni-v6");
    assert.equal(
      index.interfaceAtPublic({ family: 4, value: (192n << 24n) | (2n << 8n) | 7n })?.eni.id,
      "eni-v6",
    );
    assert.equal(index.interfaceAtPublic({ family: 6, value: 1n }), undefined);
  });

  test("every Elastic IP of an interface leads to it; its own is the one on its primary address", () => {
    const two = PolicyIndex.build(
      estate({
        subnets: [subnet("subnet-1", "10.0.0.0/24")],
        securityGroups: [group("sg-a", [ALL_OUT()])],
        networkInterfaces: [eni("eni-two", "subnet-1", ["10.0.0.5", "10.0.0.6"], ["sg-a"])],
        addresses: [
          { publicIp: "198.18.0.9", networkInterfaceId: "eni-two", privateIp: "10.0.0.6" },
          { publicIp: "198.18.0.10", networkInterfaceId: "eni-two", privateIp: "10.0.0.5" },
        ],
      }),
    );
    const at = (ip: string) => two.interfaceAtPublic(parseIp(ip) as IpAddress)?.eni.id;
    assert.equal(at("198.18.0.9"), "eni-two", "the secondary address's");
    assert.equal(at("198.18.0.10"), "eni-two");
    assert.equal(two.interfaces.get("eni-two")?.elasticIp, "198.18.0.10");
  });

  test("derives an interface's entries on first read, shared by its group set", () => {
    const v4 = index.interfaces.get("eni-v4");
    const v6 = index.interfaces.get("eni-v6");
    assert.equal(v4?.groupKey, "sg-a", "a group attached twice counts once");
    assert.equal(v4?.ingress, v6?.ingress, "one array per group set");
    assert.equal(v4?.egress, v6?.egress);
    assert.deepEqual(
      v4?.ingress.map((e) => [e.ruleId, e.family, e.from, e.to]),
      [["sgr-00000000000000007", 4, 22, 22]],
      "the IPv4 CIDR rule, in IPv4 only",
    );
    assert.equal(v4?.publicIp, undefined);
    assert.equal(v6?.publicIp, "192.0.2.7");
  });
});
