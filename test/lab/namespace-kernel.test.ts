import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NftApplyError } from "../../src/agent/kernel.js";
import { deleteNamespaces, execInNamespace, ipBatch } from "../../src/lab/iproute.js";
import { NamespaceNftKernel } from "../../src/lab/namespace-kernel.js";
import { NftSession, scriptLine } from "../../src/lab/nft-session.js";
import { labId } from "./estate-builder.js";

describe("scriptLine", () => {
  it("joins an nft -f script into one line of statements, dropping blanks and comments", () => {
    assert.equal(
      scriptLine("add table inet t\n\n# why\n  add chain inet t c { type filter hook input priority 0; }\n"),
      "add table inet t; add chain inet t c { type filter hook input priority 0; }",
    );
    assert.equal(scriptLine("\n  \n"), "");
  });
});

describe("NamespaceNftKernel (root, real nft in a namespace)", () => {
  const namespace = `rf-${labId("kernel")}`;
  let kernel: NamespaceNftKernel;
  const listed = async () => (await execInNamespace(namespace, ["nft", "list", "ruleset"])).stdout;

  before(async () => {
    await ipBatch(undefined, [`netns add ${namespace}`]);
    kernel = new NamespaceNftKernel(namespace);
  });
  after(async () => {
    await kernel?.close();
    await deleteNamespaces([namespace]);
  });

  it("has no table to list at first", async () => {
    assert.equal(await kernel.listTable(), undefined);
    assert.equal(await kernel.tableChecksum(), undefined);
  });

  it("applies a script as one transaction inside the namespace only", async () => {
    await kernel.apply(
      "add table inet ringfence\nadd chain inet ringfence input { type filter hook input priority 0; policy accept; }\nadd rule inet ringfence input tcp dport 22 counter\n",
    );
    assert.match(await listed(), /tcp dport 22 counter/);
    const listing = await kernel.listTable();
    assert.ok(listing);
    assert.ok(JSON.parse(listing).nftables.some((o: { rule?: unknown }) => o.rule));
  });

  it("rejects a failing script with NftApplyError and leaves the table as it was", async () => {
    const before = await kernel.tableChecksum();
    await assert.rejects(
      kernel.apply(
        "add rule inet ringfence input tcp dport 80 counter\nadd rule inet ringfence nochain counter\n",
      ),
      (error: unknown) => error instanceof NftApplyError && /nochain|No such file/.test(error.message),
    );
    assert.equal(await kernel.tableChecksum(), before, "the first statement was not applied either");
    assert.doesNotMatch(await listed(), /dport 80/);
  });

  it("keeps working after an error, and its checksum ignores counters", async () => {
    const first = await kernel.tableChecksum();
    await kernel.apply("add rule inet ringfence input tcp dport 443 counter\n");
    const second = await kernel.tableChecksum();
    assert.notEqual(second, first);
    assert.equal(await kernel.tableChecksum(), second);
  });

  it("leaves no nft history in the home directory of whoever runs the lab", async () => {
    const home = mkdtempSync(join(tmpdir(), "rf-home-"));
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const session = new NftSession(namespace);
      await session.run("add table inet ringfence_history");
      await session.run("delete table inet ringfence_history");
      await session.close();
      assert.deepEqual(readdirSync(home), []);
    } finally {
      process.env.HOME = saved;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("deletes the table, also when there is none", async () => {
    await kernel.deleteTable();
    assert.equal(await kernel.listTable(), undefined);
    await kernel.deleteTable();
    assert.equal(await kernel.listTable(), undefined);
  });
});
