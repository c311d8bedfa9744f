import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hostPolicyFor } from "../../src/compile/host-policy.js";
import { formatIp, parseIp } from "../../src/net/address.js";
import { IntervalSet } from "../../src/net/interval-set.js";
import { toCidrs } from "../../src/policy/address-space.js";
import { diffEstates } from "../../src/policy/diff.js";
import { evaluateFlow, renderVerdict } from "../../src/policy/evaluate.js";
import { lintEstate } from "../../src/policy/lint.js";
import { PolicyIndex } from "../../src/policy/policy-index.js";
import {
  exposure,
  reachableFrom,
  servicesBetween,
  sideOf,
  verdictsBetween,
  whoCanReach,
} from "../../src/policy/reachability.js";
import {
  parseTraffic,
  parseTrafficList,
  SelectorError,
  select,
  TrafficSyntaxError,
} from "../../src/policy/selectors.js";
import { ALL_OUT, acl, aclEntry, eni, estate, group, rule, subnet } from "./estate-builder.js";

const base = estate({
  subnets: [
    subnet("subnet-a", "10.0.1.0/24"),
    { ...subnet("subnet-b", "10.0.2.0/24"), tags: { Name: "data" } },
  ],
  securityGroups: [
    group("sg-web", [rule("ingress", "tcp", 443, 443, "0.0.0.0/0"), ALL_OUT()], { name: "web" }),
    group(
      "sg-db",
      [rule("ingress", "tcp", 5432, 5432, "sg-web"), rule("ingress", "tcp", 9000, 9100, "10.0.1.0/24")],
      {
        name: "db",
      },
    ),
  ],
  networkInterfaces: [
    eni("eni-w", "subnet-a", ["10.0.1.10"], ["sg-web"], {
      instanceId: "i-web",
      publicIp: "54.1.2.3",
      tags: { Role: "web" },
    }),
    eni("eni-d", "subnet-b", ["10.0.2.20"], ["sg-db"]),
  ],
  instances: [
    { id: "i-web", ownerId: "1", state: "running", interfaceIds: ["eni-w"], tags: { Name: "web-1" } },
  ],
  networkAcls: [
    acl(
      "acl-b",
      ["subnet-b"],
      [
        aclEntry(10, false, "deny", "10.0.1.0/24", "6", [9050, 9050]),
        aclEntry(100, false, "allow", "0.0.0.0/0"),
      ],
    ),
  ],
});

describe("selectors", () => {
  const index = PolicyIndex.build(base);
  const ids = (text: string) => {
    const s = select(index, text);
    return s.kind === "interfaces" ? s.interfaces.map((i) => i.eni.id) : s.kind;
  };
  test("each selector kind", () => {
    assert.deepEqual(ids("i-web"), ["eni-w"]);
    assert.deepEqual(ids("eni-d"), ["eni-d"]);
    assert.deepEqual(ids("10.0.2.20"), ["eni-d"]);
    assert.deepEqual(ids("54.1.2.3"), ["eni-w"]); // a public IP picks its interface
    assert.deepEqual(ids("10.0.0.0/16"), ["eni-w", "eni-d"]);
    assert.deepEqual(ids("sg-db"), ["eni-d"]);
    assert.deepEqual(ids("web"), ["eni-w"]);
    assert.deepEqual(ids("tag:Role=web"), ["eni-w"]);
    assert.deepEqual(ids("tag:Name=web-1"), ["eni-w"]); // instance tags count too
    assert.equal(ids("internet"), "external");
    assert.equal(ids("8.8.8.8"), "external");
    assert.equal(ids("192.168.0.0/24"), "external");
  });
  test("selectors that select nothing are errors", () => {
    for (const text of ["i-missing", "eni-missing", "nonsense", "tag:Role=none", "tag:"]) {
      assert.throws(() => select(index, text), SelectorError, text);
    }
  });
});

