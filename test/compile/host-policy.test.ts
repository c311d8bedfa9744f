import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostPolicyFor } from "../../src/compile/host-policy.js";
import { PolicyIndex } from "../../src/policy/policy-index.js";
import { eni, estate, group, prefixList, rule } from "./estate-builder.js";

const sample = () =>
  estate(
    [
      group("sg-web", [
        rule("sgr-b", "sg-web", "ingress", "tcp", 443, 443, "pl-office"),
        rule("sgr-a", "sg-web", "ingress", "tcp", 22, 22, "sg-admin"),
        rule("sgr-c", "sg-web", "egress", "-1", -1, -1, "0.0.0.0/0"),
        rule("sgr-d", "sg-web", "ingress", "17", 53, 53, "10.1.2.3/8"),
      ]),
      group("sg-db", [rule("sgr-e", "sg-db", "ingress", "tcp", 5432, 5432, "sg-web")]),
      group("sg-admin", []),
    ],
    [
      eni("eni-2", ["sg-db"], ["10.0.0.20"], [], "i-db"),
      eni("eni-1", ["sg-web", "sg-db"], ["10.0.0.11", "10.0.0.10"], ["fd00::10"], "i-web"),
      eni("eni-3", ["sg-admin"], ["10.0.9.1", "10.0.9.2"], ["fd00::9"], "i-bastion"),
      eni("eni-4", ["sg-admin"], ["10.0.9.3"], [], "i-other"),
    ],
    [prefixList("pl-office", "IPv4", ["192.0.2.0/25", "192.0.2.128/25", "198.51.100.7/32"])],
  );

describe("hostPolicyFor", () => {
  it("collects the interface, its groups' rules and what the rules refer to", () => {
    const policy = hostPolicyFor(sample(), "i-web");
    assert.ok(policy);
    assert.equal(policy.instanceId, "i-web");
    assert.equal(policy.interfaces.length, 1);
    const iface = policy.interfaces[0];
    assert.ok(iface);
    assert.equal(iface.id, "eni-1");
    // primary address first, as the estate lists them
    assert.deepEqual(iface.ipv4, ["10.0.0.11", "10.0.0.10"]);
    assert.deepEqual(iface.ipv6, ["fd00::10"]);
    assert.deepEqual(iface.groupIds, ["sg-db", "sg-web"]);
    // the union of both groups' ingress rules, by rule id; the protocol as a number, ports kept
    assert.deepEqual(
      iface.ingress.map((r) => [r.id, r.protocol, r.fromPort, r.toPort]),
      [
        ["sgr-a", 6, 22, 22],
        ["sgr-b", 6, 443, 443],
        ["sgr-d", 17, 53, 53],
        ["sgr-e", 6, 5432, 5432],
      ],
    );
    assert.deepEqual(
      iface.egress.map((r) => r.id),
      ["sgr-c"],
    );
    // a CIDR with host bits is canonical in the policy
    assert.deepEqual(iface.ingress.find((r) => r.id === "sgr-d")?.peer, { kind: "cidr", cidr: "10.0.0.0/8" });
    // members of referenced groups: private addresses of every interface carrying them
    assert.deepEqual(
      policy.groups.map((g) => g.groupId),
      ["sg-admin", "sg-web"],
    );
    const admin = policy.groups.find((g) => g.groupId === "sg-admin");
    assert.deepEqual(admin?.ipv4, ["10.0.9.1-10.0.9.3"]);
    assert.deepEqual(admin?.ipv6, ["fd00::9"]);
    // the two /25 halves merge into one element
    assert.deepEqual(policy.prefixLists, [
      { prefixListId: "pl-office", ipv4: ["192.0.2.0/24", "198.51.100.7"], ipv6: [] },
    ]);
  });

  it("is deterministic and survives a JSON round trip", () => {
    const a = hostPolicyFor(sample(), "i-web");
    const reordered = sample();
    const b = hostPolicyFor(
      { ...reordered, networkInterfaces: [...reordered.networkInterfaces].reverse() },
      "i-web",
    );
    assert.deepEqual(a, b);
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  });

  it("gives an unknown instance no policy and an instance without interfaces an empty one", () => {
    const e = sample();
    assert.equal(hostPolicyFor(e, "i-nope"), undefined);
    const bare = {
      ...e,
      instances: [
        ...e.instances,
        { id: "i-bare", ownerId: "1", state: "running", interfaceIds: [], tags: {} },
      ],
    };
    assert.deepEqual(hostPolicyFor(bare, "i-bare"), {
      instanceId: "i-bare",
      interfaces: [],
      groups: [],
      prefixLists: [],
    });
  });

  it("keeps a rule to a group without members, with an empty member set (stale reference)", () => {
    const e = estate(
      [group("sg-a", [rule("sgr-1", "sg-a", "ingress", "tcp", 1, 2, "sg-gone")])],
      [eni("eni-1", ["sg-a"], ["10.0.0.1"], [], "i-1")],
    );
    const policy = hostPolicyFor(e, "i-1");
    assert.deepEqual(policy?.groups, [{ groupId: "sg-gone", ipv4: [], ipv6: [] }]);
    assert.equal(policy?.interfaces[0]?.ingress.length, 1);
  });
});

describe("unreadable protocols", () => {
  it("a stored rule whose protocol cannot be read matches nothing, in the compiler and the evaluator", () => {
    const e = estate(
      [
        group("sg-a", [
          rule("sgr-upper", "sg-a", "ingress", "TCP", 22, 22, "203.0.113.0/24"),
          rule("sgr-proto", "sg-a", "ingress", "constructor", -1, -1, "203.0.113.0/24"),
          rule("sgr-ok", "sg-a", "ingress", "tcp", 443, 443, "203.0.113.0/24"),
        ]),
      ],
      [eni("eni-1", ["sg-a"], ["10.0.0.1"], [], "i-1")],
    );
    const policy = hostPolicyFor(e, "i-1");
    assert.deepEqual(
      policy?.interfaces[0]?.ingress.map((r) => [r.id, r.protocol]),
      [["sgr-ok", 6]],
      "never widened to all protocols",
    );
    const evaluated = PolicyIndex.build(e).effectiveRules("eni-1", "ingress");
    assert.deepEqual([...new Set(evaluated.map((entry) => entry.ruleId))], ["sgr-ok"]);
  });
});

describe("setElements", () => {
  it("gives the same elements on the IPv4 number path as the bigint interval algebra", async () => {
    const { addressSpace, intervalElements, setElements } = await import(
      "../../src/compile/address-elements.js"
    );
    let seed = 99;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const texts: string[] = [];
      for (let k = 0; k < next(12); k++) {
        const a = `10.${next(3)}.${next(4)}.${next(256)}`;
        const form = next(4);
        texts.push(
          form === 0
            ? a
            : form === 1
              ? `${a}/${next(33)}`
              : form === 2
                ? `${a}-10.2.3.${next(256)}`
                : "not-an-address",
        );
      }
      const expected = intervalElements(addressSpace(texts, 4), 4);
      assert.deepEqual(setElements(texts, 4), expected, JSON.stringify(texts));
    }
    assert.deepEqual(setElements(["0.0.0.0/0"], 4), ["0.0.0.0/0"]);
    assert.deepEqual(setElements(["10.0.0.1", "10.0.0.2", "10.0.0.0"], 4), ["10.0.0.0-10.0.0.2"]);
    assert.deepEqual(setElements(["10.0.0.2", "10.0.0.3"], 4), ["10.0.0.2/31"]);
    assert.deepEqual(setElements(["010.0.0.1", "10.0.0.256", "10.0.0.0/33"], 4), []);
  });
});
