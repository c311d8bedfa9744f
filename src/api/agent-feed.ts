// The controller side of the agent protocol (docs/agent.md): a long-lived NDJSON stream of the
// host policy of one instance, and status reports, authenticated by per-instance bearer tokens.
//
// GET  /ringfence/v1/agents/{instanceId}/policy[?watch=true]  → {"revision", "policy"} lines
// POST /ringfence/v1/agents/{instanceId}/status                ← {"appliedRevision", "healthy", ...}
//
// The feed shows agents only what is on disk: it reads when the store has settled, and labels what
// it sends with the revision it read at. After a change it walks the watched instances of the
// region once, on one snapshot, computing each instance's policy once however many streams follow
// it, and sends it only to streams whose policy changed; the walk yields to the event loop as it
// goes, so API requests are not held up behind a large fleet. A stream that does not read keeps
// at most one unsent policy, the newest: a slow agent costs memory for one policy, not one per
// change, and one that stops reading for six heartbeats is cut off and reconnects.

import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { hostPolicyFor } from "../compile/host-policy.js";
import type { Estate } from "../model/estate.js";
import { estateOf } from "../store/estate.js";
import type { AgentStatus, Change, SqliteStore } from "../store/sqlite-store.js";

const ROUTE = /^\/ringfence\/v1\/agents\/(i-[0-9a-f]{8,17})\/(policy|status)$/;
export const HEARTBEAT_MS = 10_000;
const MAX_STATUS_BYTES = 16 * 1024;
/** Streams one instance may hold open; a new one beyond this closes the oldest (a reconnecting agent's dead stream). */
export const MAX_STREAMS_PER_INSTANCE = 4;
/** A stream whose socket has not drained for this many heartbeats is closed. */
const STALLED_HEARTBEATS = 6;
/** How long a walk over the watched instances runs before it lets other work in. */
const SLICE_MS = 5;

interface Watcher {
  readonly instanceId: string;
  readonly region: string;
  readonly tokenDigest: string;
  readonly res: ServerResponse;
  /** JSON of the last policy sent or waiting to be sent, to send only changes. */
  sent?: string;
  /** The revision of that policy: the stream is current at least as of it. */
  revision: number;
  /** Since when the socket's buffer has been full; undefined while it drains. */
  stalledSince?: number;
  /** The newest policy line not yet written because the socket was full. */
  backlog?: string;
}

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