describe("PROTO/PORT", () => {
  test("forms", () => {
    assert.deepEqual(parseTraffic("tcp/22"), { protocol: 6, port: 22 });
    assert.deepEqual(parseTraffic("UDP/53"), { protocol: 17, port: 53 });
    assert.deepEqual(parseTraffic("icmp/8"), { protocol: 1, icmpType: 8 });
    assert.deepEqual(parseTraffic("icmp/3:4"), { protocol: 1, icmpType: 3, icmpCode: 4 });
    assert.deepEqual(parseTraffic("icmp/128", 6), { protocol: 58, icmpType: 128 });
    assert.deepEqual(parseTraffic("all"), { protocol: -1 });
    assert.deepEqual(parseTraffic("47"), { protocol: 47 });
    assert.equal(parseTrafficList("tcp/1000-1002,udp/53").length, 4);
  });
  test("mistakes", () => {
    for (const text of ["tcp", "tcp/70000", "gre", "icmp", "tcp/1-2", "47/1", "icmp/8:300", "icmp/8:0:7"]) {
      assert.throws(() => parseTraffic(text), TrafficSyntaxError, text);
    }
    assert.throws(() => parseTrafficList("tcp/10-5"), TrafficSyntaxError);
  });
});

describe("reachability queries", () => {
  const index = PolicyIndex.build(base);

  test("services between web and db: 5432 by reference, 9000-9100 by CIDR minus the NACL's 9050", () => {
    const w = sideOf(index.interfaces.get("eni-w") as never, 4);
    const d = sideOf(index.interfaces.get("eni-d") as never, 4);
    assert.deepEqual(servicesBetween(index, w as never, d as never), [
      "tcp/5432",
      "tcp/9000-9049",
      "tcp/9051-9100",
    ]);
    // db has no egress at all
    assert.deepEqual(servicesBetween(index, d as never, w as never), []);
  });

  test("who can reach db on 5432: the web interface only, nothing outside", () => {
    const r = whoCanReach(index, select(index, "eni-d"), { protocol: 6, port: 5432 }, 4);
    assert.deepEqual(
      r.map((x) => x.interfaces.map((i) => i.eni.id)),
      [["eni-w"]],
    );
    assert.equal(r[0]?.external.isEmpty, true);
    // 443 on web: everybody outside the VPC (the rule says 0.0.0.0/0; no NACL on subnet-a)
    const web = whoCanReach(index, select(index, "eni-w"), { protocol: 6, port: 443 }, 4)[0];
    assert.equal(web?.external.has(0x08080808n), true);
    assert.equal(web?.external.has(0x0a000214n), false); // 10.0.2.20 is inside the VPC space
    // db has no egress, so it cannot reach web
    assert.deepEqual(web?.interfaces, []);
  });

  test("reachable from web lists db and the internet egress", () => {
    const [r] = reachableFrom(index, select(index, "i-web"), 4);
    assert.deepEqual(
      r?.destinations.map((d) => [d.destination.eni.id, d.services]),
      [["eni-d", ["tcp/5432", "tcp/9000-9049", "tcp/9051-9100"]]],
    );
    assert.equal(r?.internet.length, 1);
    assert.match(r?.internet[0] ?? "", /^all to 0\.0\.0\.0\/0/);
  });

  test("internet as a source picks an admitted address, else explains the denial", () => {
    const ok = verdictsBetween(
      index,
      select(index, "internet"),
      select(index, "eni-w"),
      { protocol: 6, port: 443 },
      4,
    );
    assert.equal(ok[0]?.allowed, true);
    assert.match(ok[0]?.notes.join(" ") ?? "", /reachable from the internet at 54\.1\.2\.3/);
    const no = verdictsBetween(
      index,
      select(index, "internet"),
      select(index, "eni-w"),
      { protocol: 6, port: 22 },
      4,
    );
    assert.equal(no[0]?.blockedAt, "destination-ingress");
  });

  test("toCidrs gives the fewest CIDRs", () => {
    assert.deepEqual(toCidrs(IntervalSet.range(0x0a000000n, 0x0a0000ffn), 4), ["10.0.0.0/24"]);
    assert.deepEqual(toCidrs(IntervalSet.range(0x0a000001n, 0x0a000006n), 4), [
      "10.0.0.1/32",
      "10.0.0.2/31",
      "10.0.0.4/31",
      "10.0.0.6/32",
    ]);
  });
});

