import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type HostPolicy, hostPolicyFor, hostPolicyFromIndex } from "../../src/compile/host-policy.js";
import { fullScript } from "../../src/compile/nft-script.js";
import { compileHostPolicy, lockdownTable, untrackedFlows } from "../../src/compile/nftables.js";
import { evaluatePacket, type Packet } from "../../src/compile/table-interpreter.js";
import { PolicyIndex } from "../../src/policy/policy-index.js";
import { eni, estate, group, prefixList, rule } from "./estate-builder.js";

const WEB = "10.0.0.5";
const web = estate(
  [
    group("sg-web", [
      rule("sgr-http", "sg-web", "ingress", "tcp", 80, 80, "0.0.0.0/0"),
      rule("sgr-ssh", "sg-web", "ingress", "tcp", 22, 22, "sg-admin"),
      rule("sgr-ping", "sg-web", "ingress", "icmp", 8, -1, "10.0.0.0/8"),
      rule("sgr-dns", "sg-web", "ingress", "udp", 5000, 5010, "pl-office"),
      rule("sgr-gre", "sg-web", "ingress", "47", -1, -1, "192.0.2.1/32"),
      rule("sgr-ping6", "sg-web", "ingress", "icmpv6", 128, 0, "::/0"),
      rule("sgr-out", "sg-web", "egress", "-1", -1, -1, "0.0.0.0/0"),
      rule("sgr-out6", "sg-web", "egress", "tcp", 443, 443, "::/0"),
    ]),
    group("sg-admin", []),
  ],
  [
    eni("eni-web", ["sg-web"], [WEB], ["fd00::5"], "i-web"),
    eni("eni-adm", ["sg-admin"], ["10.0.9.9"], ["fd00::9"], "i-adm"),
  ],
  [prefixList("pl-office", "IPv4", ["198.51.100.0/24"])],
);

function table() {
  const policy = hostPolicyFor(web, "i-web");
  assert.ok(policy);
  return compileHostPolicy(policy);
}

const tcpIn = (source: string, port: number, destination = WEB): Packet => ({
  direction: "in",
  family: source.includes(":") ? 6 : 4,
  source,
  destination,
  protocol: 6,
  sourcePort: 40000,
  destinationPort: port,
});

