// `ringfence agent` as a process: follows the controller protocol double and enforces inside a
// namespace this test creates (`rf-t-agt-*`); nft never runs in the machine's own namespace.

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ControllerProtocolDouble } from "./controller-double.js";
import { webPolicy } from "./policies.js";

const canRun = process.getuid?.() === 0 && spawnSync("nft", ["--version"]).status === 0;
const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

function listTable(netns: string): string {
  const r = spawnSync("ip", ["netns", "exec", netns, "nft", "list", "table", "inet", "ringfence"], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout : "";
}

let output = "";

async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent said:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("ringfence agent (process)", { skip: canRun ? false : "needs root and nft" }, () => {
  const netns = `rf-t-agt-${randomBytes(3).toString("hex")}`;
  const controller = new ControllerProtocolDouble(100);
  let stateDir = "";
  let child: ChildProcess | undefined;

  before(async () => {
    execFileSync("ip", ["netns", "add", netns]);
    stateDir = await mkdtemp(join(tmpdir(), "rf-agent-cli-"));
    controller.tokens.set("i-0123456789abcdef0", "secret-token");
    await controller.start();
  });

  after(async () => {
    child?.kill("SIGKILL");
    await controller.stop();
    spawnSync("ip", ["netns", "del", netns]);
    await rm(stateDir, { recursive: true, force: true });
  });

  it("enforces the streamed policy in the namespace, saves it, and leaves the table on SIGTERM", async () => {
    controller.publish("i-0123456789abcdef0", {
      ...webPolicy(["10.0.9.9"]),
      instanceId: "i-0123456789abcdef0",
    });
    child = spawn(
      process.execPath,
      [
        MAIN,
        "agent",
        "--controller",
        controller.url,
        "--instance-id",
        "i-0123456789abcdef0",
        "--netns",
        netns,
        "--state-dir",
        stateDir,
        "--repair-interval",
        "1",
      ],
      { env: { ...process.env, RINGFENCE_AGENT_TOKEN: "secret-token" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (b: Buffer) => {
      output += b.toString();
    });
    child.stderr?.on("data", (b: Buffer) => {
      output += b.toString();
    });
    await until("table in namespace", () => /elements = \{ 10\.0\.9\.9 \}/.test(listTable(netns)));
    await until("status report", () => controller.statuses.some((s) => s.status.appliedRevision === 1));

    controller.publish("i-0123456789abcdef0", {
      ...webPolicy(["10.0.9.9", "10.0.9.44"]),
      instanceId: "i-0123456789abcdef0",
    });
    await until("membership delta", () => /10\.0\.9\.44/.test(listTable(netns)));

    execFileSync("ip", ["netns", "exec", netns, "nft", "flush", "table", "inet", "ringfence"]);
    await until("drift repaired", () => /comment "sgr-ssh"/.test(listTable(netns)));

    const saved = JSON.parse(await readFile(join(stateDir, "policy.json"), "utf8")) as { revision: number };
    assert.equal(saved.revision, 2);

    const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exited, 0, output);
    assert.match(listTable(netns), /comment "sgr-ssh"/, "the table stays when the agent stops");
    assert.match(output, /"kind":"applied"/);
  });
});
