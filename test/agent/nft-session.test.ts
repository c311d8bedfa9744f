import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { digestsOfListing, NftApplyError } from "../../src/agent/kernel.js";
import { NftSession, NftSessionKernel, scriptLine } from "../../src/agent/nft-session.js";
import { deleteNamespaces, execInNamespace, ipBatch } from "../../src/lab/iproute.js";
import { labId } from "../lab/estate-builder.js";

describe("scriptLine", () => {
  it("joins an nft -f script into one line of statements, dropping blanks and comments", () => {
    assert.equal(
      scriptLine("add table inet t\n\n# why\n  add chain inet t c { type filter hook input priority 0; }\n"),
      "add table inet t; add chain inet t c { type filter hook input priority 0; }",
    );
    assert.equal(scriptLine("\n  \n"), "");
  });
});

describe("NftSessionKernel (root, real nft in a namespace)", () => {
  const namespace = `rf-${labId("kernel")}`;
  let kernel: NftSessionKernel;
  const listed = async () => (await execInNamespace(namespace, ["nft", "list", "ruleset"])).stdout;

  before(async () => {
    await ipBatch(undefined, [`netns add ${namespace}`]);
    kernel = new NftSessionKernel({ netns: namespace });
  });
  after(async () => {
    await kernel?.close();
    await deleteNamespaces([namespace]);
  });

  it("has no table to list at first", async () => {
    assert.equal(await kernel.listTable(), undefined);
    assert.equal(await kernel.objectDigests(), undefined);
    assert.deepEqual(await kernel.objectDigests(["set s", "chain input"]), new Map());
  });

  it("applies a script as one transaction inside the namespace only", async () => {
    await kernel.apply(
      "add table inet ringfence\nadd chain inet ringfence input { type filter hook input priority 0; policy accept; }\nadd rule inet ringfence input tcp dport 22 counter\n",
    );
    assert.match(await listed(), /tcp dport 22 counter/);
    assert.match(
      (await kernel.listTable()) ?? "",
      /^table inet ringfence \{[\s\S]*tcp dport 22 counter packets 0 bytes 0/,
    );
  });

  it("rejects a failing script with NftApplyError and leaves the table as it was", async () => {
    const before = await kernel.objectDigests();
    await assert.rejects(
      kernel.apply(
        "add rule inet ringfence input tcp dport 80 counter\nadd rule inet ringfence nochain counter\n",
      ),
      (error: unknown) => error instanceof NftApplyError && /nochain|No such file/.test(error.message),
    );
    assert.deepEqual(await kernel.objectDigests(), before, "the first statement was not applied either");
    assert.doesNotMatch(await listed(), /dport 80/);
  });

  it("keeps working after an error, and its checksum ignores counters", async () => {
    const first = await kernel.objectDigests();
    await kernel.apply("add rule inet ringfence input tcp dport 443 counter\n");
    const second = await kernel.objectDigests();
    assert.notEqual(second?.get("chain input"), first?.get("chain input"));
    assert.deepEqual(await kernel.objectDigests(), second);
    assert.deepEqual(
      await kernel.objectDigests(["chain input", "chain absent"]),
      new Map([["chain input", second?.get("chain input")]]),
      "an object listed alone digests as in the table; an absent one is left out",
    );
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

  // 4,000 addresses: a script of about 60 KB a set and a listing of about 70 KB, many times the
  // piece a listing is handed on in and more than one stdin slice
  const addresses = (third: number) =>
    Array.from({ length: 4000 }, (_, i) => `10.${third}.${Math.floor(i / 250)}.${(i % 250) + 1}`);

  it("applies a script longer than one pipe write as one transaction", async () => {
    const script = [
      "add table inet ringfence",
      "add set inet ringfence a { type ipv4_addr; }",
      `add element inet ringfence a { ${addresses(1).join(", ")} }`,
      "add set inet ringfence b { type ipv4_addr; }",
      `add element inet ringfence b { ${addresses(2).join(", ")} }`,
    ].join("\n");
    assert.ok(script.length > 64 * 1024);
    await kernel.apply(script);
    const listing = (await kernel.listTable()) ?? "";
    assert.ok(listing.includes("10.1.15.250") && listing.includes("10.2.15.250"));
    // one failing statement at the end of a long script: nothing of it is applied
    await assert.rejects(
      kernel.apply(
        `add element inet ringfence a { ${addresses(3).join(", ")} }\nadd element inet ringfence nosuch { 10.9.9.9 }\n`,
      ),
      NftApplyError,
    );
    assert.doesNotMatch((await kernel.listTable()) ?? "", /10\.3\.0\.1\b/);
  });

  it("digests a long listing as it arrives as it digests the whole listing", async () => {
    const listing = (await kernel.listTable()) ?? "";
    assert.ok(listing.length > 50_000, `${listing.length} bytes`);
    const whole = digestsOfListing(listing);
    assert.deepEqual(await kernel.objectDigests(), whole);
    await kernel.apply("delete element inet ringfence b { 10.2.0.1 }");
    const now = await kernel.objectDigests(["set a", "set b"]);
    assert.equal(now?.get("set a"), whole.get("set a"));
    assert.ok(now?.get("set b") && now.get("set b") !== whole.get("set b"));
  });

  it("starts nft again when it has exited", async () => {
    await kernel.close();
    await kernel.apply("add element inet ringfence a { 10.4.0.1 }");
    assert.match((await kernel.listTable()) ?? "", /10\.4\.0\.1\b/);
  });

  it("without a namespace, runs nft in the namespace of its own process", async () => {
    const module = new URL("../../src/agent/nft-session.js", import.meta.url).href;
    const program = `const { NftSession } = await import(${JSON.stringify(module)});
const session = new NftSession();
await session.run("add table inet ringfence_own");
process.stdout.write(await session.query("list tables"));
await session.close();`;
    // run inside the test's namespace: nothing is ever written to the machine's own
    const ran = await execInNamespace(namespace, [process.execPath, "--input-type=module", "-e", program]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, /table inet ringfence_own/, "it lists what it wrote");
    assert.match((await execInNamespace(namespace, ["nft", "list", "tables"])).stdout, /ringfence_own/);
  });
});

describe("NftSession when nft goes away mid-answer (a stand-in nft, no kernel)", () => {
  // An `nft` that reads one command, prints the start of a long listing and exits.
  const dir = mkdtempSync(join(tmpdir(), "rf-fake-nft-"));
  const savedPath = process.env.PATH;
  before(() => {
    const fake = join(dir, "nft");
    writeFileSync(
      fake,
      `#!/bin/sh\nread line\nprintf 'table inet ringfence {\\n'\ni=0\nwhile [ $i -lt 2000 ]; do printf '\\tset s%d {\\n\\t\\ttype ipv4_addr\\n\\t}\\n\\n' $i; i=$((i+1)); done\nexit 0\n`,
    );
    chmodSync(fake, 0o755);
    process.env.PATH = `${dir}:${savedPath ?? ""}`;
  });
  after(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails a listing cut short instead of taking it for the table", async () => {
    const kernel = new NftSessionKernel();
    try {
      await assert.rejects(kernel.objectDigests(), /exited before it answered/);
      await assert.rejects(kernel.listTable(), /exited before it answered/);
      await assert.rejects(kernel.objectDigests(["set s1"]), /exited before it answered/);
      await assert.rejects(kernel.apply("add table inet ringfence"), NftApplyError);
    } finally {
      await kernel.close();
    }
  });
});

describe("NftSession's command lines (a stand-in nft that records them, no kernel)", () => {
  // An `nft` that logs the length of each line it reads, and the size of each file a line
  // includes, and answers each marker as nft does.
  const dir = mkdtempSync(join(tmpdir(), "rf-fake-nft-"));
  const log = join(dir, "lines.log");
  const savedPath = process.env.PATH;
  before(() => {
    const fake = join(dir, "nft");
    writeFileSync(
      fake,
      [
        "#!/bin/bash",
        "while IFS= read -r line; do",
        `  printf '%s' "$line" | wc -c >> ${log}`,
        '  case "$line" in include*)',
        `    wc -c < "$(printf '%s' "$line" | sed 's/^include "//; s/"$//')" >> ${log};;`,
        "  esac",
        '  if [ "$line" = "describe tcp dport" ]; then',
        "    echo 'payload expression, datatype inet_service (internet network service) (basetype integer), 16 bits'",
        "  fi",
        "done",
        "",
      ].join("\n"),
    );
    chmodSync(fake, 0o755);
    process.env.PATH = `${dir}:${savedPath ?? ""}`;
  });
  after(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  it("never writes a line longer than one pipe write: a long script is a file the line includes", async () => {
    const session = new NftSession();
    const long = Array.from(
      { length: 400 },
      (_, i) => `add element inet ringfence s { 10.0.${i >> 8}.${i & 255} }`,
    );
    await session.run(long.join("\n"));
    await session.run("add table inet ringfence");
    await session.close();
    const lines = readFileSync(log, "utf8").trim().split("\n").map(Number);
    // the include line, the size of the file it names, a marker; the short line, a marker
    assert.equal(lines.length, 5, lines.join(" "));
    const [include, file, , short] = lines as [number, number, number, number, number];
    assert.ok(include < 4096 && file > 4096, lines.join(" "));
    assert.ok(file >= long.join("\n").length, "the included file holds the whole script");
    assert.equal(short, "add table inet ringfence".length);
  });
});