/** A stream line carrying a policy (its JSON text) as of a revision. */
const policyLine = (revision: number, policy: string) => `{"revision":${revision},"policy":${policy}}\n`;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class AgentFeed {
  private readonly watchers = new Map<string, Watcher[]>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  /** The estate of each region as on disk, built on demand while the store is settled. */
  private readonly estates = new Map<string, Estate>();
  /** Regions changed since their watchers were last sent their policies. */
  private readonly dirty = new Set<string>();
  private walking = false;
  /** Every change up to this revision has reached every stream. */
  private deliveredRevision: number;

  constructor(
    private readonly store: SqliteStore,
    private readonly heartbeatMs = HEARTBEAT_MS,
  ) {
    this.deliveredRevision = store.revision;
    this.unsubscribe = store.onChange((change) => this.onChange(change));
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
  }

  /** The region's estate as on disk; call only while the store is settled. */
  private estate(region: string): Estate {
    let estate = this.estates.get(region);
    if (!estate) {
      estate = estateOf(this.store.view(), region);
      this.estates.set(region, estate);
    }
    return estate;
  }

  private onChange(change: Change): void {
    this.estates.delete(change.region);
    this.dirty.add(change.region);
    void this.walk();
  }

  /** Sends the changed policies of every dirty region, until none is left. */
  private async walk(): Promise<void> {
    if (this.walking) return;
    this.walking = true;
    try {
      while (this.dirty.size > 0) {
        await this.store.settled();
        const regions = [...this.dirty];
        this.dirty.clear();
        const revision = this.store.revision;
        const watched = new Set([...this.watchers.values()].map((streams) => streams[0]?.region));
        // every snapshot is taken now, while the store is settled; the walk below may yield
        const snapshots = new Map(
          regions.filter((region) => watched.has(region)).map((region) => [region, this.estate(region)]),
        );
        let slice = performance.now();
        for (const instanceId of [...this.watchers.keys()]) {
          // looked up again at each step: streams open and close while the walk yields
          const streams = this.watchers.get(instanceId) ?? [];
          const estate = snapshots.get(streams[0]?.region as string);
          if (!estate) continue;
          try {
            this.send(streams, instanceId, estate, revision);
          } catch {
            // a policy that cannot be computed must not stop the others: its streams end, and
            // their agents' next request answers with the error
            for (const watcher of streams) this.endStream(watcher);
          }
          if (performance.now() - slice > SLICE_MS) {
            await yieldToEventLoop();
            slice = performance.now();
          }
        }
        this.deliveredRevision = Math.max(this.deliveredRevision, revision);
      }
    } finally {
      this.walking = false;
    }
  }

  /** The instance's policy in `estate` (read at `revision`) to each of its streams that lacks it. */
  private send(streams: readonly Watcher[], instanceId: string, estate: Estate, revision: number): void {
    const waiting = streams.filter((w) => w.revision < revision);
    if (waiting.length === 0) return;
    const policy = hostPolicyFor(estate, instanceId);
    if (!policy) {
      // The instance is gone: the agent keeps its last table and learns it from the end of the stream.
      for (const watcher of waiting) this.endStream(watcher);
      return;
    }
    const text = JSON.stringify(policy);
    for (const watcher of waiting) {
      watcher.revision = revision;
      if (text === watcher.sent) continue;
      watcher.sent = text;
      this.write(watcher, policyLine(revision, text), true);
    }
  }

  /** Writes a line unless the socket is full; then only the newest policy line is kept for later. */
  private write(watcher: Watcher, line: string, isPolicy: boolean): void {
    if (watcher.stalledSince !== undefined) {
      if (isPolicy) watcher.backlog = line;
      return;
    }
    if (watcher.res.write(line)) return;
    watcher.stalledSince = Date.now();
    watcher.res.once("drain", () => {
      watcher.stalledSince = undefined;
      const backlog = watcher.backlog;
      watcher.backlog = undefined;
      if (backlog !== undefined) this.write(watcher, backlog, true);
    });
  }

  private beat(): void {
    const now = Date.now();
    for (const streams of [...this.watchers.values()]) {
      for (const watcher of streams) {
        if (
          watcher.stalledSince !== undefined &&
          now - watcher.stalledSince > STALLED_HEARTBEATS * this.heartbeatMs
        ) {
          watcher.res.destroy();
          continue;
        }
        // a token removed while its stream is open (ringfence agents revoke) closes the stream
        if (this.store.agentTokenInstance(watcher.tokenDigest) !== watcher.instanceId) {
          this.endStream(watcher);
          continue;
        }
        const revision = Math.max(this.deliveredRevision, watcher.revision);
        this.write(watcher, `{"revision":${revision}}\n`, false);
      }
    }
  }

  private add(watcher: Watcher): void {
    const streams = [...(this.watchers.get(watcher.instanceId) ?? []), watcher];
    this.watchers.set(watcher.instanceId, streams.slice(-MAX_STREAMS_PER_INSTANCE));
    for (const old of streams.slice(0, -MAX_STREAMS_PER_INSTANCE)) this.finish(old);
  }

  private remove(watcher: Watcher): void {
    const streams = this.watchers.get(watcher.instanceId);
    if (!streams) return;
    const left = streams.filter((w) => w !== watcher);
    if (left.length > 0) this.watchers.set(watcher.instanceId, left);
    else this.watchers.delete(watcher.instanceId);
  }

  private endStream(watcher: Watcher): void {
    this.remove(watcher);
    this.finish(watcher);
  }

  /**
   * Ends a stream that is no longer followed. Its end cannot go out while the client does not
   * read, and nothing watches it any more: a stalled one is cut now, and any other that has not
   * finished within the stall allowance is cut then, so no client holds sockets and buffers by
   * not reading.
   */
  private finish(watcher: Watcher): void {
    const res = watcher.res;
    if (watcher.stalledSince !== undefined) {
      res.destroy();
      return;
    }
    res.end();
    if (res.writableFinished) return;
    const cut = setTimeout(() => res.destroy(), STALLED_HEARTBEATS * this.heartbeatMs);
    cut.unref();
    res.once("finish", () => clearTimeout(cut));
    res.once("close", () => clearTimeout(cut));
  }

  /** The token's digest when it opens the instance, or the HTTP status that refuses it. */
  private authorise(req: IncomingMessage, instanceId: string): { digest: string } | 401 | 403 {
    const header = req.headers.authorization ?? "";
    // the scheme is case-insensitive (RFC 9110, 11.1)
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return 401;
    const digest = tokenDigest(match[1] as string);
    const owner = this.store.agentTokenInstance(digest);
    if (!owner) return 401;
    return owner === instanceId ? { digest } : 403;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = ROUTE.exec(url.pathname);
    if (!route) return json(res, 404, { error: "no such endpoint" });
    const [, instanceId, what] = route as unknown as [string, string, "policy" | "status"];
    const allowed = this.authorise(req, instanceId);
    if (typeof allowed === "number") {
      return json(res, allowed, {
        error: allowed === 401 ? "missing or unknown agent token" : "the token belongs to another instance",
      });
    }
    await this.store.settled();
    const instance = this.store.view().get("instance", instanceId);
    if (!instance) return json(res, 404, { error: `no instance ${instanceId}` });
    if (instance.state === "terminated" || instance.state === "shutting-down") {
      return json(res, 404, { error: `instance ${instanceId} is terminated` });
    }
    if (what === "status") return this.receiveStatus(req, res, instanceId);
    if (req.method !== "GET") return json(res, 405, { error: "use GET" });
    // still settled: nothing above waited since settled() resolved
    const revision = this.store.revision;
    const policy = hostPolicyFor(this.estate(instance.region), instanceId);
    if (!policy) return json(res, 404, { error: `instance ${instanceId} has no interfaces to enforce` });
    if (url.searchParams.get("watch") !== "true") return json(res, 200, { revision, policy });
    // the client may have gone while the store settled; its close event is past
    if (res.destroyed || req.destroyed) return;
    res.writeHead(200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-store" });
    res.socket?.setKeepAlive(true, this.heartbeatMs);
    res.socket?.setTimeout(0);
    const text = JSON.stringify(policy);
    const watcher: Watcher = {
      instanceId,
      region: instance.region,
      tokenDigest: allowed.digest,
      res,
      sent: text,
      revision,
    };
    this.add(watcher);
    req.on("close", () => this.remove(watcher));
    this.write(watcher, policyLine(revision, text), true);
  }

  private async receiveStatus(req: IncomingMessage, res: ServerResponse, instanceId: string): Promise<void> {
    if (req.method !== "POST") return json(res, 405, { error: "use POST" });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_STATUS_BYTES) return json(res, 413, { error: "status report too large" });
      chunks.push(chunk as Buffer);
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      return json(res, 400, { error: "the status must be a JSON object" });
    }
    const revision = body?.appliedRevision;
    if (
      typeof body !== "object" ||
      body === null ||
      Array.isArray(body) ||
      !(revision === null || (Number.isSafeInteger(revision) && (revision as number) >= 0)) ||
      typeof body.healthy !== "boolean"
    ) {
      return json(res, 400, {
        error:
          "appliedRevision (a revision: an integer >= 0, or null before any policy) and healthy (boolean) are required",
      });
    }
    const text = (value: unknown) => (typeof value === "string" ? value.slice(0, 1024) : undefined);
    const status: AgentStatus = {
      instanceId,
      appliedRevision: revision as number | null,
      healthy: body.healthy,
      message: text(body.message),
      hostname: text(body.hostname),
      pid: Number.isSafeInteger(body.pid) && (body.pid as number) > 0 ? (body.pid as number) : undefined,
      reportedAt: new Date().toISOString(),
    };
    await this.store.saveAgentStatus(status);
    res.writeHead(204).end();
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const streams of [...this.watchers.values()]) for (const watcher of streams) this.endStream(watcher);
  }
}
