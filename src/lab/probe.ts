import { type ChildProcessByStdio, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { ProbeReply, ProbeRequest } from "./probe-agent.js";

// Probes with real packets between lab namespaces. A Prober keeps one probe agent process per
// namespace it has used (listeners stay open between probes) and asks them to listen, connect,
// ping, or hold a connection open to test what happens to established flows.

export type ProbeProtocol = "tcp" | "udp" | "icmp";

export interface ProbeTarget {
  readonly protocol: ProbeProtocol;
  /** Port for tcp/udp; ignored for icmp (echo request). */
  readonly port: number;
}

export type ProbeResult = "open" | "blocked";

export const DEFAULT_PROBE_TIMEOUT_MS = 300;

/** `tcp/3306`, `udp/53`, `icmp` (echo). */
export function parseProbeTarget(text: string): ProbeTarget | undefined {
  const match = /^(tcp|udp|icmp)(?:\/(\d{1,5}))?$/.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const protocol = match[1] as ProbeProtocol;
  // a probe's ICMP is an echo request: icmp/8 as the analysis writes it over IPv4 (over IPv6 the
  // probe sends ICMPv6's echo request, type 128, whichever way it is written)
  if (protocol === "icmp")
    return match[2] === undefined || match[2] === "8" ? { protocol, port: -1 } : undefined;
  const port = Number(match[2]);
  if (match[2] === undefined || port < 1 || port > 65535) return undefined;
  return { protocol, port };
}

export function formatProbeTarget(target: ProbeTarget): string {
  return target.protocol === "icmp" ? "icmp" : `${target.protocol}/${target.port}`;
}

type Pending = (reply: ProbeReply) => void;
type Request = ProbeRequest extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;

/** iproute2 keeps a named namespace as a bind mount here; its inode identifies the namespace. */
function namespaceInode(namespace: string): number {
  try {
    return statSync(`/run/netns/${namespace}`).ino;
  } catch {
    throw new Error(`no lab namespace ${namespace}`);
  }
}

const AGENT_SCRIPT = fileURLToPath(new URL("./probe-agent.js", import.meta.url));

/** One probe agent process running inside one namespace. */
export class ProbeAgent {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly ready: Promise<void>;
  private exited = false;
  private stderr = "";

  constructor(
    readonly namespace: string,
    /** Identity of the namespace it entered: a namespace re-created under the same name differs. */
    readonly namespaceInode: number,
  ) {
    this.child = spawn("ip", ["netns", "exec", namespace, process.execPath, AGENT_SCRIPT], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => {
      this.stderr += d;
    });
    this.child.stdin.on("error", () => {});
    let started: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    this.ready.catch(() => {});
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as ProbeReply;
      if (message.id === 0) started();
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
    });
    this.child.on("close", (code) => {
      this.exited = true;
      const error = new Error(`probe agent in ${namespace} exited (${code}): ${this.stderr.trim()}`);
      failed(error);
      for (const settle of this.pending.values()) settle({ id: -1, error: error.message });
      this.pending.clear();
    });
  }

  async request(request: Request): Promise<ProbeReply> {
    await this.ready;
    if (this.exited) throw new Error(`probe agent in ${this.namespace} has exited`);
    const id = this.nextId++;
    const reply = await new Promise<ProbeReply>((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
    if (reply.error !== undefined) throw new Error(`probe in ${this.namespace}: ${reply.error}`);
    return reply;
  }

  get alive(): boolean {
    return !this.exited;
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("close", () => resolve());
      this.child.stdin.end();
    });
  }
}

/** A connection held open from one namespace to another, to watch what a rule change does to it. */
export interface HeldConnection {
  /** One echo round trip on the existing connection. */
  exchange(timeoutMs?: number): Promise<ProbeResult>;
  /** The listener's side writes on the connection (it speaks first, as a download would). */
  serverSends(): Promise<void>;
  release(): Promise<void>;
}

/** The probe cannot listen on its port in the destination: another program there holds it. */
export class PortHeldError extends Error {
  constructor(
    readonly namespace: string,
    readonly target: ProbeTarget,
  ) {
    super(
      `${formatProbeTarget(target)} is held by another program in ${namespace}: the probe needs its own listener there`,
    );
  }
}

export class Prober {
  private readonly agents = new Map<string, ProbeAgent>();

  constructor(readonly timeoutMs: number = DEFAULT_PROBE_TIMEOUT_MS) {}

  /**
   * The agent running in `namespace`. An agent whose namespace was deleted and created again under
   * the same name (an instance stopped and started) still lives in the old one, so it is replaced.
   */
  agent(namespace: string): ProbeAgent {
    const inode = namespaceInode(namespace);
    let agent = this.agents.get(namespace);
    if (!agent?.alive || agent.namespaceInode !== inode) {
      void agent?.close();
      agent = new ProbeAgent(namespace, inode);
      this.agents.set(namespace, agent);
    }
    return agent;
  }

  /** Opens a listener for `target` in `namespace` (nothing to do for icmp: the kernel answers). */
  async listen(namespace: string, target: ProbeTarget): Promise<void> {
    if (target.protocol === "icmp") return;
    try {
      await this.agent(namespace).request({ op: "listen", proto: target.protocol, port: target.port });
    } catch (error) {
      if (!String(error instanceof Error ? error.message : error).includes("EADDRINUSE")) throw error;
      throw new PortHeldError(namespace, target);
    }
  }

  /**
   * Tries `target` from `source` to `address` (which lives in `destination`, where a listener is
   * opened first) and reports whether a full request/response exchange completed in time.
   */
  async probe(
    source: string,
    destination: string,
    address: string,
    target: ProbeTarget,
    timeoutMs: number = this.timeoutMs,
  ): Promise<ProbeResult> {
    await this.listen(destination, target);
    const agent = this.agent(source);
    const reply =
      target.protocol === "icmp"
        ? await agent.request({ op: "ping", host: address, timeoutMs })
        : await agent.request({
            op: "connect",
            proto: target.protocol,
            host: address,
            port: target.port,
            timeoutMs,
          });
    return reply.open ? "open" : "blocked";
  }

  /** Opens a TCP connection and keeps it; undefined when it could not be opened. */
  async hold(
    source: string,
    destination: string,
    address: string,
    port: number,
    timeoutMs: number = this.timeoutMs,
  ): Promise<HeldConnection | undefined> {
    await this.listen(destination, { protocol: "tcp", port });
    const agent = this.agent(source);
    const reply = await agent.request({ op: "hold", host: address, port, timeoutMs });
    const conn = reply.conn;
    if (!reply.open || conn === undefined) return undefined;
    return {
      exchange: async (ms = this.timeoutMs) =>
        (await agent.request({ op: "send", conn, timeoutMs: ms })).open ? "open" : "blocked",
      serverSends: async () => {
        const pushed = await this.agent(destination).request({ op: "push", port });
        if (pushed.error) throw new Error(`push on port ${port} in ${destination}: ${pushed.error}`);
      },
      release: async () => {
        await agent.request({ op: "release", conn });
      },
    };
  }

  /** Stops the agent of a namespace that is about to go away. */
  async forget(namespace: string): Promise<void> {
    const agent = this.agents.get(namespace);
    this.agents.delete(namespace);
    await agent?.close();
  }

  async close(): Promise<void> {
    const agents = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(agents.map((a) => a.close()));
  }
}
