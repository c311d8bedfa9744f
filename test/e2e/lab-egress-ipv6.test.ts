import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AwsCliError, LabServer, type LaunchedInstance } from "../lab/server-harness.js";

// Egress control, IPv6 and ICMP rules, and traffic routed between two subnets of one VPC.

/** The /64 number `n` of a VPC's /56 (EC2 hands out /56 blocks; subnets take /64s of it). */
function subnet64(vpcBlock: string, n: number): string {
  const [base] = vpcBlock.split("/") as [string];
  const groups = base.replace(/::$/, "").split(":");
  while (groups.length < 4) groups.push("0");
  const fourth = (Number.parseInt(groups[3] ?? "0", 16) + n).toString(16);
  return `${groups.slice(0, 3).join(":")}:${fourth}::/64`;
}

describe("lab e2e: egress, IPv6, ICMP, cross-subnet (aws CLI, real packets)", () => {
  let lab: LabServer;
  let vpc: string;
  let front: string;
  let back: string;
  let openGroup: string;
  let lockedGroup: string;
  let exodusGroup: string;
  let server: LaunchedInstance;
  let locked: LaunchedInstance;
  let peer: LaunchedInstance;

  before(async () => {
    lab = await LabServer.start();
    vpc = await lab.vpc("10.13.0.0/16", true);
    const described = await lab.ec2("describe-vpcs", "--vpc-ids", vpc);
    const block = described.Vpcs[0].Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock as string;
    front = await lab.subnet(vpc, "10.13.1.0/24", subnet64(block, 1));
    back = await lab.subnet(vpc, "10.13.2.0/24", subnet64(block, 2));
    openGroup = await lab.group(vpc, "server");
    lockedGroup = await lab.group(vpc, "locked");
    exodusGroup = await lab.group(vpc, "exodus");
    const peerGroup = await lab.group(vpc, "peer");
    // server: tcp/80 from the VPC over IPv4, tcp/443 from anywhere over IPv6 only, ICMP echo from
    // the front subnet over IPv4, ICMPv6 echo from anywhere.
    await lab.ec2(
      "authorize-security-group-ingress",
      "--group-id",
      openGroup,
      "--protocol",
      "tcp",
      "--port",
      "80",
      "--cidr",
      "10.13.0.0/16",
    );
    await lab.ec2(
      "authorize-security-group-ingress",
      "--group-id",
      openGroup,
      "--ip-permissions",
      "IpProtocol=tcp,FromPort=443,ToPort=443,Ipv6Ranges=[{CidrIpv6=::/0}]",
      "IpProtocol=icmp,FromPort=8,ToPort=-1,IpRanges=[{CidrIp=10.13.1.0/24}]",
      "IpProtocol=icmpv6,FromPort=128,ToPort=-1,Ipv6Ranges=[{CidrIpv6=::/0}]",
    );
    // Every client group may send IPv6 anywhere (whether a new group gets ::/0 is not what this tests).
    for (const g of [openGroup, exodusGroup, peerGroup]) {
      await lab
        .ec2(
          "authorize-security-group-egress",
          "--group-id",
          g,
          "--ip-permissions",
          "IpProtocol=-1,Ipv6Ranges=[{CidrIpv6=::/0}]",
        )
        .catch((error: unknown) => {
          // Already there when the server gives new groups ::/0 by default.
          if (!(error instanceof AwsCliError && error.stderr.includes("InvalidPermission.Duplicate")))
            throw error;
        });
    }
    // locked: no egress at all.
    await lab.ec2(
      "revoke-security-group-egress",
      "--group-id",
      lockedGroup,
      "--ip-permissions",
      "IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]",
    );
    [server] = (await lab.launch(back, [openGroup], 1, ["--ipv6-address-count", "1"])) as [LaunchedInstance];
    [locked] = (await lab.launch(front, [lockedGroup], 1, ["--ipv6-address-count", "1"])) as [
      LaunchedInstance,
    ];
    [peer] = (await lab.launch(front, [peerGroup], 1, ["--ipv6-address-count", "1"])) as [LaunchedInstance];
  });
  after(async () => {
    await lab?.close();
  });

  it("routes between subnets: a front-subnet client reaches the back-subnet server", async () => {
    assert.equal(await lab.probe(peer, server, "tcp/80"), "open");
    assert.equal(await lab.probe(peer, server, "tcp/81"), "blocked");
  });

  it("a group without the all-egress rule cannot connect out; the exodus group restores it", async () => {
    assert.equal(await lab.probe(locked, server, "tcp/80"), "blocked");
    await lab.ec2(
      "modify-instance-attribute",
      "--instance-id",
      locked.id,
      "--groups",
      lockedGroup,
      exodusGroup,
    );
    assert.equal(await lab.probe(locked, server, "tcp/80"), "open");
    await lab.ec2("modify-instance-attribute", "--instance-id", locked.id, "--groups", lockedGroup);
    assert.equal(await lab.probe(locked, server, "tcp/80"), "blocked");
  });

  it("applies IPv4 and IPv6 rules each to their own family", async () => {
    assert.ok(server.ipv6, "the server got an IPv6 address");
    assert.equal(await lab.probe(peer, server, "tcp/443", { ipv6: true }), "open");
    assert.equal(await lab.probe(peer, server, "tcp/443"), "blocked", "no IPv4 rule for 443");
    assert.equal(await lab.probe(peer, server, "tcp/80", { ipv6: true }), "blocked", "no IPv6 rule for 80");
  });

  it("applies ICMP and ICMPv6 echo rules", async () => {
    assert.equal(await lab.probe(peer, server, "icmp"), "open");
    assert.equal(await lab.probe(peer, server, "icmp", { ipv6: true }), "open");
    assert.equal(await lab.probe(server, peer, "icmp"), "blocked", "the peer admits no echo");
    await lab.ec2(
      "revoke-security-group-ingress",
      "--group-id",
      openGroup,
      "--ip-permissions",
      "IpProtocol=icmp,FromPort=8,ToPort=-1,IpRanges=[{CidrIp=10.13.1.0/24}]",
    );
    assert.equal(await lab.probe(peer, server, "icmp"), "blocked");
    assert.equal(await lab.probe(peer, server, "icmp", { ipv6: true }), "open", "ICMPv6 rule untouched");
  });
});
