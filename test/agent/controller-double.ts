// A protocol test double of the controller: speaks the agent contract (policy watch stream with
// heartbeats, status reports, 401/403/404) over real HTTP on loopback, and nothing else. The real
// controller's side of the contract is tested by the control plane.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AgentStatus } from "../../src/agent/controller-client.js";
import type { HostPolicy } from "../../src/compile/host-policy.js";

export class ControllerProtocolDouble {
  private server: Server | undefined;
  private readonly streams = new Set<ServerResponse>();
  private readonly policies = new Map<string, { revision: number; policy: HostPolicy }>();
  readonly tokens = new Map<string, string>();
  readonly statuses: { instanceId: string; status: AgentStatus }[] = [];
  /** Every watch request (instance, status code) in order. */
  readonly connections: { instanceId: string; code: number }[] = [];
  revision = 0;
  port = 0;

  constructor(private readonly heartbeatMs = 100) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Sets an instance's policy at a new revision and pushes it to its open streams. */
  publish(instanceId: string, policy: HostPolicy): number {
    this.revision++;
    this.policies.set(instanceId, { revision: this.revision, policy });
    for (const stream of this.streams) {
      if ((stream as ServerResponse & { instanceId?: string }).instanceId === instanceId) {
        stream.write(`${JSON.stringify({ revision: this.revision, policy })}\n`);
      }
    }
    return this.revision;
  }

  async start(port = this.port): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** The controller goes away: every stream is cut and the port is closed. */
  async stop(): Promise<void> {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private authorise(req: IncomingMessage, res: ServerResponse, instanceId: string): boolean {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const owner = [...this.tokens.entries()].find(([, t]) => t === token)?.[0];
    const code = !this.tokens.has(instanceId)
      ? 404
      : owner === undefined
        ? 401
        : owner !== instanceId
          ? 403
          : 200;
    if (code !== 200) {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: code }));
      return false;
    }
    return true;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://double");
    const match = /^\/ringfence\/v1\/agents\/([^/]+)\/(policy|status)$/.exec(url.pathname);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    const instanceId = decodeURIComponent(match[1] as string);
    if (match[2] === "status" && req.method === "POST") {
      if (!this.authorise(req, res, instanceId)) return;
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        this.statuses.push({ instanceId, status: JSON.parse(body) as AgentStatus });
        res.writeHead(204).end();
      });
      return;
    }
    const authorised = this.authorise(req, res, instanceId);
    this.connections.push({ instanceId, code: authorised ? 200 : res.statusCode });
    if (!authorised) return;
    const current = this.policies.get(instanceId);
    const first = { revision: current?.revision ?? this.revision, policy: current?.policy };
    if (url.searchParams.get("watch") !== "true") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(first));
      return;
    }
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    (res as ServerResponse & { instanceId?: string }).instanceId = instanceId;
    this.streams.add(res);
    res.write(`${JSON.stringify(first)}\n`);
    const heartbeat = setInterval(
      () => res.write(`${JSON.stringify({ revision: this.revision })}\n`),
      this.heartbeatMs,
    );
    res.on("close", () => {
      clearInterval(heartbeat);
      this.streams.delete(res);
    });
  }
}
