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

describe("digestsOfListing", () => {
  const listing = (packets: number, port = 22) =>
    `table inet ringfence {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1 }\n\t}\n\n\tct timeout t {\n\t\tprotocol tcp\n\t}\n\n\tchain c {\n\t\ttcp dport ${port} counter packets ${packets} bytes ${packets * 60} accept comment "sgr-1"\n\t}\n}\n`;

  it("digests each object apart, ignoring counter values and nothing else", async () => {
    const { digestsOfListing } = await import("../../src/agent/kernel.js");
    const base = digestsOfListing(listing(0));
    assert.deepEqual([...base.keys()].sort(), ["chain c", "ct timeout t", "set s", "table"]);
    assert.deepEqual(digestsOfListing(listing(12345)), base);
    const other = digestsOfListing(listing(0, 23));
    assert.notEqual(other.get("chain c"), base.get("chain c"));
    assert.equal(other.get("set s"), base.get("set s"));
    const dropped = digestsOfListing(listing(0).replace("accept", "drop"));
    assert.notEqual(dropped.get("chain c"), base.get("chain c"));
    // the table's own lines: a table made dormant differs
    const dormant = digestsOfListing(listing(0).replace("{\n\tset", "{\n\tflags dormant\n\n\tset"));
    assert.notEqual(dormant.get("table"), base.get("table"));
    assert.equal(dormant.get("set s"), base.get("set s"));
    // an object listed alone digests as it does inside the table
    const alone = digestsOfListing(
      "table inet ringfence {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1 }\n\t}\n}\n",
    );
    assert.equal(alone.get("set s"), base.get("set s"));
  });

  it("is the same digested piece by piece, wherever the pieces break", async () => {
    const { digestsOfListing, ListingDigests } = await import("../../src/agent/kernel.js");
    const rule = (n: number) =>
      `\t\ttcp dport ${n} counter packets ${n * 7} bytes ${n * 420} accept comment "sgr-${n}"\n`;
    const text = `table inet ringfence {\n\tchain c {\n${Array.from({ length: 40 }, (_, n) => rule(n)).join("")}\t}\n\n\tset s {\n\t\ttype ipv4_addr\n\t}\n}\n`;
    for (const whole of [text, text.slice(0, -1)]) {
      const expected = digestsOfListing(whole);
      for (const size of [1, 2, 5, 13, 64, whole.length]) {
        const digests = new ListingDigests();
        for (let i = 0; i < whole.length; i += size) digests.update(whole.slice(i, i + size));
        assert.deepEqual(digests.result(), expected, `pieces of ${size}`);
      }
    }
  });
});
