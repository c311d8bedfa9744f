import assert from "node:assert/strict";
import { test } from "node:test";
import { generateEstate } from "../../bench/analysis-estate.js";
import { isAllowedBetween } from "../../src/policy/evaluate.js";
import { computeMatrix, groupMatrix } from "../../src/policy/matrix.js";
import { PolicyIndex, type Traffic } from "../../src/policy/policy-index.js";
import { sideOf } from "../../src/policy/reachability.js";
import { ALL_OUT, eni, estate, group, rule, subnet } from "./estate-builder.js";

const TRAFFIC: Traffic[] = [
  { protocol: 6, port: 22 },
  { protocol: 6, port: 443 },
  { protocol: 6, port: 5432 },
  { protocol: 17, port: 53 },
  { protocol: 1, icmpType: 8, icmpCode: 0 },
  { protocol: -1 },
];

test("a type of ICMP without a code is refused: some code of it is not one bitset per class", () => {
  const index = PolicyIndex.build(generateEstate({ interfaces: 10, seed: 1, groupRatio: 0.5 }));
  assert.throws(
    () => computeMatrix(index, [{ protocol: 1, icmpType: 8 }], 4),
    /expand type 8 into index\.trafficCases/,
  );
});

// The class-based matrix must give, cell by cell, the evaluator's own answer.
for (const seed of [1, 2, 3]) {
  test(`matrix agrees with the evaluator on every pair (generated estate, seed ${seed})`, () => {
    const index = PolicyIndex.build(generateEstate({ interfaces: 160, seed, groupRatio: 0.15 }));
    const m = computeMatrix(index, TRAFFIC, 4);
    assert.equal(m.interfaces.length, 160);
    assert.ok(m.classes.length < 160, "classes group interfaces with the same policy");
    // the lean variant (no per-cell bitsets kept, memory released early) counts the same pairs
    const lean = computeMatrix(index, TRAFFIC, 4, { expand: false, classPairs: false });
    assert.deepEqual(lean.totalAllowed, m.totalAllowed);
    for (let t = 0; t < TRAFFIC.length; t++) {
      let total = 0;
      let mismatches = 0;
      for (let s = 0; s < m.interfaces.length; s++) {
        const a = sideOf(m.interfaces[s] as never, 4);
        for (let d = 0; d < m.interfaces.length; d++) {
          if (s === d) continue;
          const b = sideOf(m.interfaces[d] as never, 4);
          const expected = isAllowedBetween(index, a as never, b as never, TRAFFIC[t] as Traffic);
          if (expected) total++;
          if (m.allowed(t, s, d) !== expected) mismatches++;
        }
      }
      assert.equal(mismatches, 0, `traffic ${t}`);
      assert.equal(m.totalAllowed[t], total, `traffic ${t}`);
    }
  });
}

test("IPv6 matrix agrees with the evaluator (interfaces with IPv6 addresses only)", () => {
  const index = PolicyIndex.build(generateEstate({ interfaces: 300, seed: 5, groupRatio: 0.15 }));
  const traffic: Traffic[] = [
    { protocol: 6, port: 443 },
    { protocol: 58, icmpType: 128, icmpCode: 0 },
    { protocol: -1 },
  ];
  const m = computeMatrix(index, traffic, 6);
  const withV6 = [...index.interfaces.values()].filter((i) => i.addresses.some((a) => a.family === 6));
  assert.equal(m.interfaces.length, withV6.length);
  assert.ok(withV6.length > 20 && withV6.length < 300);
  for (let t = 0; t < traffic.length; t++) {
    let total = 0;
    for (let s = 0; s < m.interfaces.length; s++) {
      for (let d = 0; d < m.interfaces.length; d++) {
        if (s === d) continue;
        const expected = isAllowedBetween(
          index,
          sideOf(m.interfaces[s] as never, 6) as never,
          sideOf(m.interfaces[d] as never, 6) as never,
          traffic[t] as Traffic,
        );
        if (expected) total++;
        assert.equal(m.allowed(t, s, d), expected);
      }
    }
    assert.equal(m.totalAllowed[t], total);
    assert.ok(total > 0, `some IPv6 flows are allowed for traffic ${t}`);
  }
});

test("matrix of a small hand-built estate: counts worked out by hand", () => {
  // web (2 interfaces) may reach db on 5432; db reaches nobody (no egress); web members reach each other on 443.
  const e = estate({
    subnets: [subnet("subnet-a", "10.0.1.0/24"), subnet("subnet-b", "10.0.2.0/24")],
    securityGroups: [
      group("sg-web", [rule("ingress", "tcp", 443, 443, "sg-web"), ALL_OUT()]),
      group("sg-db", [rule("ingress", "tcp", 5432, 5432, "sg-web")]),
    ],
    networkInterfaces: [
      eni("eni-w1", "subnet-a", ["10.0.1.1"], ["sg-web"]),
      eni("eni-w2", "subnet-a", ["10.0.1.2"], ["sg-web"]),
      eni("eni-d1", "subnet-b", ["10.0.2.1"], ["sg-db"]),
    ],
  });
  const index = PolicyIndex.build(e);
  const m = computeMatrix(
    index,
    [
      { protocol: 6, port: 5432 },
      { protocol: 6, port: 443 },
    ],
    4,
  );
  assert.equal(m.classes.length, 2);
  // 5432: w1->d1, w2->d1
  assert.equal(m.totalAllowed[0], 2);
  // 443: w1->w2, w2->w1 (self pairs excluded)
  assert.equal(m.totalAllowed[1], 2);
  assert.equal(m.allowed(0, m.positionOf("eni-w1"), m.positionOf("eni-d1")), true);
  assert.equal(m.allowed(0, m.positionOf("eni-d1"), m.positionOf("eni-w1")), false);
  const g = groupMatrix(m, 0);
  assert.deepEqual(g.cell("sg-web", "sg-db"), { allowed: 2, pairs: 2 });
  assert.deepEqual(g.cell("sg-web", "sg-web"), { allowed: 0, pairs: 2 });
  const noExpand = computeMatrix(index, [{ protocol: 6, port: 5432 }], 4, { expand: false });
  assert.equal(noExpand.totalAllowed[0], 2);
  assert.throws(() => noExpand.allowed(0, 0, 1), /expand/);
});