describe("diff", () => {
  test("a widened rule opens exactly the new ports and exposure; nothing closes", () => {
    const after = estate({
      ...base,
      securityGroups: [
        group("sg-web", [
          rule("ingress", "tcp", 443, 443, "0.0.0.0/0"),
          rule("ingress", "tcp", 22, 22, "0.0.0.0/0"),
          ALL_OUT(),
        ]),
        group("sg-db", [
          rule("ingress", "tcp", 5432, 5433, "sg-web"),
          rule("ingress", "tcp", 9000, 9100, "10.0.1.0/24"),
        ]),
      ],
    });
    const d = diffEstates(PolicyIndex.build(base), PolicyIndex.build(after));
    assert.deepEqual(d.opened, [{ source: "eni-w", destination: "eni-d", services: ["tcp/5433"] }]);
    assert.deepEqual(d.closed, []);
    assert.equal(d.exposureOpened.length, 1);
    assert.match(d.exposureOpened[0] ?? "", /eni-w tcp\/22 from 0\.0\.0\.0\/0 \[public\]/);
    assert.deepEqual(d.outsideOpened, [
      { interface: "eni-w", direction: "in", addresses: "anywhere outside the VPCs", services: ["tcp/22"] },
    ]);
    assert.deepEqual(d.outsideClosed, []);
  });

  test("flows with addresses outside every VPC that open or close are named with those addresses", () => {
    const after = estate({
      ...base,
      securityGroups: [
        // eni-w may no longer send anywhere but to the VPC; eni-d admits 5432 from a VPN's network
        group("sg-web", [
          rule("ingress", "tcp", 443, 443, "0.0.0.0/0"),
          rule("egress", "-1", -1, -1, "10.0.0.0/16"),
        ]),
        group("sg-db", [
          rule("ingress", "tcp", 5432, 5432, "sg-web"),
          rule("ingress", "tcp", 9000, 9100, "10.0.1.0/24"),
          rule("ingress", "tcp", 5432, 5432, "172.16.0.0/12"),
        ]),
      ],
    });
    const d = diffEstates(PolicyIndex.build(base), PolicyIndex.build(after));
    assert.deepEqual(d.opened, []);
    assert.deepEqual(d.outsideOpened, [
      { interface: "eni-d", direction: "in", addresses: "172.16.0.0/12", services: ["tcp/5432"] },
    ]);
    assert.deepEqual(d.outsideClosed, [
      { interface: "eni-w", direction: "out", addresses: "anywhere outside the VPCs", services: ["all"] },
    ]);
    assert.equal(d.exposureOpened.length + d.exposureClosed.length, 0, "no internet exposure changed");
  });

  test("a rule that names a secondary address alone opens a flow of its interface", () => {
    const withSecondary = estate({
      ...base,
      networkInterfaces: [
        eni("eni-w", "subnet-a", ["10.0.1.10", "10.0.1.11"], ["sg-web"], { instanceId: "i-web" }),
        eni("eni-d", "subnet-b", ["10.0.2.20"], ["sg-db"]),
      ],
    });
    const after = {
      ...withSecondary,
      securityGroups: withSecondary.securityGroups.map((g) =>
        g.id === "sg-db"
          ? {
              ...g,
              rules: [
                ...g.rules,
                { ...rule("ingress", "udp", 1500, 1500, "10.0.1.11/32"), groupId: "sg-db" },
              ],
            }
          : g,
      ),
    };
    const d = diffEstates(PolicyIndex.build(withSecondary), PolicyIndex.build(after));
    assert.deepEqual(d.opened, [
      {
        source: "eni-w",
        destination: "eni-d",
        sourceAddress: "10.0.1.11",
        destinationAddress: "10.0.2.20",
        services: ["udp/1500"],
      },
    ]);
    // narrowed from the subnet to the secondary: the primary's flows close, though the interface
    // as a whole still reaches eni-d
    const narrowed = (peer: string) => ({
      ...withSecondary,
      securityGroups: withSecondary.securityGroups.map((g) =>
        g.id === "sg-db"
          ? { ...g, rules: [{ ...rule("ingress", "tcp", 9000, 9100, peer), groupId: "sg-db" }] }
          : g,
      ),
    });
    const closed = diffEstates(
      PolicyIndex.build(narrowed("10.0.1.0/24")),
      PolicyIndex.build(narrowed("10.0.1.11/32")),
    );
    assert.deepEqual(closed.opened, []);
    assert.deepEqual(closed.closed, [
      {
        source: "eni-w",
        destination: "eni-d",
        sourceAddress: "10.0.1.10",
        destinationAddress: "10.0.2.20",
        // the ACL denies 9050 from 10.0.1.0/24 before and after
        services: ["tcp/9000-9049", "tcp/9051-9100"],
      },
    ]);
  });

  test("removing a member closes its flows; an identical estate has no change and evaluates no pair", () => {
    const after = estate({
      ...base,
      networkInterfaces: [
        eni("eni-w", "subnet-a", ["10.0.1.10"], [], { instanceId: "i-web" }),
        eni("eni-d", "subnet-b", ["10.0.2.20"], ["sg-db"]),
      ],
    });
    const d = diffEstates(PolicyIndex.build(base), PolicyIndex.build(after));
    // without sg-web eni-w has no egress at all: everything it could open closes
    assert.deepEqual(d.closed, [
      { source: "eni-w", destination: "eni-d", services: ["tcp/5432", "tcp/9000-9049", "tcp/9051-9100"] },
    ]);
    const same = diffEstates(PolicyIndex.build(base), PolicyIndex.build(base));
    assert.equal(same.pairsEvaluated, 0);
    assert.deepEqual([same.opened, same.closed, same.exposureOpened], [[], [], []]);
  });
});

