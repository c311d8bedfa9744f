import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { STATUS_INTERVAL_MS } from "../agent/agent.js";
import { HEARTBEAT_MS, tokenDigest } from "../api/agent-feed.js";
import { DEFAULT_ACCOUNT, DEFAULT_LISTEN, newAccessKey, startServer } from "../api/server.js";
import type { InstanceRuntime } from "../model/instance-runtime.js";
import { SqliteStore } from "../store/sqlite-store.js";
import { type Command, parseOptions, UsageError } from "./command.js";
import { printable } from "./terminal-text.js";

export const DEFAULT_DATA_DIR = "ringfence-data";
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

const server: Command = {
  name: "server",
  summary: "run the EC2-compatible control plane (and, with --lab, instances as network namespaces)",
  usage: `Usage: ringfence server [--listen HOST:PORT] [--data DIR] [--lab] [--durability normal|full]

Serves the EC2 Query API (security groups, VPCs, subnets, instances, network interfaces,
Elastic IPs, tags, prefix lists, network ACLs) so that the aws CLI and the AWS SDKs manage
ringfence as they manage EC2, and streams each host's policy to its agent.

Options:
  --listen HOST:PORT   where to listen (default ${DEFAULT_LISTEN})
  --data DIR           data directory holding the SQLite database (default ./${DEFAULT_DATA_DIR})
  --lab                launch RunInstances instances as network namespaces, enforced by the
                       agent code (root only; see docs/lab.md)
  --durability MODE    normal (default): acknowledged writes survive a crash of the process;
                       full: they also survive a power loss (fsync on every commit)

Credentials: the first access key comes from RINGFENCE_ACCESS_KEY_ID,
RINGFENCE_SECRET_ACCESS_KEY and RINGFENCE_ACCOUNT_ID (default account ${DEFAULT_ACCOUNT}).
Without them, the first start creates a key, stores it with the data and prints it.
Add keys for other accounts with \`ringfence keys add\`.`,
  async run(args) {
    const { values } = parseOptions(() =>
      parseArgs({
        args,
        options: {
          listen: { type: "string", default: DEFAULT_LISTEN },
          data: { type: "string", default: DEFAULT_DATA_DIR },
          lab: { type: "boolean", default: false },
          durability: { type: "string", default: "normal" },
        },
      }),
    );
    if (values.durability !== "normal" && values.durability !== "full") {
      throw new UsageError("--durability must be normal or full");
    }
    const accessKeyId = process.env.RINGFENCE_ACCESS_KEY_ID;
    const secretAccessKey = process.env.RINGFENCE_SECRET_ACCESS_KEY;
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      throw new UsageError("set both RINGFENCE_ACCESS_KEY_ID and RINGFENCE_SECRET_ACCESS_KEY, or neither");
    }
    const accountId = process.env.RINGFENCE_ACCOUNT_ID;
    if (accountId !== undefined && !/^\d{12}$/.test(accountId)) {
      throw new UsageError("RINGFENCE_ACCOUNT_ID must be 12 digits");
    }
    let runtime: InstanceRuntime | undefined;
    if (values.lab) {
      if (process.getuid?.() !== 0) throw new UsageError("--lab creates network namespaces and needs root");
      const { Lab } = await import("../lab/lab.js");
      runtime = new Lab();
    }
    const running = await startServer({
      listen: values.listen as string,
      dataDir: values.data as string,
      durability: values.durability,
      runtime,
      accessKey: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
      ...(accountId !== undefined ? { accountId } : {}),
      log: (line) => console.error(`ringfence: ${line}`),
    });
    // one write: whoever waits for the first line has the key with it
    const listening = `ringfence control plane listening on ${running.url} (data: ${values.data}${values.lab ? ", lab on" : ""})`;
    console.log(
      running.generatedKey
        ? `${listening}

Created the first access key (account ${running.accountId}); it is stored with the data:

  export AWS_ACCESS_KEY_ID=${running.accessKeyId}
  export AWS_SECRET_ACCESS_KEY=${running.secretAccessKey}
  export AWS_DEFAULT_REGION=us-east-1
  aws --endpoint-url ${running.url} ec2 describe-security-groups`
        : listening,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await running.close();
    return 0;
  },
};

