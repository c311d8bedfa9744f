import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  instanceNamespace,
  instancePort,
  LAB_PREFIX,
  routerNamespace,
  subnetBridge,
} from "../../src/lab/names.js";
import { labTopology } from "../../src/lab/topology.js";
import { EstateBuilder } from "./estate-builder.js";

describe("lab names", () => {
  it("derives namespace names from EC2 ids, with the lab prefix", () => {
    assert.equal(instanceNamespace("i-0abc"), "rf-i-0abc");
    assert.equal(routerNamespace("vpc-0abc"), "rf-vpc-0abc");
  });

  it("keeps interface names within the kernel's 15 bytes, stable and distinct", () => {
    const a = subnetBridge("subnet-0123456789abcdef0");
    assert.ok(a.startsWith(LAB_PREFIX));
    assert.ok(a.length <= 15);
    assert.equal(a, subnetBridge("subnet-0123456789abcdef0"));
    assert.notEqual(a, subnetBridge("subnet-0123456789abcdef1"));
    const p = instancePort("i-0123456789abcdef0");
    assert.ok(p.startsWith(LAB_PREFIX) && p.length <= 15);
    assert.notEqual(p, a);
  });
});

describe("labTopology", () => {
  it("gives each subnet's bridge the subnet's first usable address and routes hosts through it", () => {
    const b = new EstateBuilder();
    const vpc = b.vpc("10.20.0.0/16", "fd00:20::/56");
    const web = b.subnet(vpc, "10.20.1.0/24", "fd00:20:0:1::/64");
    const db = b.subnet(vpc, "10.20.2.0/25");
    const sg = b.group(vpc, "g");
    const a = b.instance(web, "10.20.1.10", [sg], "fd00:20:0:1::10");
    const c = b.instance(db, "10.20.2.20", [sg]);
    const topology = labTopology(b.build());

    const router = topology.routers.get(vpc);
    assert.ok(router);
    assert.equal(router.namespace, `rf-${vpc}`);
    const segments = new Map(router.segments.map((s) => [s.subnetId, s]));
    assert.deepEqual(segments.get(web)?.gateways, [
      { address: "10.20.1.1", prefix: 24 },
      { address: "fd00:20:0:1::1", prefix: 64 },
    ]);
    assert.deepEqual(segments.get(db)?.gateways, [{ address: "10.20.2.1", prefix: 25 }]);

    const hostA = topology.hosts.get(a);
    assert.deepEqual(hostA?.addresses, [
      { address: "10.20.1.10", prefix: 24 },
      { address: "fd00:20:0:1::10", prefix: 64 },
    ]);
    assert.equal(hostA?.gateway4, "10.20.1.1");
    assert.equal(hostA?.gateway6, "fd00:20:0:1::1");
    assert.equal(hostA?.bridge, subnetBridge(web));
    const hostC = topology.hosts.get(c);
    assert.equal(hostC?.gateway4, "10.20.2.1");
    assert.equal(hostC?.gateway6, undefined, "no IPv6 address, no IPv6 route");
  });

  it("runs only pending and running instances, and builds no router for a VPC without them", () => {
    const b = new EstateBuilder();
    const vpc = b.vpc("10.30.0.0/16");
    const idle = b.vpc("10.31.0.0/16");
    const s = b.subnet(vpc, "10.30.0.0/24");
    const si = b.subnet(idle, "10.31.0.0/24");
    const sg = b.group(vpc, "g");
    const running = b.instance(s, "10.30.0.5", [sg]);
    const pending = b.instance(s, "10.30.0.6", [sg]);
    const stopped = b.instance(s, "10.30.0.7", [sg]);
    const gone = b.instance(si, "10.31.0.8", [sg]);
    b.setInstance(pending, { state: "pending" });
    b.setInstance(stopped, { state: "stopped" });
    b.setInstance(gone, { state: "terminated" });
    const topology = labTopology(b.build());
    assert.deepEqual([...topology.hosts.keys()].sort(), [running, pending].sort());
    assert.deepEqual([...topology.routers.keys()], [vpc]);
  });

  it("configures every private address of the primary interface, primary first", () => {
    const b = new EstateBuilder();
    const vpc = b.vpc("10.41.0.0/16");
    const s = b.subnet(vpc, "10.41.0.0/24");
    const id = b.instance(s, "10.41.0.5", []);
    const built = b.build();
    const estate = {
      ...built,
      networkInterfaces: built.networkInterfaces.map((e) => ({
        ...e,
        privateIpv4: ["10.41.0.5", "10.41.0.6"],
      })),
    };
    assert.deepEqual(
      labTopology(estate)
        .hosts.get(id)
        ?.addresses.map((a) => a.address),
      ["10.41.0.5", "10.41.0.6"],
    );
  });

  it("skips an address outside its subnet rather than configuring it", () => {
    const b = new EstateBuilder();
    const vpc = b.vpc("10.40.0.0/16");
    const s = b.subnet(vpc, "10.40.0.0/24");
    const id = b.instance(s, "10.99.0.5", []);
    assert.equal(labTopology(b.build()).hosts.get(id), undefined);
  });
});
