// NextToken as a continuation marker: deletions between pages neither skip nor repeat items, and
// a token belongs to one action, account and region.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeNetworkAclsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import { newAccessKey } from "../../src/api/server.js";
import { errorCode, startControlPlane, type TestControlPlane } from "../support/control-plane.js";

let cp: TestControlPlane;
let other: EC2Client;
let vpcId: string;

before(async () => {
  cp = await startControlPlane();
  const key = newAccessKey("222233334444");
  cp.server.store.addAccessKey(key);
  other = cp.clientFor(key.accessKeyId, key.secretAccessKey);
  const vpc = await cp.ec2.send(new CreateVpcCommand({ CidrBlock: "10.40.0.0/16" }));
  vpcId = vpc.Vpc?.VpcId as string;
});

after(async () => {
  other.destroy();
  await cp.close();
});

/** Non-default groups of the VPC, created in order; returns their ids. */
async function newGroups(prefix: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const out = await cp.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `${prefix}-${i}`, Description: "p", VpcId: vpcId }),
    );
    ids.push(out.GroupId as string);
  }
  return ids;
}

const byPrefix = (prefix: string) => [
  { Name: "vpc-id", Values: [vpcId] },
  { Name: "group-name", Values: [`${prefix}-*`] },
];

async function page(prefix: string, token?: string) {
  const out = await cp.ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: byPrefix(prefix), MaxResults: 5, NextToken: token }),
  );
  return { ids: (out.SecurityGroups ?? []).map((g) => g.GroupId as string), token: out.NextToken };
}

describe("pagination tokens", () => {
  test("deleting an item of an earlier page skips nothing on the next", async () => {
    const ids = await newGroups("early", 8);
    const first = await page("early");
    assert.deepEqual(first.ids, ids.slice(0, 5));
    await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: ids[1] }));
    const second = await page("early", first.token);
    assert.deepEqual(second.ids, ids.slice(5));
    assert.equal(second.token, undefined);
  });

  test("deleting each item as it is read, the last one of the page included, skips nothing", async () => {
    const ids = await newGroups("drain", 12);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const next = await page("drain", token);
      seen.push(...next.ids);
      for (const id of next.ids) await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
      token = next.token;
    } while (token);
    assert.deepEqual(seen, ids);
  });

  test("deleting both items at the boundary, and more, goes on at the first item left", async () => {
    const ids = await newGroups("edge", 14);
    const first = await page("edge");
    assert.deepEqual(first.ids, ids.slice(0, 5));
    // the page's last two and the next three
    for (const id of ids.slice(3, 8)) await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
    const second = await page("edge", first.token);
    assert.deepEqual(second.ids, ids.slice(8, 13));
    const third = await page("edge", second.token);
    assert.deepEqual(third.ids, ids.slice(13));
  });

  test("with the page's last item and all it names ahead deleted, it goes on after the latest left", async () => {
    const ids = await newGroups("far", 15);
    const first = await page("far");
    for (const id of ids.slice(4, 13)) await cp.ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
    const second = await page("far", first.token);
    assert.deepEqual(second.ids, ids.slice(13));
  });

  test("a group created between pages comes on a later page, nothing is repeated", async () => {
    const ids = await newGroups("grow", 6);
    const first = await page("grow");
    const [added] = await newGroups("grow-late", 1);
    const second = await page("grow", first.token);
    assert.deepEqual(second.ids, [ids[5], added]);
  });

  test("a token of another action, account or region, or a malformed one, is refused", async () => {
    await newGroups("scope", 6);
    const { token } = await page("scope");
    assert.ok(token);
    const refused = async (call: Promise<unknown>) =>
      assert.equal(await errorCode(call), "InvalidPaginationToken");
    await refused(cp.ec2.send(new DescribeNetworkAclsCommand({ MaxResults: 5, NextToken: token })));
    await refused(other.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: token })));
    const west = cp.clientFor(cp.server.accessKeyId, cp.server.secretAccessKey, "us-west-2");
    try {
      await refused(west.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: token })));
    } finally {
      west.destroy();
    }
    for (const bad of ["garbage", Buffer.from("rf1.5").toString("base64url"), token.slice(2)]) {
      await refused(cp.ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: bad })));
    }
  });

  test("DescribeTags: a tag removed and added again between pages skips nothing", async () => {
    const keys = ["k1", "k2", "k3", "k4", "k5", "k6", "k7"];
    await cp.ec2.send(
      new CreateTagsCommand({ Resources: [vpcId], Tags: keys.map((Key) => ({ Key, Value: "v" })) }),
    );
    const filters = [{ Name: "resource-id", Values: [vpcId] }];
    const first = await cp.ec2.send(new DescribeTagsCommand({ Filters: filters, MaxResults: 5 }));
    assert.deepEqual(
      first.Tags?.map((t) => t.Key),
      ["k1", "k2", "k3", "k4", "k5"],
    );
    // the last tag of the page goes and comes back: it would be the newest in insertion order
    await cp.ec2.send(new DeleteTagsCommand({ Resources: [vpcId], Tags: [{ Key: "k5" }] }));
    await cp.ec2.send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: "k5", Value: "again" }] }));
    const second = await cp.ec2.send(
      new DescribeTagsCommand({ Filters: filters, MaxResults: 5, NextToken: first.NextToken }),
    );
    assert.deepEqual(
      second.Tags?.map((t) => t.Key),
      ["k6", "k7"],
    );
  });

  test("MaxResults below the minimum gets EC2's message", async () => {
    await assert.rejects(cp.ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 1 })), {
      name: "InvalidParameterValue",
      message: "Value ( 1 ) for parameter maxResults is invalid. Expecting a value greater than 5.",
    });
  });
});