describe("ICMP of a type, some code", () => {
  // sg-b admits 8:0, its ACL only 8:5; sg-a admits every ICMP, its ACL denies 8:0 and allows the rest
  const icmp = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24"), subnet("subnet-b", "10.0.2.0/24")],
    securityGroups: [
      group("sg-a", [rule("ingress", "icmp", -1, -1, "0.0.0.0/0"), ALL_OUT()]),
      group("sg-b", [rule("ingress", "icmp", 8, 0, "0.0.0.0/0"), ALL_OUT()]),
    ],
    networkInterfaces: [
      eni("eni-a", "subnet-a", ["10.0.1.10"], ["sg-a"], { publicIp: "54.1.1.1" }),
      eni("eni-b", "subnet-b", ["10.0.2.10"], ["sg-b"], { publicIp: "54.1.1.2" }),
    ],
    networkAcls: [
      acl(
        "acl-a",
        ["subnet-a"],
        [
          aclEntry(100, false, "deny", "0.0.0.0/0", "1", undefined, [8, 0]),
          aclEntry(200, false, "allow", "0.0.0.0/0"),
          aclEntry(100, true, "allow", "0.0.0.0/0"),
        ],
      ),
      acl(
        "acl-b",
        ["subnet-b"],
        [
          aclEntry(100, false, "allow", "0.0.0.0/0", "1", undefined, [8, 5]),
          aclEntry(100, true, "allow", "0.0.0.0/0"),
        ],
      ),
    ],
  });
  const index = PolicyIndex.build(icmp);
  const ping = parseTraffic("icmp/8", 4);
  const from = (selector: string, to: string) =>
    verdictsBetween(index, select(index, selector), select(index, to), ping, 4);

  test("is allowed when one code passes every step, not when each step passes some code", () => {
    const toB = from("internet", "eni-b");
    assert.equal(toB.length, 1);
    assert.equal(toB[0]?.allowed, false, "8:0 meets the ACL's catch-all, 8:5 the group's silence");
    const toA = from("internet", "eni-a");
    assert.equal(toA[0]?.allowed, true, "8:1 passes both");
    assert.equal(toA[0]?.traffic.icmpCode, 1, "the verdict names the code that passes");
  });

  test("who-can-reach and the matrix answer as the flow's verdict does", () => {
    const [b] = whoCanReach(index, select(index, "eni-b"), ping, 4);
    assert.deepEqual(
      b?.interfaces.map((i) => i.eni.id),
      [],
    );
    assert.ok(b?.external.isEmpty, "nobody outside either");
    const [a] = whoCanReach(index, select(index, "eni-a"), ping, 4);
    assert.deepEqual(
      a?.interfaces.map((i) => i.eni.id),
      ["eni-b"],
    );
    assert.ok(!a?.external.isEmpty);
  });

  test("the cases are the codes the estate names for the type, and one that stands for the rest", () => {
    assert.deepEqual(
      index.trafficCases(ping).map((t) => t.icmpCode),
      [0, 1, 5],
    );
    assert.deepEqual(index.trafficCases(parseTraffic("icmp/8:3", 4)), [parseTraffic("icmp/8:3", 4)]);
    // one path's cases are the codes its own rules and ACL entries name: eni-b's path names 0 and 5
    const b = index.interfaces.get("eni-b");
    assert.deepEqual(
      index.pathCases(ping, [undefined, b]).map((t) => t.icmpCode),
      [0, 1, 5],
    );
    // eni-a's group names no code, its ACL 0: the code-less question is one case per code it names
    assert.deepEqual(
      index.pathCases(ping, [index.interfaces.get("eni-a")]).map((t) => t.icmpCode),
      [0, 1],
    );
    assert.deepEqual(index.pathCases(parseTraffic("icmp/13", 4), [b]), [parseTraffic("icmp/13", 4)]);
    assert.deepEqual(index.trafficCases(parseTraffic("tcp/22", 4)), [parseTraffic("tcp/22", 4)]);
  });
});

