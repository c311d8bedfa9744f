// `ringfence server` as an operator starts it: what a failed start leaves behind, one server per
// data directory, the first key's account, the data directory's permissions, and arguments that
// are not the command's.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "ringfence-server-cli-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
const dataDir = () => join(scratch, `d${counter++}`);
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** The environment without any RINGFENCE_ key, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  for (const name of Object.keys(clean)) if (name.startsWith("RINGFENCE_")) delete clean[name];
  return { ...clean, ...extra };
}

const ringfence = (args: string[], extra: Record<string, string> = {}) =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", env: env(extra), timeout: 20_000 });

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A running server, once it says it listens; its output so far. */
async function started(
  dir: string,
  extra: Record<string, string> = {},
): Promise<{ child: ChildProcess; out: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN, "server", "--listen", `127.0.0.1:${port}`, "--data", dir], {
    env: env(extra),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      // the key block follows the first line in the same write or the next
      if (out.includes("listening on") && (out.includes("aws --endpoint-url") || !out.includes("Created")))
        resolve();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  return { child, out };
}

async function stopped(child: ChildProcess): Promise<void> {
  const exit = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exit;
}

describe("ringfence server", () => {
  test("a start that fails makes no key nobody was shown: a bad address touches nothing, a busy port stores no key", async () => {
    const dir = dataDir();
    const bad = ringfence(["server", "--listen", ":99999", "--data", dir]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--listen must be HOST:PORT/);
    assert.equal(existsSync(dir), false);
    for (const listen of ["[:4780", "127.0.0.1]:4780", "[::1:4780"]) {
      assert.equal(ringfence(["server", "--listen", listen, "--data", dir]).status, 2, listen);
    }

    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as { port: number };
    try {
      const r = ringfence(["server", "--listen", `127.0.0.1:${port}`, "--data", dir]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
    const keys = ringfence(["keys", "--data", dir]);
    assert.equal(keys.status, 0, keys.stderr);
    assert.match(keys.stdout, /no access keys yet/);
    // and the next start that succeeds shows the key it makes
    const { child, out } = await started(dir);
    assert.match(out, /Created the first access key/);
    await stopped(child);
  });

  test("one server per data directory: a second is refused while the first runs, and starts after it", async () => {
    const dir = dataDir();
    const first = await started(dir);
    const second = ringfence(["server", "--listen", `127.0.0.1:${await freePort()}`, "--data", dir]);
    assert.equal(second.status, 2);
    assert.match(second.stderr, /another ringfence server is running on the data directory/);
    // offline commands still read the directory beside the running server
    assert.equal(ringfence(["keys", "--data", dir]).status, 0);
    // kill -9 leaves no lock behind: the kernel drops it with the process
    const exit = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await exit;
    const again = await started(dir);
    assert.doesNotMatch(again.out, /Created/, "the stored key is used again");
    await stopped(again.child);
  });

  test("RINGFENCE_ACCOUNT_ID is the first key's account, and a start that contradicts it is refused", async () => {
    const dir = dataDir();
    const { child, out } = await started(dir, { RINGFENCE_ACCOUNT_ID: "333333333333" });
    assert.match(out, /Created the first access key \(account 333333333333\)/);
    await stopped(child);
    const other = ringfence(["server", "--listen", `127.0.0.1:${await freePort()}`, "--data", dir], {
      RINGFENCE_ACCOUNT_ID: "444444444444",
    });
    assert.equal(other.status, 2);
    assert.match(other.stderr, /no stored access key belongs to account 444444444444/);
    // as the refusal advises: a key of that account added, the start takes it
    assert.equal(ringfence(["keys", "add", "--account", "444444444444", "--data", dir]).status, 0);
    const taken = await started(dir, { RINGFENCE_ACCOUNT_ID: "444444444444" });
    assert.doesNotMatch(taken.out, /Created/);
    await stopped(taken.child);

    const given = dataDir();
    const keyEnv = { RINGFENCE_ACCESS_KEY_ID: "AKIDTEST1", RINGFENCE_SECRET_ACCESS_KEY: "s1" };
    const withKey = await started(given, { ...keyEnv, RINGFENCE_ACCOUNT_ID: "111111111111" });
    await stopped(withKey.child);
    const moved = ringfence(["server", "--listen", `127.0.0.1:${await freePort()}`, "--data", given], {
      ...keyEnv,
      RINGFENCE_ACCOUNT_ID: "222222222222",
    });
    assert.equal(moved.status, 2);
    assert.match(moved.stderr, /AKIDTEST1 is stored for account 111111111111, not 222222222222/);
  });

  test("the data directory, which holds the keys' secrets, is its owner's alone whatever the umask", async () => {
    const dir = dataDir();
    const { child } = await started(dir);
    await stopped(child);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, "ringfence.db")).mode & 0o777, 0o600);
  });
});

describe("arguments that are not the command's", () => {
  test("a stray word is refused, not ignored", () => {
    const dir = dataDir();
    const server = ringfence(["server", "127.0.0.1:4799", "--data", dir]);
    assert.equal(server.status, 2);
    assert.match(server.stderr, /Unexpected argument '127\.0\.0\.1:4799'/);
    assert.equal(existsSync(dir), false);
    const agents = ringfence(["agents", "revok", "i-0123456789abcdef0", "--data", dir]);
    assert.equal(agents.status, 2);
    assert.match(agents.stderr, /unknown agents subcommand 'revok'/);
    for (const args of [
      ["agent", "--bogus"],
      ["lab", "probe", "--bogus"],
      ["lab", "verify", "--bogus"],
    ]) {
      const r = ringfence(args);
      assert.equal(r.status, 2, args.join(" "));
      assert.match(
        r.stderr,
        new RegExp(`ringfence ${args.slice(0, -1).join(" ")}: Unknown option '--bogus'[^]*Usage:`),
      );
    }
    const token = ringfence(["agents", "token", "i-0123456789abcdef0", "i-0123456789abcdef1", "--data", dir]);
    assert.equal(token.status, 2);
    assert.match(token.stderr, /one instance id at a time/);
  });

  test("offline commands refuse a directory without data instead of making one", () => {
    const dir = dataDir();
    for (const args of [["keys"], ["agents"], ["agents", "token", "i-0123456789abcdef0"], ["keys", "add"]]) {
      const r = ringfence([...args, "--data", dir]);
      assert.notEqual(r.status, 0, args.join(" "));
      assert.match(r.stderr, /holds no ringfence data/, args.join(" "));
    }
    assert.equal(existsSync(dir), false);
  });

  test("--help after -- belongs to the command run, and no command at all is a usage error", () => {
    const r = ringfence(["lab", "exec", "i-0123456789abcdef0", "--", "ls", "--help"]);
    assert.doesNotMatch(r.stdout, /Usage: ringfence lab exec/);
    assert.notEqual(r.status, 0, "there is no such lab instance");
    const bare = ringfence([]);
    assert.equal(bare.status, 2);
    assert.equal(bare.stdout, "");
    assert.match(bare.stderr, /Usage: ringfence COMMAND/);
    assert.equal(ringfence(["--help"]).status, 0);
  });
});
