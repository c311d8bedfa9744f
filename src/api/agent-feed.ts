// The controller side of the agent protocol (docs/agent.md): a long-lived NDJSON stream of the
// host policy of one instance, and status reports, authenticated by per-instance bearer tokens.
//
// GET  /ringfence/v1/agents/{instanceId}/policy[?watch=true]  → {"revision", "policy"} lines
// POST /ringfence/v1/agents/{instanceId}/status                ← {"appliedRevision", "healthy", ...}
//
// Policies are computed once per revision and region, shared by every watcher, and sent only to
// the hosts whose policy changed; heartbeats carry the current revision.

import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type HostPolicy, hostPolicyFor } from "../compile/host-policy.js";
import type { Estate } from "../model/estate.js";
import { estateOf } from "../store/estate.js";
import type { AgentStatus, Change, SqliteStore } from "../store/sqlite-store.js";

const ROUTE = /^\/ringfence\/v1\/agents\/(i-[0-9a-f]{8,17})\/(policy|status)$/;
export const HEARTBEAT_MS = 10_000;
const MAX_STATUS_BYTES = 16 * 1024;

interface Watcher {
  instanceId: string;
  region: string;
  res: ServerResponse;
  /** JSON of the last policy sent, to send only changes. */
  sent?: string;
}

export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

export class AgentFeed {
  private readonly watchers = new Set<Watcher>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  /** The estate of each region at the current revision, built on demand. */
  private estates = new Map<string, Estate>();

  constructor(private readonly store: SqliteStore) {
    this.unsubscribe = store.onChange((change) => this.onChange(change));
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private estate(region: string): Estate {
    let estate = this.estates.get(region);
    if (!estate) {
      estate = estateOf(this.store.view(), region);
      this.estates.set(region, estate);
    }
    return estate;
  }

  private policyOf(instanceId: string, region: string): HostPolicy | undefined {
    return hostPolicyFor(this.estate(region), instanceId);
  }

  private onChange(change: Change): void {
    this.estates.delete(change.region);
    for (const watcher of this.watchers) {
      if (watcher.region === change.region) this.push(watcher);
    }
  }

  private push(watcher: Watcher): void {
    const policy = this.policyOf(watcher.instanceId, watcher.region);
    if (!policy) {
      // The instance is gone: the agent keeps its last table and learns it from the end of the stream.
      watcher.res.end();
      this.watchers.delete(watcher);
      return;
    }
    const text = JSON.stringify(policy);
    if (text === watcher.sent) return;
    watcher.sent = text;
    watcher.res.write(`{"revision":${this.store.revision},"policy":${text}}\n`);
  }

  private beat(): void {
    for (const watcher of this.watchers) watcher.res.write(`{"revision":${this.store.revision}}\n`);
  }

  /** The instance a bearer token opens, or the HTTP status that refuses it. */
  private authorise(req: IncomingMessage, instanceId: string): number {
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/.exec(header);
    if (!match) return 401;
    const owner = this.store.agentTokenInstance(tokenDigest(match[1] as string));
    if (!owner) return 401;
    return owner === instanceId ? 200 : 403;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = ROUTE.exec(url.pathname);
    if (!route) return json(res, 404, { error: "no such endpoint" });
    const [, instanceId, what] = route as unknown as [string, string, "policy" | "status"];
    const allowed = this.authorise(req, instanceId);
    if (allowed !== 200) {
      return json(res, allowed, {
        error: allowed === 401 ? "missing or unknown agent token" : "the token belongs to another instance",
      });
    }
    const instance = this.store.view().get("instance", instanceId);
    if (!instance) return json(res, 404, { error: `no instance ${instanceId}` });
    if (what === "status") return this.receiveStatus(req, res, instanceId);
    if (req.method !== "GET") return json(res, 405, { error: "use GET" });
    const policy = this.policyOf(instanceId, instance.region);
    if (!policy) return json(res, 404, { error: `instance ${instanceId} has no interfaces to enforce` });
    if (url.searchParams.get("watch") !== "true") {
      return json(res, 200, { revision: this.store.revision, policy });
    }
    res.writeHead(200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-store" });
    res.socket?.setKeepAlive(true, HEARTBEAT_MS);
    res.socket?.setTimeout(0);
    const watcher: Watcher = { instanceId, region: instance.region, res };
    this.watchers.add(watcher);
    req.on("close", () => this.watchers.delete(watcher));
    this.push(watcher);
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
    if (
      typeof body !== "object" ||
      body === null ||
      (typeof body.appliedRevision !== "number" && body.appliedRevision !== null) ||
      typeof body.healthy !== "boolean"
    ) {
      return json(res, 400, {
        error: "appliedRevision (number, or null before any policy) and healthy (boolean) are required",
      });
    }
    const text = (value: unknown) => (typeof value === "string" ? value.slice(0, 1024) : undefined);
    const status: AgentStatus = {
      instanceId,
      appliedRevision: body.appliedRevision,
      healthy: body.healthy,
      message: text(body.message),
      hostname: text(body.hostname),
      pid: typeof body.pid === "number" ? body.pid : undefined,
      reportedAt: new Date().toISOString(),
    };
    this.store.saveAgentStatus(status);
    res.writeHead(204).end();
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const watcher of this.watchers) watcher.res.end();
    this.watchers.clear();
  }
}
