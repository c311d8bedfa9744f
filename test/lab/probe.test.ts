import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatProbeTarget, parseProbeTarget } from "../../src/lab/probe.js";
import { probeTraffic } from "../../src/lab/verify.js";

describe("probe targets", () => {
  it("parses tcp/PORT, udp/PORT and icmp", () => {
    assert.deepEqual(parseProbeTarget("tcp/3306"), { protocol: "tcp", port: 3306 });
    assert.deepEqual(parseProbeTarget("UDP/53"), { protocol: "udp", port: 53 });
    assert.deepEqual(parseProbeTarget("icmp"), { protocol: "icmp", port: -1 });
    assert.deepEqual(parseProbeTarget("icmp/8"), { protocol: "icmp", port: -1 }, "as the analysis writes it");
    assert.equal(formatProbeTarget({ protocol: "tcp", port: 22 }), "tcp/22");
    assert.equal(formatProbeTarget({ protocol: "icmp", port: -1 }), "icmp");
  });

  it("rejects what it cannot probe", () => {
    for (const bad of [
      "tcp",
      "tcp/0",
      "tcp/65536",
      "udp/x",
      "icmp/0",
      "icmp/8:0",
      "sctp/1",
      "tcp/22-23",
      "",
    ]) {
      assert.equal(parseProbeTarget(bad), undefined, bad);
    }
  });

  it("describes a probe to the evaluator as the packet it sends", () => {
    assert.deepEqual(probeTraffic({ protocol: "tcp", port: 80 }, 4), { protocol: 6, port: 80 });
    assert.deepEqual(probeTraffic({ protocol: "udp", port: 53 }, 6), { protocol: 17, port: 53 });
    // An echo request: ICMP type 8 over IPv4, ICMPv6 type 128 over IPv6.
    assert.deepEqual(probeTraffic({ protocol: "icmp", port: -1 }, 4), {
      protocol: 1,
      icmpType: 8,
      icmpCode: 0,
    });
    assert.deepEqual(probeTraffic({ protocol: "icmp", port: -1 }, 6), {
      protocol: 58,
      icmpType: 128,
      icmpCode: 0,
    });
  });
});
