// `npm run bench -- api`: the control plane in its own process, a load generator on loopback.
// Throughput and latency of AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress and
// DescribeSecurityGroups over 1,000 groups with 10 rules each, and the server's resident memory.

import { type ChildProcess, spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { BenchOptions } from "./main.js";

const CLI = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const KEY = { id: "AKRFBENCHMARK0000001", secret: "benchmark-secret" };
const REGION = "us-east-1";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();
const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");

/** A minimal SigV4 signer for form POSTs to `/`, so the generator spends its time on requests. */
class Signer {
  private key?: { date: string; key: Buffer };
  sign(host: string, body: string): Record<string, string> {
    const amzDate = new Date()
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d{3}/, "");
    const date = amzDate.slice(0, 8);
    if (this.key?.date !== date) {
      this.key = {
        date,
        key: hmac(hmac(hmac(hmac(`AWS4${KEY.secret}`, date), REGION), "ec2"), "aws4_request"),
      };
    }
    const contentType = "application/x-www-form-urlencoded; charset=utf-8";
    const canonical = [
      "POST",
      "/",
      "",
      `content-type:${contentType}\nhost:${host}\nx-amz-date:${amzDate}\n`,
      "content-type;host;x-amz-date",
      sha256(body),
    ].join("\n");
    const scope = `${date}/${REGION}/ec2/aws4_request`;
    const signature = createHmac("sha256", this.key.key)
      .update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`)
      .digest("hex");
    return {
      "content-type": contentType,
      "x-amz-date": amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${KEY.id}/${scope}, SignedHeaders=content-type;host;x-amz-date, Signature=${signature}`,
    };
  }
}

/**
 * A keep-alive HTTP/1.1 client on raw sockets, one request at a time per connection, in the manner
 * of wrk: node's http client costs the generator more CPU per request than the server spends on
 * it, and both share this machine's two cores.
 */
class Connection {
  private readonly socket: Socket;
  private chunks: Buffer[] = [];
  private received = 0;
  /** Of the response being read, once its head is in: where its body starts, and its length. */
  private frame?: { bodyStart: number; length: number; status: number };
  private waiting?: { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void };

  constructor(port: number) {
    this.socket = connect({ host: "127.0.0.1", port, noDelay: true });
    this.socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.received += chunk.length;
      this.deliver();
    });
    this.socket.on("error", (error) => this.waiting?.reject(error));
    this.socket.on("close", () => this.waiting?.reject(new Error("connection closed by the server")));
  }

  send(request: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(request);
    });
  }

  /** Completes the waiting request once its whole response (Content-Length framed) is in. */
  private deliver(): void {
    if (!this.waiting) return;
    if (!this.frame) {
      const joined = this.joined();
      const headEnd = joined.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      const head = joined.toString("latin1", 0, headEnd);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1]);
      if (!Number.isInteger(length)) {
        this.waiting.reject(new Error(`response without Content-Length: ${head.slice(0, 200)}`));
        return;
      }
      this.frame = { bodyStart: headEnd + 4, length, status: Number(head.slice(9, 12)) };
    }
    const { bodyStart, length, status } = this.frame;
    if (this.received < bodyStart + length) return;
    const joined = this.joined();
    const body = joined.toString("utf8", bodyStart, bodyStart + length);
    const rest = joined.subarray(bodyStart + length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.received = rest.length;
    this.frame = undefined;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.resolve({ status, body });
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  close(): void {
    this.socket.destroy();
  }
}

class Client {
  private readonly idle: Connection[] = [];
  private readonly all: Connection[] = [];
  private readonly signer = new Signer();
  private readonly host: string;
  constructor(private readonly port: number) {
    this.host = `127.0.0.1:${port}`;
  }

