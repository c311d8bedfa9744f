// The fake kernel stands in for nft in the delta and agent tests, so it must refuse what nft
// refuses; these cases were checked against nft 1.0.6 in a namespace (see nft-delta.test).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeKernel } from "../../src/agent/fake-kernel.js";
import { NftApplyError } from "../../src/agent/kernel.js";

const BASE = `add table inet ringfence
add set inet ringfence s { type ipv4_addr; flags interval; }
add element inet ringfence s { 10.0.0.0/24, 10.0.1.1 }
add chain inet ringfence target
add chain inet ringfence input { type filter hook input priority filter; policy drop; }
add rule inet ringfence input ip saddr @s jump target
`;

async function kernel(): Promise<FakeKernel> {
  const k = new FakeKernel();
  await k.apply(BASE);
  return k;
}

describe("FakeKernel", () => {
  it("applies the statements the compiler writes", async () => {
    const k = await kernel();
    assert.deepEqual(k.elements("s"), ["10.0.0.0/24", "10.0.1.1"]);
    assert.deepEqual(k.rules("input"), ["ip saddr @s jump target"]);
  });

  for (const [what, script, message] of [
    ["an overlapping interval", "add element inet ringfence s { 10.0.0.128/25 }", /conflicting intervals/],
    [
      "deleting an element that is not there",
      "delete element inet ringfence s { 10.0.2.0/24 }",
      /No such file/,
    ],
    ["a rule in a missing chain", "add rule inet ringfence nochain accept", /No such file/],
    ["a rule naming a missing set", "add rule inet ringfence target ip saddr @nope accept", /No such file/],
    ["a jump to a missing chain", "add rule inet ringfence target jump nowhere", /No such file/],
    ["deleting a set a rule uses", "delete set inet ringfence s", /busy/],
    ["deleting a chain a rule jumps to", "delete chain inet ringfence target", /busy/],
    ["an unknown statement", "insert something", /syntax error/],
  ] as const) {
    it(`refuses ${what}, and the whole script with it`, async () => {
      const k = await kernel();
      const before = await k.listTable();
      await assert.rejects(
        k.apply(`add element inet ringfence s { 10.9.9.9 }\n${script}\n`),
        (error: unknown) => {
          assert.ok(error instanceof NftApplyError);
          assert.match(error.message, message);
          return true;
        },
      );
      assert.equal(await k.listTable(), before, "nothing of a failed script remains");
    });
  }

  it("deletes a chain together with its rules, as nft does", async () => {
    const k = await kernel();
    await k.apply(
      "delete chain inet ringfence input\ndelete chain inet ringfence target\ndelete set inet ringfence s\n",
    );
    assert.equal(k.rules("input"), undefined);
    assert.equal(k.elements("s"), undefined);
  });

  it("deletes a table only when there is one, and flush keeps the objects", async () => {
    const k = new FakeKernel();
    await assert.rejects(k.apply("delete table inet ringfence\n"), /No such file/);
    await k.apply("add table inet ringfence\ndelete table inet ringfence\n");
    assert.equal(k.hasTable, false);
    const full = await kernel();
    full.tamper("flush table inet ringfence\n");
    assert.deepEqual(full.elements("s"), []);
    assert.deepEqual(full.rules("input"), []);
  });
});

describe("checksumOfListing", () => {
  it("ignores counter values and nothing else", async () => {
    const { checksumOfListing } = await import("../../src/agent/kernel.js");
    const text = (packets: number, port = 22) =>
      `table inet ringfence {\n\tchain c {\n\t\ttcp dport ${port} counter packets ${packets} bytes ${packets * 60} accept comment "sgr-1"\n\t}\n}\n`;
    assert.equal(checksumOfListing(text(0)), checksumOfListing(text(12345)));
    assert.notEqual(checksumOfListing(text(0)), checksumOfListing(text(0, 23)));
    assert.notEqual(checksumOfListing(text(0)), checksumOfListing(text(0).replace("accept", "drop")));
  });

  it("is the same digested piece by piece, wherever the pieces break", async () => {
    const { checksumOfListing, ListingDigest } = await import("../../src/agent/kernel.js");
    const rule = (n: number) =>
      `\t\ttcp dport ${n} counter packets ${n * 7} bytes ${n * 420} accept comment "sgr-${n}"\n`;
    const text = `table inet ringfence {\n\tchain c {\n${Array.from({ length: 40 }, (_, n) => rule(n)).join("")}\t}\n}\n`;
    for (const listing of [text, text.slice(0, -1)]) {
      const whole = checksumOfListing(listing);
      for (const size of [1, 2, 5, 13, 64, listing.length]) {
        const digest = new ListingDigest();
        for (let i = 0; i < listing.length; i += size) digest.update(listing.slice(i, i + size));
        assert.equal(digest.digest(), whole, `pieces of ${size}`);
      }
    }
  });
});
