import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { type PolicyMessage, watchPolicy } from "../../src/agent/controller-client.js";
import { webPolicy } from "./policies.js";

describe("watchPolicy", () => {
  it("reads messages split across chunks anywhere, several to a chunk, with blank lines", async () => {
    const policy = { ...webPolicy(), instanceId: "i-wéb" }; // a multi-byte character to split
    const stream = Buffer.from(
      `${JSON.stringify({ revision: 1, policy })}\n\n{"revision": 2}\n{"revision": 3}\r\n${JSON.stringify({ revision: 4, policy })}\n{"revi`,
    );
    const split = stream.indexOf("é") + 1; // inside the two bytes of é
    const chunks = [stream.subarray(0, split), stream.subarray(split, split + 7), stream.subarray(split + 7)];
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const next = () => {
        const chunk = chunks.shift();
        if (!chunk) return void res.end();
        res.write(chunk);
        setTimeout(next, 10);
      };
      next();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const messages: PolicyMessage[] = [];
      await watchPolicy(
        {
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          token: "t",
          instanceId: "i-wéb",
        },
        async (message) => {
          messages.push(message);
        },
        { signal: new AbortController().signal, idleTimeoutMs: 5000 },
      );
      assert.deepEqual(messages, [
        { revision: 1, policy },
        { revision: 2 },
        { revision: 3 },
        { revision: 4, policy },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