describe("exposure and the subnet's ACL", () => {
  test("a rule is blocked by the ACL only when no traffic it admits gets through, on any port", () => {
    const open = estate({
      subnets: [subnet("subnet-a", "10.0.1.0/24")],
      securityGroups: [
        group("sg-web", [rule("ingress", "tcp", 0, 65535, "0.0.0.0/0"), ALL_OUT()]),
        group("sg-all", [rule("ingress", "-1", -1, -1, "0.0.0.0/0"), ALL_OUT()]),
        group("sg-ssh", [rule("ingress", "tcp", 22, 22, "0.0.0.0/0"), ALL_OUT()]),
      ],
      networkInterfaces: [
        eni("eni-w", "subnet-a", ["10.0.1.10"], ["sg-web"], { publicIp: "54.1.1.1" }),
        eni("eni-a", "subnet-a", ["10.0.1.11"], ["sg-all"], { publicIp: "54.1.1.2" }),
        eni("eni-s", "subnet-a", ["10.0.1.12"], ["sg-ssh"], { publicIp: "54.1.1.3" }),
      ],
      networkAcls: [
        acl(
          "acl-1",
          ["subnet-a"],
          [
            aclEntry(100, false, "allow", "0.0.0.0/0", "6", [443, 443]),
            aclEntry(100, true, "allow", "0.0.0.0/0"),
          ],
        ),
      ],
    });
    const findings = exposure(PolicyIndex.build(open));
    const blocked = Object.fromEntries(findings.map((f) => [f.interface.eni.id, f.blockedByNacl]));
    assert.deepEqual(blocked, { "eni-w": false, "eni-a": false, "eni-s": true });
  });

  test("names the address the internet reaches for the rule's family", () => {
    const dual = estate({
      subnets: [subnet("subnet-a", "10.0.1.0/24")],
      securityGroups: [
        group("sg-web", [
          rule("ingress", "tcp", 443, 443, "0.0.0.0/0"),
          rule("ingress", "tcp", 443, 443, "::/0"),
        ]),
      ],
      networkInterfaces: [
        eni("eni-w", "subnet-a", ["10.0.1.10", "2600:1f18:1:1::10"], ["sg-web"], { publicIp: "54.1.1.1" }),
      ],
    });
    const byFamily = Object.fromEntries(
      exposure(PolicyIndex.build(dual)).map((f) => [f.family, f.publicAddress]),
    );
    assert.deepEqual(byFamily, { 4: "54.1.1.1", 6: "2600:1f18:1:1::10" });
  });
});

describe("a reference across a deleted peering", () => {
  const across = (status: string) => {
    const web = group("sg-web", [ALL_OUT()]);
    const db = group("sg-db", [ALL_OUT()]);
    const reference = {
      ...rule("ingress", "tcp", 5432, 5432, "sg-web"),
      peer: {
        kind: "group" as const,
        groupId: "sg-web",
        userId: "123456789012",
        vpcPeeringConnectionId: "pcx-1",
        peeringStatus: status,
      },
    };
    return estate({
      subnets: [subnet("subnet-a", "10.0.1.0/24")],
      securityGroups: [web, { ...db, rules: [...db.rules, { ...reference, groupId: "sg-db" }] }],
      networkInterfaces: [
        eni("eni-w", "subnet-a", ["10.0.1.10"], ["sg-web"]),
        eni("eni-d", "subnet-a", ["10.0.1.20"], ["sg-db"], { instanceId: "i-db" }),
      ],
    });
  };
  const verdict = (e: ReturnType<typeof across>) => {
    const index = PolicyIndex.build(e);
    return verdictsBetween(
      index,
      select(index, "eni-w"),
      select(index, "eni-d"),
      parseTraffic("tcp/5432", 4),
      4,
    )[0];
  };

  test("matches nothing, is stale to lint, and is no rule of the compiled table", () => {
    assert.equal(verdict(across("active"))?.allowed, true);
    const gone = across("deleted");
    assert.equal(verdict(gone)?.allowed, false);
    const stale = lintEstate(gone).filter((f) => f.check === "stale-reference");
    assert.equal(stale.length, 1);
    assert.match(stale[0]?.reason ?? "", /pcx-1, which is deleted/);
    const policy = hostPolicyFor(gone, "i-db");
    assert.deepEqual(
      policy?.interfaces[0]?.ingress.map((r) => r.fromPort),
      [],
    );
  });
});

