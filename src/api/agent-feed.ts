// The controller side of the agent protocol (docs/agent.md): a long-lived NDJSON stream of the
// host policy of one instance, and status reports, authenticated by per-instance bearer tokens.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { SqliteStore } from "../store/sqlite-store.js";

export class AgentFeed {
  constructor(private readonly store: SqliteStore) {}

  async handle(_req: IncomingMessage, res: ServerResponse, _url: URL): Promise<void> {
    void this.store;
    res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "not found" }));
  }

  close(): void {}
}
