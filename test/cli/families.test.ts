// The CLI loads only the family of the chosen command; the table that says which family holds
// which command must agree with the commands themselves.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { FAMILIES } from "../../src/cli/families.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

describe("command families", () => {
  it("name the first word of every command of theirs, and no other family's", async () => {
    const owners = new Map<string, number>();
    for (const [index, family] of FAMILIES.entries()) {
      const firstWords = new Set((await family.load()).map((command) => command.name.split(" ")[0]));
      assert.deepEqual([...firstWords].sort(), [...family.words].sort());
      for (const word of family.words) {
        assert.equal(owners.get(word), undefined, `'${word}' is in two families`);
        owners.set(word, index);
      }
    }
  });

  it("`ringfence agent` starts without the control plane's storage", () => {
    // Printed at exit: the CommonJS modules the process loaded (better-sqlite3 is one).
    const probe = `data:text/javascript,${encodeURIComponent(
      'import { createRequire } from "node:module"; const r = createRequire(process.execPath); process.on("exit", () => console.error(JSON.stringify(Object.keys(r.cache))));',
    )}`;
    const loaded = (args: string[]) => {
      const run = spawnSync(process.execPath, ["--import", probe, MAIN, ...args], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stderr.trim().split("\n").at(-1) as string) as string[];
    };
    assert.ok(!loaded(["agent", "--help"]).some((path) => path.includes("better-sqlite3")));
    // The probe does see it where it is loaded: the server's family.
    assert.ok(loaded(["keys", "--help"]).some((path) => path.includes("better-sqlite3")));
  });

  it("`ringfence --help` still lists the commands of every family", () => {
    const run = spawnSync(process.execPath, [MAIN, "--help"], { encoding: "utf8" });
    assert.equal(run.status, 0);
    for (const name of ["server", "agents token", "can", "lint", "agent", "lab verify"]) {
      assert.match(run.stdout, new RegExp(`^  ${name} `, "m"));
    }
  });

  it("the first word of several commands lists them: `ringfence lab --help`, `ringfence lab`", () => {
    const help = spawnSync(process.execPath, [MAIN, "lab", "--help"], { encoding: "utf8" });
    assert.equal(help.status, 0);
    const listed = [...help.stdout.matchAll(/^ {2}(\S+ \S+) /gm)].map((m) => m[1]);
    assert.deepEqual(listed, ["lab exec", "lab probe", "lab verify", "lab down"]);
    const bare = spawnSync(process.execPath, [MAIN, "lab"], { encoding: "utf8" });
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /^ {2}lab verify /m);
    const unknown = spawnSync(process.execPath, [MAIN, "lab", "nosuch"], { encoding: "utf8" });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^ringfence: unknown command 'lab nosuch'$/m);
    assert.doesNotMatch(bare.stderr, /unknown command/);
  });
});