describe("secondary private addresses", () => {
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24"), subnet("subnet-b", "10.0.2.0/24")],
    securityGroups: [
      group("sg-src", [rule("egress", "tcp", 22, 22, "10.0.2.20/32")]),
      group("sg-src2", [ALL_OUT()]),
      group("sg-dst", [rule("ingress", "tcp", 22, 22, "10.0.1.0/24")]),
      group("sg-dst2", [rule("ingress", "tcp", 22, 22, "10.0.1.11/32")]),
    ],
    networkInterfaces: [
      eni("eni-s", "subnet-a", ["10.0.1.10"], ["sg-src"]),
      eni("eni-s2", "subnet-a", ["10.0.1.12", "10.0.1.11"], ["sg-src2"]),
      eni("eni-d", "subnet-b", ["10.0.2.10", "10.0.2.20"], ["sg-dst"]),
      eni("eni-d2", "subnet-b", ["10.0.2.30"], ["sg-dst2"]),
    ],
  });
  const index = PolicyIndex.build(e);
  const ssh = { protocol: 6, port: 22 };
  const reachers = (selector: string) =>
    whoCanReach(index, select(index, selector), ssh, 4).flatMap((r) => r.interfaces.map((i) => i.eni.id));

  test("a rule naming a secondary address alone is found from either side", () => {
    // eni-s may only send to eni-d's secondary address; eni-d2 admits only eni-s2's secondary one
    assert.deepEqual(reachers("10.0.2.20").sort(), ["eni-s", "eni-s2"]);
    assert.deepEqual(reachers("10.0.2.10"), ["eni-s2"], "the primary is not what eni-s may reach");
    assert.deepEqual(reachers("eni-d2"), ["eni-s2"]);
    // and from the address that may: eni-s2's secondary, not its first
    const [d2] = whoCanReach(index, select(index, "eni-d2"), ssh, 4);
    assert.deepEqual(d2?.from.map(formatIp), ["10.0.1.11"]);
    const [from] = reachableFrom(index, select(index, "eni-s"), 4);
    assert.deepEqual(
      from?.destinations.map((d) => [d.destination.eni.id, d.services]),
      [["eni-d", ["tcp/22"]]],
    );
  });
});

