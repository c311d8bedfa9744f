// Lint over real `aws ec2 describe-*` dumps (test/fixtures/aws, see its README). Each expected
// finding below was worked out by reading the JSON by hand; the comment says which lines.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { readSnapshot } from "../../src/importers/snapshot.js";
import { type LintCheck, type LintFinding, lintEstate } from "../../src/policy/lint.js";

const FIXTURES = join(fileURLToPath(new URL(".", import.meta.url)), "../../../test/fixtures/aws");

async function lintFixture(name: string): Promise<LintFinding[]> {
  return lintEstate(await readSnapshot(join(FIXTURES, name)));
}

function of(findings: LintFinding[], check: LintCheck): LintFinding[] {
  return findings.filter((f) => f.check === check);
}

describe("lint of the batfish hybrid-cloud dump", () => {
  it("finds the default group of vpc-815775e7 open to everything", async () => {
    // SecurityGroups.json: sg-adcd87d0 "default" (vpc-815775e7) has IpProtocol "-1" from 0.0.0.0/0.
    const findings = await lintFixture("batfish-hybrid-cloud");
    const all = of(findings, "internet-all-traffic");
    assert.deepEqual(
      all.map((f) => f.groupId),
      ["sg-adcd87d0"],
    );
    assert.equal(all[0]?.severity, "critical");
    // that rule is not the default self-reference, so the default group has extra rules
    assert.ok(of(findings, "default-group-rules").some((f) => f.groupId === "sg-adcd87d0"));
  });

  it("finds mysql open to the internet in rds-launch-wizard, which nothing uses", async () => {
    // sg-9a1f3ffe "rds-launch-wizard": tcp 3306 from 0.0.0.0/0; no interface in
    // NetworkInterfaces.json lists it in Groups.
    const findings = await lintFixture("batfish-hybrid-cloud");
    assert.ok(
      of(findings, "internet-sensitive-port").some(
        (f) => f.groupId === "sg-9a1f3ffe" && f.reason.startsWith("tcp/3306 (mysql)"),
      ),
    );
    // Interfaces use only sg-331ad04e, sg-83b348fe and sg-94df21e9; of the other eight groups
    // four are "default", leaving launch-wizard-1/2/3 and rds-launch-wizard unused.
    assert.deepEqual(
      of(findings, "unused-group")
        .map((f) => f.groupId)
        .sort(),
      ["sg-6c4d1408", "sg-9a1f3ffe", "sg-a30183d9", "sg-bb550cdf"],
    );
  });

  it("finds the stale reference of the default group of vpc-b390fad5", async () => {
    // sg-55510831 allows tcp 3306 from UserIdGroupPairs sg-cf3f86b3, a group not in the dump.
    const stale = of(await lintFixture("batfish-hybrid-cloud"), "stale-reference");
    assert.equal(stale.length, 1);
    assert.equal(stale[0]?.groupId, "sg-55510831");
    assert.match(stale[0]?.reason ?? "", /sg-cf3f86b3/);
  });

  it("finds the three network ACLs that allow everything in, but not the one allowing one host", async () => {
    // NetworkAcls.json: acl-1ced2265, acl-3d4f745b and acl-7b78771d have inbound entry 100 allow
    // protocol -1 from 0.0.0.0/0; acl-4db39c28 allows only tcp from 162.243.144.192/32.
    const nacl = of(await lintFixture("batfish-hybrid-cloud"), "nacl-internet-sensitive-port");
    assert.deepEqual(nacl.map((f) => f.resource).sort(), [
      "acl-1ced2265#100",
      "acl-3d4f745b#100",
      "acl-7b78771d#100",
    ]);
  });
});

describe("lint of the cloud-custodian security-group-used dump", () => {
  it("finds the default group of vpc-4a9ff72e changed and in use", async () => {
    // sg-f9cc4d9f "default" allows tcp 22 from 71.163.79.221/32 and is in the Groups of
    // eni-caa070b4, eni-04b74850b90891a7c and eni-05f8e0f783bfe84f0. The other two default
    // groups (sg-13de8f75, sg-ce548cb7) hold only their self-reference and are attached to nothing.
    const findings = await lintFixture("custodian-sg-used");
    assert.deepEqual(
      of(findings, "default-group-rules").map((f) => f.groupId),
      ["sg-f9cc4d9f"],
    );
    const inUse = of(findings, "default-group-in-use");
    assert.deepEqual(
      inUse.map((f) => f.groupId),
      ["sg-f9cc4d9f"],
    );
    assert.match(inUse[0]?.reason ?? "", /3 interface/);
  });

  it("finds ssh open to the internet in launch-wizard-1 only", async () => {
    // sg-6bfe7312 "launch-wizard-1": tcp 22 from 0.0.0.0/0; every other CIDR in the dump is a /32.
    const findings = await lintFixture("custodian-sg-used");
    assert.deepEqual(
      of(findings, "internet-sensitive-port").map((f) => [f.groupId, f.reason.split(" ")[0]]),
      [["sg-6bfe7312", "tcp/22"]],
    );
    assert.deepEqual(of(findings, "internet-all-traffic"), []);
  });
});

describe("lint of the cloudmapper demo dump", () => {
  it("finds nothing medium or worse", async () => {
    // ec2-describe-security-groups.json: the only 0.0.0.0/0 rules are tcp 443 (sg-00000008,
    // sg-00000003), which the default allow-list permits; ssh comes from 1.1.1.1/32 and
    // 2.2.2.2/28 or from group sg-00000002; the default group holds only its self-reference.
    const findings = await lintFixture("cloudmapper-demo");
    assert.deepEqual(
      findings.filter((f) => f.severity !== "low" && f.severity !== "info"),
      [],
    );
  });
});