const keys: Command = {
  name: "keys",
  summary: "list the access keys of the control plane's accounts, or add one (`keys add`)",
  usage: `Usage: ringfence keys [--data DIR]
       ringfence keys add [--account 12-DIGITS] [--data DIR]

Each access key belongs to one account; accounts see and change only their own resources.
\`keys add\` creates a key (for a new account, or another key of an existing one) and prints it.
Works on the data directory directly: run it beside the server, with the same --data.`,
  async run(args) {
    const { values, positionals } = parseOptions(() =>
      parseArgs({
        args,
        allowPositionals: true,
        options: {
          data: { type: "string", default: DEFAULT_DATA_DIR },
          account: { type: "string" },
        },
      }),
    );
    const store = new SqliteStore(values.data as string, "normal", { mustExist: true });
    try {
      if (positionals[0] === "add") {
        const account = (values.account as string | undefined) ?? randomAccount();
        if (!/^\d{12}$/.test(account)) throw new UsageError("--account must be 12 digits");
        const key = newAccessKey(account);
        store.addAccessKey(key);
        console.log(
          `account ${key.accountId}\nAWS_ACCESS_KEY_ID=${key.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
        );
        return 0;
      }
      if (positionals.length > 0) throw new UsageError(`unknown keys subcommand '${positionals[0]}'`);
      const all = store.accessKeys();
      if (all.length === 0) console.log("no access keys yet: `ringfence server` creates the first");
      for (const key of all)
        console.log(`${key.accessKeyId}  account ${key.accountId}  created ${key.createdAt}`);
      return 0;
    } finally {
      store.close();
    }
  },
};

function randomAccount(): string {
  return String(100000000000 + (randomBytes(6).readUIntBE(0, 6) % 900000000000));
}

/** `INSTANCE-ID [--data DIR]`: the instance id, and the store of that data directory, opened. */
function instanceAndStore(args: string[]): { instanceId: string; store: SqliteStore } {
  const { values, positionals } = parseOptions(() =>
    parseArgs({
      args,
      allowPositionals: true,
      options: { data: { type: "string", default: DEFAULT_DATA_DIR } },
    }),
  );
  const instanceId = positionals[0];
  if (!instanceId || !INSTANCE_ID.test(instanceId)) throw new UsageError("give the instance id (i-...)");
  if (positionals.length > 1)
    throw new UsageError(`one instance id at a time, not '${positionals.join(" ")}'`);
  return { instanceId, store: new SqliteStore(values.data as string, "normal", { mustExist: true }) };
}

const agentsToken: Command = {
  name: "agents token",
  summary: "issue a token with which the agent of one instance may read its policy",
  usage: `Usage: ringfence agents token INSTANCE-ID [--data DIR]

Prints a new bearer token for \`ringfence agent --token\`. The token lets an agent read the policy
of that instance only, and report its status. Only its hash is stored.`,
  async run(args) {
    const { instanceId, store } = instanceAndStore(args);
    try {
      const instance = store.view().get("instance", instanceId);
      if (!instance) {
        console.error(`ringfence agents token: no instance ${instanceId}`);
        return 1;
      }
      if (instance.state === "terminated" || instance.state === "shutting-down") {
        console.error(`ringfence agents token: instance ${instanceId} is terminated`);
        return 1;
      }
      const token = `rfa_${randomBytes(24).toString("base64url")}`;
      store.addAgentToken(tokenDigest(token), instanceId);
      console.log(token);
      return 0;
    } finally {
      store.close();
    }
  },
};

const agentsRevoke: Command = {
  name: "agents revoke",
  summary: "revoke every token of one instance",
  usage: `Usage: ringfence agents revoke INSTANCE-ID [--data DIR]

Removes every agent token of the instance. A running server closes the instance's open policy
streams at their next heartbeat (within ${HEARTBEAT_MS / 1000} s) and refuses the tokens from then on.`,
  async run(args) {
    const { instanceId, store } = instanceAndStore(args);
    try {
      const removed = store.removeAgentTokens(instanceId);
      console.log(`${removed} token${removed === 1 ? "" : "s"} of ${instanceId} revoked`);
      return 0;
    } finally {
      store.close();
    }
  },
};

/** What `ringfence agents` says about one agent's applied revision, against the current one. */
export function appliedText(applied: number | null, current: number): string {
  if (applied === null) return "no policy applied";
  if (applied > current) return `revision ${applied} (AHEAD of the control plane: not a revision it holds)`;
  if (applied < current) return `revision ${applied} (${current - applied} behind)`;
  return `revision ${applied}`;
}

/** Whether an agent's last report is older than three default reporting periods. */
export function silent(reportedAt: string, now: number): boolean {
  return now - Date.parse(reportedAt) > 3 * STATUS_INTERVAL_MS;
}

const agents: Command = {
  name: "agents",
  summary: "show each agent's applied revision and health",
  usage: `Usage: ringfence agents [--data DIR] [--json]
       ringfence agents token INSTANCE-ID [--data DIR]
       ringfence agents revoke INSTANCE-ID [--data DIR]

Lists the agents that have reported to the control plane: instance, applied revision against the
current revision, health, and when they last reported. \`agents token\` issues the token an
instance's agent reads its policy with; \`agents revoke\` withdraws an instance's tokens.`,
  async run(args) {
    const { values, positionals } = parseOptions(() =>
      parseArgs({
        args,
        allowPositionals: true,
        options: {
          data: { type: "string", default: DEFAULT_DATA_DIR },
          json: { type: "boolean", default: false },
        },
      }),
    );
    if (positionals.length > 0) {
      throw new UsageError(`unknown agents subcommand '${positionals[0]}' (agents token, agents revoke)`);
    }
    const store = new SqliteStore(values.data as string, "normal", { mustExist: true });
    try {
      const statuses = store.agentStatuses();
      if (values.json) {
        console.log(JSON.stringify({ revision: store.revision, agents: statuses }));
        return 0;
      }
      console.log(`control plane revision ${store.revision}`);
      if (statuses.length === 0) console.log("no agent has reported yet");
      const now = Date.now();
      for (const s of statuses) {
        const quiet = silent(s.reportedAt, now) ? "  SILENT since" : "  reported";
        console.log(
          `${s.instanceId}  ${appliedText(s.appliedRevision, store.revision)}  ${s.healthy ? "healthy" : "UNHEALTHY"}  ${printable(s.hostname ?? "")}${quiet} ${s.reportedAt}${s.message ? `  ${printable(s.message)}` : ""}`,
        );
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

export const controlCommands: Command[] = [server, keys, agents, agentsToken, agentsRevoke];