describe("diff, precisely", () => {
  const pair = (ingress: ReturnType<typeof rule>, dbAddresses = ["10.0.2.10"]) =>
    estate({
      subnets: [
        subnet("subnet-a", "10.0.1.0/24", ["2600:1f18::/64"]),
        subnet("subnet-b", "10.0.2.0/24", ["2600:1f19::/64"]),
      ],
      securityGroups: [group("sg-web", [ALL_OUT()]), group("sg-db", [ingress, ALL_OUT()])],
      networkInterfaces: [
        eni("eni-web", "subnet-a", ["10.0.1.10", "2600:1f18::10"], ["sg-web"]),
        eni("eni-db", "subnet-b", dbAddresses, ["sg-db"]),
      ],
    });

  test("widening tcp/22 to all traffic opens everything but tcp/22, not 'all'", () => {
    const before = pair(rule("ingress", "tcp", 22, 22, "10.0.1.0/24"));
    const after = pair(rule("ingress", "-1", -1, -1, "10.0.1.0/24"));
    const d = diffEstates(PolicyIndex.build(before), PolicyIndex.build(after));
    assert.deepEqual(d.opened, [
      {
        source: "eni-web",
        destination: "eni-db",
        services: ["tcp/0-21", "tcp/23-65535", "udp/all", "icmp/all", "other protocols"],
      },
    ]);
    const fromNothing = diffEstates(
      PolicyIndex.build(pair(rule("ingress", "tcp", 22, 22, "192.0.2.0/24"))),
      PolicyIndex.build(after),
    );
    assert.deepEqual(fromNothing.opened[0]?.services, ["all"]);
  });

  test("an interface that gains its first address of the family is added to that family's diff", () => {
    const ssh = rule("ingress", "tcp", 22, 22, "::/0");
    const d = diffEstates(
      PolicyIndex.build(pair(ssh, ["10.0.2.10"])),
      PolicyIndex.build(pair(ssh, ["10.0.2.10", "2600:1f19::10"])),
      6,
    );
    assert.deepEqual(d.interfacesAdded, ["eni-db"]);
    const back = diffEstates(
      PolicyIndex.build(pair(ssh, ["10.0.2.10", "2600:1f19::10"])),
      PolicyIndex.build(pair(ssh, ["10.0.2.10"])),
      6,
    );
    assert.deepEqual(back.interfacesRemoved, ["eni-db"]);
    assert.deepEqual(
      diffEstates(PolicyIndex.build(pair(ssh)), PolicyIndex.build(pair(ssh)), 4).interfacesAdded,
      [],
    );
  });
});

describe("a dump of groups and interfaces alone (no VPCs, no subnets)", () => {
  // sg-b admits tcp/3306 from sg-a only; both interfaces have global IPv6 addresses, which no VPC
  // CIDR of the dump covers
  const partial = estate({
    vpcs: [],
    securityGroups: [
      group("sg-a", [ALL_OUT(), rule("egress", "-1", -1, -1, "::/0")]),
      group("sg-b", [rule("ingress", "tcp", 3306, 3306, "sg-a")]),
    ],
    networkInterfaces: [
      eni("eni-a", "subnet-a", ["10.0.1.10", "2600:1f18:1:1::10"], ["sg-a"]),
      eni("eni-b", "subnet-b", ["10.0.2.10", "2600:1f18:1:2::10"], ["sg-b"]),
    ],
  });
  const index = PolicyIndex.build(partial);
  const mysql = parseTraffic("tcp/3306", 6);

  test("an interface's own address is never the internet", () => {
    const internet = select(index, "internet");
    assert.equal(internet.kind, "external");
    if (internet.kind !== "external") return;
    assert.ok(!internet.space[6].has(parseIp("2600:1f18:1:1::10")?.value ?? 0n), "eni-a's address");
    const verdicts = verdictsBetween(index, internet, select(index, "eni-b"), mysql, 6);
    assert.ok(verdicts.length > 0);
    assert.ok(
      verdicts.every((v) => !v.allowed),
      "a group reference admits members, not the internet",
    );
    const [b] = whoCanReach(index, select(index, "eni-b"), mysql, 6);
    assert.deepEqual(
      b?.interfaces.map((i) => i.eni.id),
      ["eni-a"],
    );
    assert.ok(b?.external.isEmpty);
  });
});

describe("a group that interfaces carry but the dump leaves out", () => {
  const index = PolicyIndex.build(
    estate({
      subnets: [subnet("subnet-a", "10.0.1.0/24")],
      securityGroups: [group("sg-b", [rule("ingress", "tcp", 80, 80, "sg-zzz")])],
      networkInterfaces: [
        eni("eni-a", "subnet-a", ["10.0.1.10"], ["sg-zzz"]),
        eni("eni-b", "subnet-a", ["10.0.1.20"], ["sg-b"]),
      ],
    }),
  );

  test("a denial at it says that its rules are unknown", () => {
    const verdict = evaluateFlow(index, {
      source: { kind: "interface", interfaceId: "eni-a" },
      destination: { kind: "interface", interfaceId: "eni-b" },
      traffic: parseTraffic("tcp/80", 4),
    });
    assert.equal(verdict.allowed, false);
    assert.match(
      renderVerdict(verdict),
      /source egress: DENIED, no rule of sg-zzz matches \(sg-zzz is not in the snapshot: rules unknown\)/,
    );
    assert.match(renderVerdict(verdict), /destination ingress: allowed by sg-b/);
  });
});
