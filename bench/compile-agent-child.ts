// The agent process whose memory the compile benchmark measures: `node compile-agent-child.js URL
// TOKEN INSTANCE [NETNS]`. With NETNS it enforces with real nft in that namespace; without, into a
// kernel that accepts every script and keeps nothing (so only the agent's own memory counts).

import { Agent } from "../src/agent/agent.js";
import type { NftKernel, ObjectDigests } from "../src/agent/kernel.js";
import { NftSessionKernel } from "../src/agent/nft-session.js";

class DiscardingKernel implements NftKernel {
  private present = false;
  async apply(): Promise<void> {
    this.present = true;
  }
  async listTable(): Promise<string | undefined> {
    return this.present ? "{}" : undefined;
  }
  async objectDigests(objects?: readonly string[]): Promise<ObjectDigests | undefined> {
    if (objects) return new Map(this.present ? objects.map((key) => [key, "discarded"]) : []);
    return this.present ? new Map([["table", "discarded"]]) : undefined;
  }
  async deleteTable(): Promise<void> {
    this.present = false;
  }
}

const [url, token, instanceId, netns] = process.argv.slice(2);
if (!url || !token || !instanceId) {
  console.error("usage: compile-agent-child URL TOKEN INSTANCE [NETNS]");
  process.exit(2);
}
const kernel = netns ? new NftSessionKernel({ netns }) : new DiscardingKernel();
const agent = new Agent({
  url,
  token,
  instanceId,
  kernel,
  repairIntervalMs: 2_000,
  statusIntervalMs: 60_000,
});
agent.onEvent((event) => {
  if (event.kind === "applied" || event.kind === "apply-failed") console.log(JSON.stringify(event));
});
await agent.start();
process.on("SIGTERM", () => {
  void agent
    .stop()
    .then(() => (kernel instanceof NftSessionKernel ? kernel.close() : undefined))
    .then(() => process.exit(0));
});
