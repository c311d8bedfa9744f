// Random deltas against real nft (inside `rf-t-ndl-*` namespaces this test creates and removes):
// full(A) followed by delta(A -> B) must leave exactly the table that full(B) creates. The fake
// kernel's version of this test checks the same property without root.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { NftSessionKernel } from "../../src/agent/nft-session.js";
import { fullReplacement, tableDelta } from "../../src/compile/delta.js";
import { type HostPolicy, hostPolicyFor } from "../../src/compile/host-policy.js";
import { compileHostPolicy } from "../../src/compile/nftables.js";
import type { Estate } from "../../src/model/estate.js";
import { mutate, Random, randomEstate } from "../compile/random-estate.js";

const canRun = process.getuid?.() === 0 && spawnSync("nft", ["--version"]).status === 0;

/**
 * A listing with its objects sorted by kind and name and each element list sorted: the kernel lists
 * objects in creation order and hash-map elements in bucket order, neither of which is content.
 */
function normalised(listing: string | undefined): string {
  const body = (listing ?? "").replace(/counter packets \d+ bytes \d+/g, "counter");
  const blocks = body.split(/\n(?=\t(?:set|map|chain) )/).map((block) =>
    block.replace(
      /elements = \{([^}]*)\}/g,
      (_, items: string) =>
        `elements = { ${items
          .split(",")
          .map((x) => x.trim())
          .sort()
          .join(", ")} }`,
    ),
  );
  return blocks
    .map((b) => b.trim().replace(/\n\}$/, ""))
    .sort()
    .join("\n");
}

function table(e: Estate, instanceId: string) {
  return compileHostPolicy(hostPolicyFor(e, instanceId) as HostPolicy);
}

describe("deltas on real nft", { skip: canRun ? false : "needs root and nft" }, () => {
  const id = randomBytes(3).toString("hex");
  const incremental = `rf-t-ndl-${id}-i`;
  const fresh = `rf-t-ndl-${id}-f`;

  before(() => {
    for (const ns of [incremental, fresh]) execFileSync("ip", ["netns", "add", ns]);
  });
  after(() => {
    for (const ns of [incremental, fresh]) spawnSync("ip", ["netns", "del", ns]);
  });

  it("full(A) + delta(A -> B) lists exactly as full(B), for 40 random changes", async (t) => {
    const a = new NftSessionKernel({ netns: incremental });
    const b = new NftSessionKernel({ netns: fresh });
    t.after(() => Promise.all([a.close(), b.close()]));
    const r = new Random(1234);
    let checked = 0;
    while (checked < 40) {
      const before = randomEstate(r);
      const afterChange = mutate(r, before);
      const instance = r.pick(before.instances).id;
      const from = table(before, instance);
      const to = table(afterChange, instance);
      const delta = tableDelta(from, to);
      if (delta.statements === 0) continue;
      await a.apply(fullReplacement(from).script);
      await a.apply(delta.script);
      await b.apply(fullReplacement(to).script);
      assert.equal(normalised(await a.listTable()), normalised(await b.listTable()), delta.script);
      checked++;
    }
  });
});
