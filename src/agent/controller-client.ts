// The agent's side of the controller contract:
//   GET  {controller}/ringfence/v1/agents/{id}/policy?watch=true  -> application/x-ndjson lines
//        {"revision": N, "policy": HostPolicy} on connect and on change, {"revision": N} heartbeats
//   POST {controller}/ringfence/v1/agents/{id}/status             <- AgentStatus, answered 204
// Both with `Authorization: Bearer {token}`.

import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { HostPolicy } from "../compile/host-policy.js";

export interface PolicyMessage {
  readonly revision: number;
  readonly policy?: HostPolicy;
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
  const policy = value.policy as HostPolicy;
  if (typeof policy !== "object" || !Array.isArray(policy.interfaces)) {
    throw new Error(`policy stream line with a malformed policy (revision ${value.revision})`);
  }
  return { revision: value.revision, policy };
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
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body) {
      armIdle();
      buffer += decoder.decode(chunk, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line !== "") await onMessage(parseMessage(line));
        newline = buffer.indexOf("\n");
      }
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
