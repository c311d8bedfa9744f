import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { execInNamespace, ipBatch, listNamespaces } from "../../src/lab/iproute.js";
import { instanceNamespace } from "../../src/lab/names.js";
import { sweepLabNamespaces } from "../../src/lab/network.js";
import { labId } from "./estate-builder.js";
import { LabServer, type LaunchedInstance } from "./server-harness.js";

// The `ringfence lab` commands as a user runs them, against a server running the lab.

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

function ringfence(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe("ringfence lab commands (root, server with the lab)", () => {
  let lab: LabServer;
  let env: Record<string, string>;
  let web: LaunchedInstance;
  let client: LaunchedInstance;
  let vpc: string;

  before(async () => {
    lab = await LabServer.start();
    env = {
      RINGFENCE_ACCESS_KEY_ID: lab.server.accessKeyId,
      RINGFENCE_SECRET_ACCESS_KEY: lab.server.secretAccessKey,
      AWS_DEFAULT_REGION: lab.server.region,
    };
    vpc = await lab.vpc("10.14.0.0/16");
    const subnet = await lab.subnet(vpc, "10.14.1.0/24");
    const webGroup = await lab.group(vpc, "web");
    const clientGroup = await lab.group(vpc, "client");
    await lab.ec2(
      "authorize-security-group-ingress",
      "--group-id",
      webGroup,
      "--protocol",
      "tcp",
      "--port",
      "80",
      "--cidr",
      "10.14.0.0/16",
    );
    [web] = (await lab.launch(subnet, [webGroup])) as [LaunchedInstance];
    [client] = (await lab.launch(subnet, [clientGroup])) as [LaunchedInstance];
  });
  after(async () => {
    await lab?.close();
  });

  it("lab exec runs a command in the instance's namespace and passes its exit code", async () => {
    const shown = await ringfence([
      "lab",
      "exec",
      web.id,
      "--",
      "ip",
      "-o",
      "-4",
      "addr",
      "show",
      "dev",
      "eth0",
    ]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(shown.stdout.includes(`inet ${web.ip}/24`), shown.stdout);
    assert.equal((await ringfence(["lab", "exec", web.id, "--", "sh", "-c", "exit 3"])).code, 3);
  });

  it("lab exec refuses an unknown instance and a missing command", async () => {
    const unknown = await ringfence(["lab", "exec", "i-00000000000000000", "--", "true"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no lab namespace/);
    assert.equal((await ringfence(["lab", "exec", web.id])).code, 2);
    // a VPC router's namespace is the lab's too, but no instance
    const router = await ringfence(["lab", "exec", vpc, "--", "true"]);
    assert.equal(router.code, 2);
    assert.match(router.stderr, /not an instance id/);
  });

  it("lab exec passes a TERM on to its command", async () => {
    const child = spawn(process.execPath, [MAIN, "lab", "exec", web.id, "--", "sleep", "31.4159"], {
      stdio: "ignore",
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    assert.ok(Date.now() - started < 5000);
    assert.equal(code, 128 + 15, "the command ended by the TERM, and the exit code says so");
    // process ids are the machine's, not the namespace's: look for this very command
    const left = await execInNamespace(instanceNamespace(web.id), [
      "sh",
      "-c",
      "pgrep -f 'sleep 31[.]4159' || true",
    ]);
    assert.equal(left.stdout.trim(), "", "the command is not left running");
  });

  it("lab probe prints open with exit 0 and blocked with exit 1", async () => {
    const open = await ringfence(
      ["lab", "probe", client.id, web.id, "tcp/80", "--endpoint", lab.server.url],
      env,
    );
    assert.equal(open.code, 0, open.stderr);
    assert.match(open.stdout, /tcp\/80: open/);
    const blocked = await ringfence(
      ["lab", "probe", client.id, web.id, "tcp/81", "--endpoint", lab.server.url],
      env,
    );
    assert.equal(blocked.code, 1, blocked.stderr);
    assert.match(blocked.stdout, /tcp\/81: blocked/);
    const bad = await ringfence(
      ["lab", "probe", client.id, web.id, "tcp/0", "--endpoint", lab.server.url],
      env,
    );
    assert.equal(bad.code, 2);
  });

  it("lab probe needs credentials", async () => {
    const result = await ringfence([
      "lab",
      "probe",
      client.id,
      web.id,
      "tcp/80",
      "--endpoint",
      lab.server.url,
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /credentials/);
  });

  it("lab verify agrees with the evaluator, and reports drift in a kernel as mismatches", async () => {
    const clean = await ringfence(
      ["lab", "verify", "--ports", "tcp/80,tcp/22", "--json", "--endpoint", lab.server.url],
      env,
    );
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    const report = JSON.parse(clean.stdout.trim().split("\n").pop() ?? "{}");
    assert.equal(report.mismatches, 0);
    assert.equal(report.cells.length, 2 * 2, "two ordered pairs, two ports, IPv4 only");
    const webCell = report.cells.find(
      (c: { source: string; target: string }) => c.source === client.id && c.target === "tcp/80",
    );
    assert.equal(webCell.expected, "open");
    assert.equal(webCell.actual, "open");

    // Someone removes the firewall of the client by hand: now it accepts what policy forbids.
    await execInNamespace(instanceNamespace(client.id), ["nft", "delete", "table", "inet", "ringfence"]);
    const drifted = await ringfence(
      ["lab", "verify", "--ports", "tcp/80,tcp/22", "--endpoint", lab.server.url],
      env,
    );
    assert.equal(drifted.code, 1);
    assert.match(drifted.stdout, /MISMATCH .* -> .*tcp\/(80|22): expected blocked, got open/);
  });

  // last: it removes this file's lab too
  it("the lab sweep removes every lab namespace and nothing else", async () => {
    const id = labId("sweep");
    const swept = [`rf-i-${id}`, `rf-vpc-${id}`];
    const other = `rf-t-${id}`;
    await ipBatch(
      undefined,
      [...swept, other].map((n) => `netns add ${n}`),
    );
    try {
      const removed = await sweepLabNamespaces();
      for (const n of [...swept, instanceNamespace(web.id)]) assert.ok(removed.includes(n), n);
      assert.ok(!removed.includes(other));
      const left = await listNamespaces();
      assert.ok(left.includes(other), "a namespace that is not the lab's stays");
      assert.ok(!left.some((n) => swept.includes(n)));
      // the server's instances still run, without namespaces: verify says so and fails
      const gone = await ringfence(
        ["lab", "verify", "--ports", "tcp/80", "--json", "--endpoint", lab.server.url],
        env,
      );
      assert.equal(gone.code, 1, gone.stdout + gone.stderr);
      const report = JSON.parse(gone.stdout.trim().split("\n").pop() ?? "{}");
      assert.deepEqual([...report.missing].sort(), [client.id, web.id].sort());
      assert.deepEqual(report.cells, []);
      assert.deepEqual(report.skipped, []);
    } finally {
      await ipBatch(undefined, [`netns del ${other}`]);
    }
  });
});
