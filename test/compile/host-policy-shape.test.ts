import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostPolicyFor } from "../../src/compile/host-policy.js";
import { hostPolicyProblem } from "../../src/compile/host-policy-shape.js";
import { webPolicy } from "../agent/policies.js";
import { mutate, Random, randomEstate } from "./random-estate.js";

// biome-ignore lint/suspicious/noExplicitAny: the cases break the policy's type on purpose
type Loose = Record<string, any>;

/** webPolicy with one change made to a JSON copy of it. */
function changed(edit: (policy: Loose) => void): unknown {
  const copy = JSON.parse(JSON.stringify(webPolicy()));
  edit(copy);
  return copy;
}

describe("hostPolicyProblem", () => {
  it("accepts every policy the controller computes, connection-tracking timeouts included", () => {
    const r = new Random(20261201);
    let policies = 0;
    let timeouts = 0;
    for (let n = 0; n < 200; n++) {
      // mutated estates carry connection-tracking timeouts on some interfaces
      const estate = n % 2 === 0 ? randomEstate(r) : mutate(r, mutate(r, randomEstate(r)));
      for (const instance of estate.instances) {
        const policy = hostPolicyFor(estate, instance.id);
        assert.equal(hostPolicyProblem(JSON.parse(JSON.stringify(policy))), undefined);
        policies++;
        timeouts += policy?.interfaces.filter((i) => i.connectionTracking).length ?? 0;
      }
    }
    assert.ok(policies > 200);
    assert.ok(timeouts > 10, `${timeouts} interfaces with timeouts`);
    const tracked = changed((p) => {
      p.interfaces[0].connectionTracking = {
        tcpEstablishedTimeout: 432000,
        udpStreamTimeout: 180,
        udpTimeout: 30,
      };
    });
    assert.equal(hostPolicyProblem(tracked), undefined);
    assert.equal(
      hostPolicyProblem(changed((p) => p.groups[0].ipv4.push("10.1.0.0/16", "10.2.0.1-10.2.0.9"))),
      undefined,
    );
  });

  it("names what is wrong, and refuses anything that would not be an nft address or port", () => {
    const cases: [string, (p: Loose) => void, RegExp][] = [
      ["a fractional port", (p) => (p.interfaces[0].ingress[0].fromPort = 22.5), /ingress\[0\]\.fromPort/],
      ["a port beyond 65535", (p) => (p.interfaces[0].ingress[0].toPort = 65536), /toPort/],
      ["a protocol beyond 255", (p) => (p.interfaces[0].egress[0].protocol = 256), /egress\[0\]\.protocol/],
      [
        "nft syntax as an address",
        (p) => (p.interfaces[0].ipv4 = ["10.0.0.5 } ; flush ruleset"]),
        /ipv4\[0\]/,
      ],
      ["an IPv6 address among IPv4", (p) => (p.interfaces[0].ipv4 = ["fd00::1"]), /not an IPv4 address/],
      ["a member that is no element", (p) => (p.groups[0].ipv4 = ["10.0.0.0/33"]), /groups\[0\]\.ipv4\[0\]/],
      ["a CIDR peer that is none", (p) => (p.interfaces[0].egress[0].peer.cidr = "0.0.0.0"), /peer\.cidr/],
      ["an unknown peer kind", (p) => (p.interfaces[0].egress[0].peer = { kind: "any" }), /peer\.kind/],
      ["no groups", (p) => delete p.groups, /policy\.groups is not a list/],
      ["interfaces not a list", (p) => (p.interfaces = {}), /policy\.interfaces is not a list/],
      [
        "a zero timeout",
        (p) => {
          p.interfaces[0].connectionTracking = {
            tcpEstablishedTimeout: 0,
            udpStreamTimeout: 60,
            udpTimeout: 30,
          };
        },
        /tcpEstablishedTimeout/,
      ],
      [
        "a rule id that is not text",
        (p) => (p.interfaces[0].ingress[0].id = 7),
        /ingress\[0\]\.id is not an id/,
      ],
      [
        "an id nft would rename",
        (p) => (p.interfaces[0].groupIds = ["sg-a/b"]),
        /groupIds\[0\] is not an id/,
      ],
      [
        "an ICMP type beyond a byte",
        (p) => {
          p.interfaces[0].ingress[0].protocol = 1;
          p.interfaces[0].ingress[0].fromPort = 300;
        },
        /fromPort \(ICMP type\)/,
      ],
      ["a non-canonical IPv6 address", (p) => (p.interfaces[0].ipv6 = ["fd00:0:0::1"]), /ipv6\[0\]/],
      ["a range upside down", (p) => (p.groups[0].ipv4 = ["10.0.0.9-10.0.0.1"]), /groups\[0\]\.ipv4\[0\]/],
      ["a prefix with leading zeros", (p) => (p.groups[0].ipv4 = ["10.0.0.0/008"]), /groups\[0\]\.ipv4\[0\]/],
      ["a CIDR with host bits", (p) => (p.interfaces[0].egress[0].peer.cidr = "10.0.0.5/8"), /peer\.cidr/],
    ];
    for (const [what, edit, message] of cases) {
      const problem = hostPolicyProblem(changed(edit));
      assert.ok(problem, what);
      assert.match(problem, message, what);
    }
    for (const value of [null, "policy", [], 42]) assert.ok(hostPolicyProblem(value));
  });
});
