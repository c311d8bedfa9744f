// The agent's side of the controller contract:
//   GET  {controller}/ringfence/v1/agents/{id}/policy?watch=true  -> application/x-ndjson lines
//        {"revision": N, "policy": HostPolicy} on connect and on change, {"revision": N} heartbeats
//   POST {controller}/ringfence/v1/agents/{id}/status             <- AgentStatus, answered 204
// Both with `Authorization: Bearer {token}`.

import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { HostPolicy } from "../compile/host-policy.js";
import { hostPolicyProblem } from "../compile/host-policy-shape.js";

export interface PolicyMessage {
  readonly revision: number;
  readonly policy?: HostPolicy;
  /** What is wrong with the policy the line carried, which is then not given. */
  readonly refused?: string;
}

export interface AgentStatus {
  readonly appliedRevision: number | null;
  readonly healthy: boolean;
  readonly message: string;
  readonly hostname: string;
  readonly pid: number;
}

/** The controller answered with an HTTP error (401 bad token, 403 other instance, 404 unknown). */
export class ControllerRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ControllerRefused";
  }
}

export interface ControllerEndpoint {
  /** Base URL, e.g. `https://controller.example:4780`. */
  readonly url: string;
  readonly token: string;
  readonly instanceId: string;
}

function agentUrl(endpoint: ControllerEndpoint, path: string): string {
  const base = endpoint.url.replace(/\/+$/, "");
  return `${base}/ringfence/v1/agents/${encodeURIComponent(endpoint.instanceId)}/${path}`;
}

function parseMessage(line: string): PolicyMessage {
  const value = JSON.parse(line) as { revision?: unknown; policy?: unknown };
  if (typeof value.revision !== "number" || !Number.isFinite(value.revision)) {
    throw new Error(`policy stream line without a numeric revision: ${line.slice(0, 200)}`);
  }
  if (value.policy === undefined || value.policy === null) return { revision: value.revision };
  const problem = hostPolicyProblem(value.policy);
  if (problem) return { revision: value.revision, refused: problem };
  return { revision: value.revision, policy: value.policy as HostPolicy };
}

/**
 * Splits the stream into messages, one line at a time and only when asked, so that while a policy
 * is compiled and applied neither its text (a quarter of a megabyte for a large policy) nor the
 * next message's parsed policy is held, and a long line is joined once rather than per chunk.
 */
class MessageLines {
  private readonly decoder = new TextDecoder();
  /** Text after the last complete line, in the pieces it arrived in (joined once, when it ends). */
  private pending: string[] = [];
  /** Complete lines not parsed yet. */
  private ready: string[] = [];

  push(chunk: Buffer): void {
    let text = this.decoder.decode(chunk, { stream: true });
    for (let newline = text.indexOf("\n"); newline >= 0; newline = text.indexOf("\n")) {
      this.pending.push(text.slice(0, newline));
      this.ready.push(this.pending.join(""));
      this.pending = [];
      text = text.slice(newline + 1);
    }
    if (text !== "") this.pending.push(text);
  }

  next(): PolicyMessage | undefined {
    for (let line = this.ready.shift(); line !== undefined; line = this.ready.shift()) {
      if (line.trim() !== "") return parseMessage(line);
    }
    return undefined;
  }
}

interface Exchange {
  readonly status: number;
  readonly body: AsyncIterable<Buffer>;
  readonly text: () => Promise<string>;
}

/** One HTTP exchange with node's own client (lighter than fetch: the agent's memory matters). */
function exchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === "https:" ? httpsRequest : httpRequest)(
      target,
      { method: init.method, headers: init.headers, signal: init.signal },
      (response: IncomingMessage) => {
        resolve({
          status: response.statusCode ?? 0,
          body: response,
          text: async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of response) chunks.push(chunk as Buffer);
            return Buffer.concat(chunks).toString("utf8");
          },
        });
      },
    );
    request.on("error", reject);
    request.end(init.body);
  });
}

/**
 * Follows the policy stream until it ends, the signal aborts, or no line arrives for
 * `idleTimeoutMs` (a dead connection that TCP has not noticed yet). Resolves when the stream ends.
 */
export async function watchPolicy(
  endpoint: ControllerEndpoint,
  onMessage: (message: PolicyMessage) => Promise<void>,
  options: { signal: AbortSignal; idleTimeoutMs: number },
): Promise<void> {
  const local = new AbortController();
  const abort = () => local.abort(options.signal.reason);
  options.signal.addEventListener("abort", abort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(
      () => local.abort(new Error(`no message for ${options.idleTimeoutMs} ms`)),
      options.idleTimeoutMs,
    );
  };
  try {
    armIdle();
    const response = await exchange(agentUrl(endpoint, "policy?watch=true"), {
      method: "GET",
      headers: { authorization: `Bearer ${endpoint.token}`, accept: "application/x-ndjson" },
      signal: local.signal,
    });
    if (response.status !== 200) {
      const body = (await response.text().catch(() => "")).slice(0, 300);
      throw new ControllerRefused(response.status, `controller answered ${response.status}: ${body}`.trim());
    }
    const lines = new MessageLines();
    for await (const chunk of response.body) {
      armIdle();
      lines.push(chunk);
      for (let message = lines.next(); message; message = lines.next()) await onMessage(message);
    }
  } catch (error) {
    if (local.signal.aborted && !options.signal.aborted) throw local.signal.reason;
    throw error;
  } finally {
    clearTimeout(idle);
    options.signal.removeEventListener("abort", abort);
  }
}

export async function reportStatus(
  endpoint: ControllerEndpoint,
  status: AgentStatus,
  timeoutMs = 5000,
): Promise<void> {
  const response = await exchange(agentUrl(endpoint, "status"), {
    method: "POST",
    headers: { authorization: `Bearer ${endpoint.token}`, "content-type": "application/json" },
    body: JSON.stringify(status),
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.text().catch(() => "");
  if (response.status < 200 || response.status > 299) {
    throw new ControllerRefused(response.status, `status report answered ${response.status}`);
  }
}
