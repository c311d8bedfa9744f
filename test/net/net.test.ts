import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatIp, formatIpv6, parseIp, parseIpv4, parseIpv6 } from "../../src/net/address.js";
import {
  canonicalCidr,
  cidrContains,
  cidrCovers,
  cidrSize,
  parseCidr4,
  parseCidr6,
} from "../../src/net/cidr.js";
import { IntervalSet } from "../../src/net/interval-set.js";
import { normaliseRuleProtocol, protocolHasPorts, protocolNumber } from "../../src/net/protocol.js";

describe("addresses", () => {
  test("IPv4 parses only dotted quads of 0-255 without leading zeros", () => {
    assert.equal(parseIpv4("10.1.2.3"), (10n << 24n) | (1n << 16n) | (2n << 8n) | 3n);
    for (const bad of ["10.1.2", "10.1.2.256", "010.1.2.3", "1.2.3.4.5", " 1.2.3.4", "a.b.c.d", ""]) {
      assert.equal(parseIpv4(bad), undefined, bad);
    }
  });

  test("IPv6 parses every RFC 4291 text form and prints RFC 5952 form", () => {
    assert.equal(parseIpv6("::"), 0n);
    assert.equal(parseIpv6("::1"), 1n);
    assert.equal(parseIpv6("2001:DB8::1"), (0x2001n << 112n) | (0xdb8n << 96n) | 1n);
    assert.equal(parseIpv6("::ffff:192.0.2.1"), (0xffffn << 32n) | (192n << 24n) | (2n << 8n) | 1n);
    for (const bad of ["1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "::g", "1.2.3.4::"]) {
      assert.equal(parseIpv6(bad), undefined, bad);
    }
    // RFC 5952: lower case, the longest zero run compressed, a single zero group left alone.
    assert.equal(
      formatIpv6(parseIpv6("2001:0DB8:0000:0000:0001:0000:0000:0001") as bigint),
      "2001:db8::1:0:0:1",
    );
    assert.equal(formatIpv6(parseIpv6("2001:db8:0:1:1:1:1:1") as bigint), "2001:db8:0:1:1:1:1:1");
    assert.equal(formatIpv6(0n), "::");
    assert.equal(formatIp(parseIp("fe80::") as NonNullable<ReturnType<typeof parseIp>>), "fe80::");
  });
});

describe("CIDRs", () => {
  test("host bits are cleared and reported", () => {
    const parsed = parseCidr4("100.68.0.18/18");
    assert.equal(parsed?.wasCanonical, false);
    assert.equal(canonicalCidr("100.68.0.18/18"), "100.68.0.0/18");
    assert.equal(canonicalCidr("2001:DB8::1/64"), "2001:db8::/64");
    assert.equal(canonicalCidr("10.0.0.0/33"), undefined);
    assert.equal(canonicalCidr("10.0.0.0"), undefined);
    assert.equal(canonicalCidr("::/0", 4), undefined);
  });

  test("a prefix is one to three ASCII digits, within the family's bits", () => {
    assert.equal(parseCidr4("10.0.0.0/08")?.cidr.prefix, 8);
    assert.equal(parseCidr4("10.0.0.0/008")?.cidr.prefix, 8);
    assert.equal(parseCidr4("0.0.0.0/0")?.cidr.prefix, 0);
    assert.equal(parseCidr6("::/128")?.cidr.prefix, 128);
    for (const bad of ["/+8", "/0008", "/ 8", "/8 ", "/", "/1e1", "/33", "/8/8", "/\u0668", "/-1"]) {
      assert.equal(parseCidr4(`10.0.0.0${bad}`), undefined, bad);
    }
    assert.equal(parseCidr6("::/129"), undefined);
    assert.equal(parseCidr4("10.0.0.0/32")?.cidr.base, 10n << 24n);
    assert.equal(parseCidr4("10.255.0.0/9")?.cidr.base, (10n << 24n) | (128n << 16n));
  });

  test("containment and coverage", () => {
    const net = parseCidr4("10.1.0.0/16")?.cidr as NonNullable<ReturnType<typeof parseCidr4>>["cidr"];
    assert.ok(cidrContains(net, parseIp("10.1.255.255") as NonNullable<ReturnType<typeof parseIp>>));
    assert.ok(!cidrContains(net, parseIp("10.2.0.0") as NonNullable<ReturnType<typeof parseIp>>));
    assert.ok(
      !cidrContains(net, parseIp("::a01:0") as NonNullable<ReturnType<typeof parseIp>>),
      "families never mix",
    );
    assert.ok(cidrCovers(net, parseCidr4("10.1.2.0/24")?.cidr as typeof net));
    assert.ok(!cidrCovers(parseCidr4("10.1.2.0/24")?.cidr as typeof net, net));
    assert.equal(cidrSize(parseCidr6("2001:db8::/64")?.cidr as typeof net), 1n << 64n);
  });
});

describe("interval sets", () => {
  const set = (...pairs: [number, number][]) =>
    IntervalSet.of(pairs.map(([lo, hi]) => ({ lo: BigInt(lo), hi: BigInt(hi) })));

  test("normalises overlapping and adjacent intervals", () => {
    assert.deepEqual(set([5, 9], [1, 3], [4, 4], [20, 30], [25, 26]).intervals, [
      { lo: 1n, hi: 9n },
      { lo: 20n, hi: 30n },
    ]);
  });

  test("union, intersection, difference and coverage agree with brute force", () => {
    const a = set([0, 10], [20, 30], [50, 50]);
    const b = set([5, 25], [40, 60]);
    const members = (s: IntervalSet) =>
      Array.from({ length: 70 }, (_, i) => i).filter((i) => s.has(BigInt(i)));
    const inA = new Set(members(a));
    const inB = new Set(members(b));
    assert.deepEqual(
      members(a.union(b)),
      [...new Set([...inA, ...inB])].sort((x, y) => x - y),
    );
    assert.deepEqual(
      members(a.intersect(b)),
      [...inA].filter((x) => inB.has(x)),
    );
    assert.deepEqual(
      members(a.subtract(b)),
      [...inA].filter((x) => !inB.has(x)),
    );
    assert.ok(a.union(b).covers(a));
    assert.ok(!a.covers(b));
    assert.equal(set([0, 9]).size(), 10n);
  });
});

describe("protocols", () => {
  test("EC2's normalisation: numbers of named protocols become names, `all` is refused", () => {
    assert.equal(normaliseRuleProtocol("6"), "tcp");
    assert.equal(normaliseRuleProtocol("TCP"), "tcp");
    assert.equal(normaliseRuleProtocol("58"), "icmpv6");
    assert.equal(normaliseRuleProtocol("-1"), "-1");
    assert.equal(normaliseRuleProtocol("50"), "50");
    assert.equal(normaliseRuleProtocol("all"), undefined);
    assert.equal(normaliseRuleProtocol("256"), undefined);
    assert.equal(normaliseRuleProtocol("gre"), undefined);
    // words every JavaScript object answers to are no protocols
    for (const word of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
      assert.equal(normaliseRuleProtocol(word), undefined, word);
      assert.ok(Number.isNaN(protocolNumber(word)), word);
    }
    assert.ok(Number.isNaN(protocolNumber("")) && Number.isNaN(protocolNumber("TCP")));
    assert.equal(protocolNumber("icmpv6"), 58);
    assert.equal(protocolNumber("-1"), -1);
    assert.ok(
      protocolHasPorts("udp") &&
        protocolHasPorts("icmp") &&
        !protocolHasPorts("50") &&
        !protocolHasPorts("-1"),
    );
  });
});