  async call(params: Record<string, string>): Promise<string> {
    const body = new URLSearchParams({ Version: "2016-11-15", ...params }).toString();
    const headers = this.signer.sign(this.host, body);
    const request = `POST / HTTP/1.1\r\nhost: ${this.host}\r\ncontent-type: ${headers["content-type"]}\r\nx-amz-date: ${headers["x-amz-date"]}\r\nauthorization: ${headers.authorization}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    let connection = this.idle.pop();
    if (!connection) {
      connection = new Connection(this.port);
      this.all.push(connection);
    }
    const { status, body: text } = await connection.send(request);
    this.idle.push(connection);
    if (status !== 200) throw new Error(`${params.Action} → ${status}: ${text.slice(0, 300)}`);
    return text;
  }

  close(): void {
    for (const connection of this.all) connection.close();
  }
}

interface Measured {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU time the server process spent per request (user + system), in microseconds. */
  serverCpuUs: number;
  /** The same for this load generator, which shares the machine with the server. */
  clientCpuUs: number;
}

/** CPU seconds a process has used so far, from /proc (clock ticks are 100 Hz on Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function measure(
  serverPid: number,
  count: number,
  concurrency: number,
  one: (i: number) => Promise<unknown>,
): Promise<Measured> {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = cpuSeconds(serverPid);
  const clientBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t = process.hrtime.bigint();
        await one(i);
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const serverCpuUs = ((cpuSeconds(serverPid) - cpuBefore) * 1e6) / count;
  const clientUsage = process.cpuUsage(clientBefore);
  const clientCpuUs = (clientUsage.user + clientUsage.system) / count;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
  return {
    requests: count,
    seconds,
    perSecond: count / seconds,
    p50: at(0.5),
    p99: at(0.99),
    serverCpuUs,
    clientCpuUs,
  };
}

function residentMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

async function startServerProcess(port: number, dataDir: string, profileDir?: string): Promise<ChildProcess> {
  const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
  const child = spawn(
    process.execPath,
    [...profile, CLI, "server", "--data", dataDir, "--listen", `127.0.0.1:${port}`],
    {
      env: { ...process.env, RINGFENCE_ACCESS_KEY_ID: KEY.id, RINGFENCE_SECRET_ACCESS_KEY: KEY.secret },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return child;
}

export async function run(options: BenchOptions): Promise<void> {
  const { values } = parseArgs({
    args: options.args,
    options: {
      groups: { type: "string", default: "1000" },
      rules: { type: "string", default: "10" },
      writes: { type: "string", default: "5000" },
      describes: { type: "string", default: "200" },
      // Uncounted authorizations (and their revokes) first, so the measured phases see a warm server.
      warmup: { type: "string", default: "2000" },
      concurrency: { type: "string", default: "16" },
      // Writes a V8 CPU profile of the server into this directory.
      profile: { type: "string" },
    },
  });
  const groups = Number(values.groups);
  const rulesPerGroup = Number(values.rules);
  const writes = Number(values.writes);
  const describes = Number(values.describes);
  const warmup = Number(values.warmup);
  const concurrency = Number(values.concurrency);
  const dataDir = mkdtempSync(join(tmpdir(), "ringfence-bench-api-"));
  const port = await freePort();
  const server = await startServerProcess(port, dataDir, values.profile);
  const client = new Client(port);
  const pid = server.pid as number;
  const log = (line: string) => {
    if (!options.json) console.log(line);
  };
  try {
    log(`setting up ${groups} groups with ${rulesPerGroup} rules each...`);
    const groupIds: string[] = [];
    await measure(pid, groups, concurrency, async (i) => {
      const xml = await client.call({
        Action: "CreateSecurityGroup",
        GroupName: `bench-${i}`,
        GroupDescription: "benchmark",
      });
      groupIds[i] = /<groupId>([^<]+)<\/groupId>/.exec(xml)?.[1] as string;
    });
    await measure(pid, groups, concurrency, async (i) => {
      const params: Record<string, string> = {
        Action: "AuthorizeSecurityGroupIngress",
        GroupId: groupIds[i] as string,
      };
      for (let r = 0; r < rulesPerGroup; r++) {
        params[`IpPermissions.${r + 1}.IpProtocol`] = "tcp";
        params[`IpPermissions.${r + 1}.FromPort`] = String(1000 + r);
        params[`IpPermissions.${r + 1}.ToPort`] = String(1000 + r);
        params[`IpPermissions.${r + 1}.IpRanges.1.CidrIp`] = `10.${r}.0.0/16`;
      }
      await client.call(params);
    });
    const rssAfterSetup = residentMb(server.pid as number);

    const permissionOn = (firstPort: number) => (i: number) => ({
      GroupId: groupIds[i % groups] as string,
      "IpPermissions.1.IpProtocol": "tcp",
      "IpPermissions.1.FromPort": String(firstPort + Math.floor(i / groups)),
      "IpPermissions.1.ToPort": String(firstPort + Math.floor(i / groups)),
      "IpPermissions.1.IpRanges.1.CidrIp": "192.0.2.0/24",
    });
    // The first requests of a new shape run before the JIT has optimised their path; a server
    // runs for days, so the phases are measured after it has seen this shape. The estate is
    // back to its size afterwards.
    const warm = permissionOn(40000);
    await measure(pid, warmup, concurrency, (i) =>
      client.call({ Action: "AuthorizeSecurityGroupIngress", ...warm(i) }),
    );
    await measure(pid, warmup, concurrency, (i) =>
      client.call({ Action: "RevokeSecurityGroupIngress", ...warm(i) }),
    );
    const permission = permissionOn(20000);
    const authorize = await measure(pid, writes, concurrency, (i) =>
      client.call({ Action: "AuthorizeSecurityGroupIngress", ...permission(i) }),
    );
    // Latency of one client asking for everything, as an operator's `aws ec2 describe-security-groups`.
    const describe = await measure(pid, describes, 1, () =>
      client.call({ Action: "DescribeSecurityGroups" }),
    );
    const revoke = await measure(pid, writes, concurrency, (i) =>
      client.call({ Action: "RevokeSecurityGroupIngress", ...permission(i) }),
    );
    const memory = residentMb(server.pid as number);

    const rows = [
      ["AuthorizeSecurityGroupIngress", authorize],
      ["RevokeSecurityGroupIngress", revoke],
      [`DescribeSecurityGroups (all ${groups}, 1 client)`, describe],
    ] as const;
    log("");
    log(
      `ringfence control plane, ${groups} groups x ${rulesPerGroup} rules, concurrency ${concurrency}, SQLite WAL, measured after ${warmup} uncounted authorize/revoke pairs`,
    );
    log("");
    log(
      `${"action".padEnd(48)}${"requests".padStart(10)}${"req/s".padStart(10)}${"p50 ms".padStart(10)}${"p99 ms".padStart(10)}${"server CPU µs/req".padStart(19)}${"client CPU µs/req".padStart(19)}`,
    );
    for (const [name, m] of rows) {
      log(
        `${name.padEnd(48)}${String(m.requests).padStart(10)}${m.perSecond.toFixed(0).padStart(10)}${m.p50.toFixed(2).padStart(10)}${m.p99.toFixed(2).padStart(10)}${m.serverCpuUs.toFixed(0).padStart(19)}${m.clientCpuUs.toFixed(0).padStart(19)}`,
      );
    }
    log("");
    log(
      `server resident memory: ${memory.rss.toFixed(1)} MB now, ${memory.peak.toFixed(1)} MB peak (${rssAfterSetup.rss.toFixed(1)} MB after setup)`,
    );
    log(
      `aims: >= 5000 authorizations/s -> ${authorize.perSecond >= 5000 ? "met" : "not met"}; describe p99 < 50 ms -> ${describe.p99 < 50 ? "met" : "not met"}; < 150 MB -> ${memory.peak < 150 ? "met" : "not met"}`,
    );
    if (options.json) {
      console.log(
        JSON.stringify({
          bench: "api",
          groups,
          rulesPerGroup,
          concurrency,
          authorize,
          revoke,
          describe,
          serverRssMb: memory.rss,
          serverPeakRssMb: memory.peak,
        }),
      );
    }
  } finally {
    client.close();
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
