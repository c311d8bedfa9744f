import { lookup } from "node:dns/promises";
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { Agent } from "../agent/agent.js";
import { NftSessionKernel } from "../agent/nft-session.js";
import type { CompileOptions } from "../compile/nftables.js";
import { type Command, parseOptions, UsageError } from "./command.js";

function seconds(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback * 1000;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 1 || value > 86_400) {
    throw new UsageError(`--${name} must be 1..86400 seconds, not '${text}'`);
  }
  return value * 1000;
}

/**
 * When the agent guards its own host, its connection to the controller must survive any policy:
 * new connections to every address the controller's name has now, and its port, are always
 * allowed (the agent asks again before each connection).
 */
async function controlChannelOf(controller: URL): Promise<CompileOptions> {
  const host = controller.hostname.replace(/^\[|\]$/g, "");
  const addresses = [...new Set((await lookup(host, { all: true })).map((a) => a.address))]
    // loopback is always allowed
    .filter((address) => !address.startsWith("127.") && address !== "::1")
    .sort();
  if (addresses.length === 0) return {};
  const port = controller.port ? Number(controller.port) : controller.protocol === "https:" ? 443 : 80;
  return { controlChannel: { addresses, port } };
}

const agent: Command = {
  name: "agent",
  summary: "Enforce this host's security groups with nftables, following the controller",
  usage: `Usage: ringfence agent --controller URL (--token TOKEN | --token-file FILE) --instance-id ID
                       [--netns NAME] [--state-dir DIR] [--repair-interval SECONDS]
                       [--status-interval SECONDS]

Follows the controller's policy stream for one instance and keeps the nftables table
'inet ringfence' equal to it: one nft transaction per change (set elements for membership and
CIDR changes), drift repair, status reports. Runs as root.

  --controller URL         the ringfence controller, e.g. https://controller.internal:4780
  --token TOKEN            the instance's agent token (\`ringfence agents token ID\`)
  --token-file FILE        read the token from FILE instead (keeps it out of the process list);
                           RINGFENCE_AGENT_TOKEN is used when neither is given
  --instance-id ID         the instance this host is
  --netns NAME             enforce inside network namespace NAME instead of this one
  --state-dir DIR          keep the last applied policy here (default /var/lib/ringfence/agent);
                           a restarted agent enforces it before it reaches the controller
  --repair-interval S      check the kernel table for drift every S seconds (default 30)
  --status-interval S      report status every S seconds besides after each change (default 30)

With no saved policy the agent first installs a lockdown table (loopback, IPv6 neighbour
discovery, established connections and the connection to the controller only): it fails closed.
Stopping the agent leaves the table in the kernel.`,
  async run(args) {
    const { values } = parseOptions(() =>
      parseArgs({
        args,
        options: {
          controller: { type: "string" },
          token: { type: "string" },
          "token-file": { type: "string" },
          "instance-id": { type: "string" },
          netns: { type: "string" },
          "state-dir": { type: "string" },
          "repair-interval": { type: "string" },
          "status-interval": { type: "string" },
        },
        allowPositionals: false,
      }),
    );
    if (!values.controller) throw new UsageError("--controller is required");
    if (!values["instance-id"]) throw new UsageError("--instance-id is required");
    let controller: URL;
    try {
      controller = new URL(values.controller);
    } catch {
      throw new UsageError(`--controller '${values.controller}' is not a URL`);
    }
    if (controller.protocol !== "http:" && controller.protocol !== "https:") {
      throw new UsageError("--controller must be an http or https URL");
    }
    if (values.token && values["token-file"]) throw new UsageError("give --token or --token-file, not both");
    const token = values["token-file"]
      ? (await readFile(values["token-file"], "utf8")).trim()
      : (values.token ?? process.env.RINGFENCE_AGENT_TOKEN);
    if (!token) throw new UsageError("a token is required: --token, --token-file or RINGFENCE_AGENT_TOKEN");
    const repairIntervalMs = seconds(values["repair-interval"], "repair-interval", 30);
    const statusIntervalMs = seconds(values["status-interval"], "status-interval", 30);

    const kernel = new NftSessionKernel(values.netns ? { netns: values.netns } : {});
    const running = new Agent({
      url: controller.toString(),
      token,
      instanceId: values["instance-id"],
      kernel,
      stateDir: values["state-dir"] ?? "/var/lib/ringfence/agent",
      repairIntervalMs,
      statusIntervalMs,
      // resolved by the agent after it has restored or locked down: DNS may not be up at boot
      ...(values.netns ? {} : { resolveCompile: () => controlChannelOf(controller) }),
      log: (line) => console.log(line),
    });
    await running.start();
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
        void running
          .stop()
          .then(() => kernel.close())
          .then(resolve);
      };
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
    });
    return 0;
  },
};

export const enforcementCommands: Command[] = [agent];