describe("compileHostPolicy, run by the table interpreter", () => {
  it("accepts what an ingress rule allows and nothing else", () => {
    const t = table();
    assert.equal(evaluatePacket(t, tcpIn("203.0.113.7", 80)).accepted, true);
    assert.equal(evaluatePacket(t, tcpIn("203.0.113.7", 81)).accepted, false);
    assert.equal(evaluatePacket(t, tcpIn("10.0.9.9", 22)).accepted, true, "member of sg-admin");
    assert.equal(
      evaluatePacket(t, tcpIn("fd00::9", 22, "fd00::5")).accepted,
      true,
      "IPv6 address of a member",
    );
    assert.equal(evaluatePacket(t, tcpIn("10.0.9.10", 22)).accepted, false, "not a member");
    assert.equal(evaluatePacket(t, tcpIn("10.0.9.9", 80, "10.0.0.6")).accepted, false, "not our address");
    assert.equal(evaluatePacket(t, tcpIn("10.0.9.9", 22)).decidedBy, "sgr-ssh");
  });

  it("matches ICMP by type, other protocols by number, UDP by range and prefix lists by entry", () => {
    const t = table();
    const icmp = (type: number, code: number, source = "10.1.1.1"): Packet => ({
      direction: "in",
      family: 4,
      source,
      destination: WEB,
      protocol: 1,
      icmpType: type,
      icmpCode: code,
    });
    assert.equal(evaluatePacket(t, icmp(8, 0)).accepted, true);
    assert.equal(evaluatePacket(t, icmp(8, 3)).accepted, true, "code -1 is any code");
    assert.equal(evaluatePacket(t, icmp(13, 0)).accepted, false);
    assert.equal(evaluatePacket(t, icmp(8, 0, "11.0.0.1")).accepted, false);
    const v6 = (type: number, code: number): Packet => ({
      direction: "in",
      family: 6,
      source: "2001:db8::1",
      destination: "fd00::5",
      protocol: 58,
      icmpType: type,
      icmpCode: code,
    });
    assert.equal(evaluatePacket(t, v6(128, 0)).accepted, true);
    assert.equal(evaluatePacket(t, v6(128, 1)).accepted, false);
    assert.equal(evaluatePacket(t, v6(135, 0)).accepted, true, "neighbour solicitation always passes");
    const gre = (source: string): Packet => ({
      direction: "in",
      family: 4,
      source,
      destination: WEB,
      protocol: 47,
    });
    assert.equal(evaluatePacket(t, gre("192.0.2.1")).accepted, true);
    assert.equal(evaluatePacket(t, gre("192.0.2.2")).accepted, false);
    const udp = (port: number, source = "198.51.100.200"): Packet => ({
      direction: "in",
      family: 4,
      source,
      destination: WEB,
      protocol: 17,
      sourcePort: 53,
      destinationPort: port,
    });
    assert.equal(evaluatePacket(t, udp(5000)).accepted, true);
    assert.equal(evaluatePacket(t, udp(5010)).accepted, true);
    assert.equal(evaluatePacket(t, udp(5011)).accepted, false);
    assert.equal(evaluatePacket(t, udp(5005, "198.51.101.1")).accepted, false);
  });

  it("applies egress rules to what the host sends, and lets loopback through", () => {
    const t = table();
    const out = (destination: string, port: number, protocol = 6): Packet => ({
      direction: "out",
      family: destination.includes(":") ? 6 : 4,
      source: destination.includes(":") ? "fd00::5" : WEB,
      destination,
      protocol,
      sourcePort: 40000,
      destinationPort: port,
    });
    assert.equal(evaluatePacket(t, out("8.8.8.8", 53, 17)).accepted, true);
    assert.equal(evaluatePacket(t, out("2001:db8::1", 443)).accepted, true);
    assert.equal(evaluatePacket(t, out("2001:db8::1", 80)).accepted, false);
    assert.equal(
      evaluatePacket(t, { ...tcpIn("127.0.0.1", 9999, "127.0.0.1"), loopback: true }).accepted,
      true,
    );
  });

  it("marks flows untracked exactly where spec 3.11 says", () => {
    const t = table();
    // tcp/80 from 0.0.0.0/0 with all traffic out to 0.0.0.0/0: untracked
    assert.equal(evaluatePacket(t, tcpIn("203.0.113.7", 80)).untracked, true);
    // tcp/22 from a group: tracked
    assert.equal(evaluatePacket(t, tcpIn("10.0.9.9", 22)).untracked, false);
    // ICMP is always tracked
    const ping: Packet = {
      direction: "in",
      family: 4,
      source: "10.1.1.1",
      destination: WEB,
      protocol: 1,
      icmpType: 8,
      icmpCode: 0,
    };
    assert.equal(evaluatePacket(t, ping).untracked, false);
    // a connection the host opens from port 80 is its own outbound flow, tracked: the ingress rule
    // for port 80 says nothing about it
    const fromPort80: Packet = {
      direction: "out",
      family: 4,
      source: WEB,
      destination: "203.0.113.7",
      protocol: 6,
      sourcePort: 80,
      destinationPort: 40000,
    };
    assert.equal(evaluatePacket(t, fromPort80).untracked, false);
    // IPv6: the egress rule is tcp/443 only, so nothing IPv6 is untracked
    const policy = hostPolicyFor(web, "i-web");
    assert.ok(policy);
    const flows = untrackedFlows(policy.interfaces[0] as never);
    assert.deepEqual(
      flows.map((f) => [f.rule.id, f.direction, f.family, f.protocol, f.fromPort, f.toPort]),
      [["sgr-http", "ingress", 4, "tcp", 80, 80]],
    );
  });

  it("dispatches many port rules by a verdict map, with the answer of the rules themselves", () => {
    // Overlapping, nested, adjacent and single-port ranges, from different sources.
    const ranges: [number, number, string][] = [
      [1000, 2000, "10.1.0.0/16"],
      [1500, 1500, "10.2.0.0/16"],
      [1800, 2500, "10.3.0.0/16"],
      [2001, 2001, "10.1.0.0/16"],
      [3000, 3010, "10.4.0.0/16"],
      [3011, 3020, "10.4.0.0/16"],
      [0, 65535, "10.9.0.0/16"],
    ];
    const rules = ranges.map(([from, to, cidr], i) =>
      rule(`sgr-r${i}`, "sg-many", "ingress", "tcp", from, to, cidr),
    );
    const many = estate([group("sg-many", rules)], [eni("eni-many", ["sg-many"], [WEB], [], "i-many")]);
    const policy = hostPolicyFor(many, "i-many");
    assert.ok(policy);
    const t = compileHostPolicy(policy);
    assert.match(
      fullScript(t),
      /add rule inet ringfence gin_sg-many_tcp tcp dport vmap \{ 1000-1499 : jump gin_sg-many_tcp_1000, 1500 : jump gin_sg-many_tcp_1500, /,
    );
    // the rule open on every port is not copied into the port chains
    assert.ok(
      t.chains
        .filter((c) => c.name.startsWith("gin_sg-many_tcp_"))
        .every((c) => c.rules.every((r) => r.comment !== "sgr-r6")),
    );
    const ports = new Set([0, 1, 65535, 2600, 4000]);
    for (const [from, to] of ranges)
      for (const p of [from - 1, from, from + 1, to - 1, to, to + 1]) ports.add(p);
    for (const port of [...ports].filter((p) => p >= 0 && p <= 65535)) {
      for (const second of [1, 2, 3, 4, 9, 5]) {
        const source = `10.${second}.7.7`;
        const expected = ranges.some(
          ([from, to, cidr]) => from <= port && port <= to && cidr === `10.${second}.0.0/16`,
        );
        assert.equal(evaluatePacket(t, tcpIn(source, port)).accepted, expected, `${source} -> ${port}`);
      }
    }
  });

  it("with no policy, the lockdown table drops every new flow", () => {
    const t = lockdownTable();
    assert.equal(evaluatePacket(t, tcpIn("10.0.9.9", 22)).accepted, false);
    assert.equal(
      evaluatePacket(t, { ...tcpIn("127.0.0.1", 22, "127.0.0.1"), loopback: true }).accepted,
      true,
    );
    const withChannel = lockdownTable({ controlChannel: { addresses: ["192.0.2.50"], port: 8443 } });
    const toController: Packet = {
      direction: "out",
      family: 4,
      source: WEB,
      destination: "192.0.2.50",
      protocol: 6,
      sourcePort: 4000,
      destinationPort: 8443,
    };
    assert.equal(evaluatePacket(withChannel, toController).accepted, true);
    assert.equal(evaluatePacket(withChannel, { ...toController, destinationPort: 8444 }).accepted, false);
  });
});

describe("the nft script", () => {
  it("names group sets, tags a counter with every rule id and uses set lookups", () => {
    const script = fullScript(table());
    assert.match(
      script,
      /^add table inet ringfence\ndelete table inet ringfence\nadd table inet ringfence\n/,
    );
    assert.match(script, /add set inet ringfence g_sg-admin_v4 \{ type ipv4_addr; flags interval; \}/);
    assert.match(script, /add element inet ringfence g_sg-admin_v4 \{ 10\.0\.9\.9 \}/);
    assert.match(script, /add element inet ringfence g_sg-admin_v6 \{ fd00::9 \}/);
    assert.match(script, /tcp dport 22 ip saddr @g_sg-admin_v4 counter accept comment "sgr-ssh"/);
    assert.match(
      script,
      /chain inet ringfence input \{ type filter hook input priority filter; policy drop; \}/,
    );
    assert.match(
      script,
      /in_eni-web meta nfproto ipv4 tcp dport 80 counter ct mark set ct mark \| 0x01000000 comment "sgr-http"/,
    );
    // IPv6 egress is tcp/443 only, so a connection marked untracked for IPv6 is tracked now
    assert.match(script, /in_eni-web ct mark & 0x0c000000 != 0 counter accept comment "tracked-now"/);
    assert.match(script, /input ct state established,related ct mark & 0x0f000000 == 0 counter accept/);
    assert.match(script, /output ct state established,related ct mark & 0xf0000000 == 0 counter accept/);
    assert.doesNotMatch(script, /notrack|raw_/);
    assert.match(script, /ct state invalid meta l4proto != \{ 1, 58 \} counter drop/);
    assert.match(script, /ct state new tcp flags & \(fin \| syn \| rst \| ack\) != syn counter drop/);
    for (const id of [
      "sgr-http",
      "sgr-ssh",
      "sgr-ping",
      "sgr-dns",
      "sgr-gre",
      "sgr-ping6",
      "sgr-out",
      "sgr-out6",
    ]) {
      assert.match(script, new RegExp(`counter accept comment "${id}"`), id);
    }
    // every rule named after a security-group rule counts, the untracked marks included
    const tagged = script.split("\n").filter((line) => /comment "sgr-/.test(line));
    assert.ok(tagged.length > 8);
    for (const line of tagged) assert.match(line, / counter /, line);
    assert.doesNotMatch(script, /hook forward/);
  });

  it("keeps comments to what nft accepts", () => {
    const policy = hostPolicyFor(web, "i-web");
    assert.ok(policy);
    const odd = {
      ...policy,
      interfaces: policy.interfaces.map((i) => ({
        ...i,
        ingress: i.ingress.map((r) => ({ ...r, id: `imported "rule" ${"x".repeat(200)}` })),
      })),
    };
    const script = fullScript(compileHostPolicy(odd));
    const comments = [...script.matchAll(/comment "([^"]*)"/g)].map((m) => m[1] ?? "");
    assert.ok(comments.some((c) => c.startsWith("imported__rule__x")));
    assert.ok(comments.every((c) => c.length <= 128 && !c.includes('"')));
  });

  it("is the same text for the same state", () => {
    assert.equal(fullScript(table()), fullScript(table()));
  });
});

describe("group chains shared across hosts", () => {
  const shared = estate(
    [
      group("sg-app", [
        rule("sgr-a1", "sg-app", "ingress", "tcp", 8080, 8080, "10.1.0.0/16"),
        rule("sgr-a2", "sg-app", "ingress", "tcp", 9090, 9090, "sg-app"),
        rule("sgr-a3", "sg-app", "egress", "-1", -1, -1, "0.0.0.0/0"),
      ]),
    ],
    [eni("eni-a", ["sg-app"], ["10.1.0.1"], [], "i-a"), eni("eni-b", ["sg-app"], ["10.1.0.2"], [], "i-b")],
  );
  const chain = (t: ReturnType<typeof compileHostPolicy>, name: string) => {
    const found = t.chains.find((c) => c.name === name);
    assert.ok(found, name);
    return found;
  };
  const policyOf = (e: typeof shared, instance: string) => {
    const policy = hostPolicyFromIndex(PolicyIndex.build(e), instance);
    assert.ok(policy);
    return policy;
  };

  it("hosts of one index get the same chain objects for a group, with their own sets and maps", () => {
    const index = PolicyIndex.build(shared);
    const a = compileHostPolicy(hostPolicyFromIndex(index, "i-a") as HostPolicy);
    const b = compileHostPolicy(hostPolicyFromIndex(index, "i-b") as HostPolicy);
    assert.equal(chain(a, "gin_sg-app_tcp"), chain(b, "gin_sg-app_tcp"));
    // the group's member set is each host's own, built from its policy
    const members = (t: typeof a) => t.sets.find((x) => x.name === "g_sg-app_v4")?.elements;
    assert.deepEqual(members(a), ["10.1.0.1-10.1.0.2"]);
    assert.deepEqual(members(b), ["10.1.0.1-10.1.0.2"]);
    assert.notEqual(chain(a, "in_eni-a"), undefined);
    assert.equal(
      b.chains.some((c) => c.name === "in_eni-a"),
      false,
    );
    assert.deepEqual(b.maps.find((m) => m.name === "in_v4")?.entries, [
      { address: "10.1.0.2", chain: "in_eni-b" },
    ]);
  });

  it("a policy from the wire builds chains of its own, with the same text", () => {
    const policy = policyOf(shared, "i-a");
    const fromWire = JSON.parse(JSON.stringify(policy)) as HostPolicy;
    const here = compileHostPolicy(policy);
    const there = compileHostPolicy(fromWire);
    assert.notEqual(chain(here, "gin_sg-app_tcp"), chain(there, "gin_sg-app_tcp"));
    assert.equal(fullScript(here), fullScript(there));
  });

  it("a rule changed at the next revision is compiled anew, not served from the last revision's chains", () => {
    const before = fullScript(compileHostPolicy(policyOf(shared, "i-a")));
    const next: typeof shared = {
      ...shared,
      securityGroups: shared.securityGroups.map((g) => ({
        ...g,
        rules: g.rules.map((r) => (r.id === "sgr-a1" ? { ...r, fromPort: 8443, toPort: 8443 } : r)),
      })),
    };
    const after = fullScript(compileHostPolicy(policyOf(next, "i-a")));
    assert.match(before, /tcp dport 8080 .*sgr-a1/);
    assert.match(after, /tcp dport 8443 .*sgr-a1/);
    assert.doesNotMatch(after, /8080/);
  });

  it("the same rule objects in a shorter list are not taken for the whole group", () => {
    const policy = policyOf(shared, "i-a");
    const iface = policy.interfaces[0] as HostPolicy["interfaces"][number];
    const full = compileHostPolicy(policy);
    assert.match(fullScript(full), /sgr-a2/);
    // the group's first rule, without the one after it
    const fewer: HostPolicy = {
      ...policy,
      interfaces: [{ ...iface, ingress: iface.ingress.filter((r) => r.id !== "sgr-a2") }],
    };
    const script = fullScript(compileHostPolicy(fewer));
    assert.match(script, /sgr-a1/);
    assert.doesNotMatch(script, /sgr-a2/);
  });
});
