import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LabServer, type LaunchedInstance } from "../lab/server-harness.js";

// Through the real aws CLI against a server running the lab, then probed with real packets:
// group references, a launch into a referenced group, groups changed in place, the default group.

describe("lab e2e: group references (aws CLI, real packets)", () => {
  let lab: LabServer;
  let vpc: string;
  let subnet: string;
  let appGroup: string;
  let dbGroup: string;
  let app: LaunchedInstance;
  let db: LaunchedInstance;
  let stranger: LaunchedInstance;

  before(async () => {
    lab = await LabServer.start();
    vpc = await lab.vpc("10.11.0.0/16");
    subnet = await lab.subnet(vpc, "10.11.1.0/24");
    appGroup = await lab.group(vpc, "appserver");
    dbGroup = await lab.group(vpc, "dbserver");
    const strangerGroup = await lab.group(vpc, "stranger");
    await lab.ec2(
      "authorize-security-group-ingress",
      "--group-id",
      dbGroup,
      "--ip-permissions",
      `IpProtocol=tcp,FromPort=3306,ToPort=3306,UserIdGroupPairs=[{GroupId=${appGroup}}]`,
    );
    [app] = (await lab.launch(subnet, [appGroup])) as [LaunchedInstance];
    [db] = (await lab.launch(subnet, [dbGroup])) as [LaunchedInstance];
    [stranger] = (await lab.launch(subnet, [strangerGroup])) as [LaunchedInstance];
  });
  after(async () => {
    await lab?.close();
  });

  it("appserver reaches dbserver on tcp/3306 by group reference; a stranger does not", async () => {
    assert.equal(await lab.probe(app, db, "tcp/3306"), "open");
    assert.equal(await lab.probe(stranger, db, "tcp/3306"), "blocked");
    assert.equal(await lab.probe(app, db, "tcp/3307"), "blocked", "only the authorized port");
    assert.equal(await lab.probe(db, app, "tcp/3306"), "blocked", "the reference is one-way");
  });

  it("a new instance launched into appserver reaches dbserver with no rule changed", async () => {
    const [late] = (await lab.launch(subnet, [appGroup])) as [LaunchedInstance];
    assert.equal(await lab.probe(late, db, "tcp/3306"), "open");
  });

  it("modify-instance-attribute --groups takes effect in place, both ways", async () => {
    const strangerGroups = await lab.ec2("describe-instances", "--instance-ids", stranger.id);
    const original = strangerGroups.Reservations[0].Instances[0].SecurityGroups.map(
      (g: { GroupId: string }) => g.GroupId,
    );
    await lab.ec2(
      "modify-instance-attribute",
      "--instance-id",
      stranger.id,
      "--groups",
      ...original,
      appGroup,
    );
    assert.equal(await lab.probe(stranger, db, "tcp/3306"), "open", "joined appserver");
    await lab.ec2("modify-instance-attribute", "--instance-id", stranger.id, "--groups", ...original);
    assert.equal(await lab.probe(stranger, db, "tcp/3306"), "blocked", "left appserver");
  });

  it("members of the VPC's default group reach each other, and nobody else reaches them", async () => {
    const [m1, m2] = (await lab.launch(subnet, [], 2)) as [LaunchedInstance, LaunchedInstance];
    assert.equal(await lab.probe(m1, m2, "tcp/8080"), "open");
    assert.equal(await lab.probe(m2, m1, "udp/5353"), "open");
    assert.equal(await lab.probe(m1, m2, "icmp"), "open");
    assert.equal(await lab.probe(app, m1, "tcp/8080"), "blocked");
    assert.equal(await lab.probe(stranger, m2, "icmp"), "blocked");
  });
});
