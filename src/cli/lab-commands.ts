import { spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import { parseArgs } from "node:util";
import { controllerFromEnvironment, DEFAULT_ENDPOINT, fetchControllerEstate } from "../lab/controller.js";
import { listNamespaces } from "../lab/iproute.js";
import { instanceNamespace, LAB_PREFIX } from "../lab/names.js";
import { sweepLabNamespaces } from "../lab/network.js";
import {
  DEFAULT_PROBE_TIMEOUT_MS,
  formatProbeTarget,
  Prober,
  type ProbeTarget,
  parseProbeTarget,
} from "../lab/probe.js";
import { labTopology } from "../lab/topology.js";
import { DEFAULT_VERIFY_TARGETS, renderTruthTables, verifyLab } from "../lab/verify.js";
import { type Command, parseOptions, UsageError } from "./command.js";

const CONTROLLER_OPTIONS = `  --endpoint URL   the ringfence controller (default ${DEFAULT_ENDPOINT}); credentials from
                   RINGFENCE_ACCESS_KEY_ID / RINGFENCE_SECRET_ACCESS_KEY or AWS_* variables`;

function timeoutOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PROBE_TIMEOUT_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1 || ms > 60_000)
    throw new UsageError(`--timeout must be 1..60000 ms, not '${text}'`);
  return ms;
}

/** The controller's estate; the SDK's notice about future Node versions is noise on a CLI's stderr. */
function controllerEstate(endpoint: string | undefined) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return fetchControllerEstate(controllerFromEnvironment(endpoint));
}

async function requireNamespace(instanceId: string): Promise<string> {
  // only an instance's: the VPC routers' namespaces share the prefix but are no instance
  if (!/^i-[0-9a-f]{8,17}$/.test(instanceId)) throw new UsageError(`'${instanceId}' is not an instance id`);
  const namespace = instanceNamespace(instanceId);
  if (!(await listNamespaces()).includes(namespace)) {
    throw new Error(
      `${instanceId} has no lab namespace: is it running, and was the server started with --lab?`,
    );
  }
  return namespace;
}

const exec: Command = {
  name: "lab exec",
  summary: "Run a command inside a lab instance's network namespace",
  usage: `Usage: ringfence lab exec INSTANCE-ID -- COMMAND [ARGS...]

Runs COMMAND inside the network namespace of a running lab instance (as root), with its
interface, addresses and firewall. Exits with the command's exit code.`,
  async run(args) {
    const dash = args.indexOf("--");
    const id = args[0];
    const command = dash >= 0 ? args.slice(dash + 1) : args.slice(1);
    if (!id || id.startsWith("-") || (dash !== -1 && dash !== 1) || command.length === 0) {
      throw new UsageError("expected INSTANCE-ID -- COMMAND");
    }
    const namespace = await requireNamespace(id);
    return new Promise((resolve, reject) => {
      const child = spawn("ip", ["netns", "exec", namespace, ...command], { stdio: "inherit" });
      // a signal meant for the command (a supervisor's TERM, a timeout's) goes on to it
      const relay = (signal: NodeJS.Signals) => child.kill(signal);
      const signals: NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP"];
      for (const signal of signals) process.on(signal, relay);
      child.on("error", reject);
      child.on("close", (code, signal) => {
        for (const s of signals) process.off(s, relay);
        resolve(code ?? (signal ? 128 + (osConstants.signals[signal] ?? 0) : 1));
      });
    });
  },
};

const probe: Command = {
  name: "lab probe",
  summary: "Try one flow between two lab instances with real packets: open or blocked",
  usage: `Usage: ringfence lab probe SOURCE-ID DESTINATION-ID PROTO[/PORT] [--ipv6] [--timeout MS] [--endpoint URL]

Opens a listener in the destination instance (tcp, udp; icmp is answered by its kernel), tries
the flow from the source instance, and prints "open" (exit 0) or "blocked" (exit 1).
PROTO/PORT is tcp/PORT, udp/PORT or icmp (an echo request, also written icmp/8; ICMPv6 type 128
over IPv6).

  --ipv6           use the destination's IPv6 address (default: its primary private IPv4)
  --timeout MS     how long to wait for an answer (default ${DEFAULT_PROBE_TIMEOUT_MS})
${CONTROLLER_OPTIONS}`,
  async run(args) {
    const { values, positionals } = parseOptions(() =>
      parseArgs({
        args,
        allowPositionals: true,
        options: { ipv6: { type: "boolean" }, timeout: { type: "string" }, endpoint: { type: "string" } },
      }),
    );
    const [source, destination, targetText] = positionals;
    if (!source || !destination || !targetText || positionals.length > 3) {
      throw new UsageError("expected SOURCE-ID DESTINATION-ID PROTO[/PORT]");
    }
    const target = targetOf(targetText);
    const timeoutMs = timeoutOf(values.timeout);
    const estate = await controllerEstate(values.endpoint);
    const hosts = labTopology(estate).hosts;
    const to = hosts.get(destination);
    const from = hosts.get(source);
    if (!from) throw new Error(`${source} is not a running lab instance`);
    if (!to) throw new Error(`${destination} is not a running lab instance`);
    // the lab routes only within a VPC: another VPC's address could be anyone's in this one
    if (from.vpcId !== to.vpcId)
      throw new Error(`${source} and ${destination} are in different VPCs, which the lab does not connect`);
    const address = to.addresses.find((a) => a.address.includes(":") === Boolean(values.ipv6))?.address;
    if (!address) throw new Error(`${destination} has no ${values.ipv6 ? "IPv6" : "IPv4"} address`);
    const prober = new Prober(timeoutMs);
    try {
      const result = await prober.probe(
        await requireNamespace(source),
        await requireNamespace(destination),
        address,
        target,
      );
      console.log(`${source} -> ${destination} ${address} ${formatProbeTarget(target)}: ${result}`);
      return result === "open" ? 0 : 1;
    } finally {
      await prober.close();
    }
  },
};

function targetOf(text: string): ProbeTarget {
  const target = parseProbeTarget(text);
  if (!target) {
    throw new UsageError(
      `'${text}' is not tcp/PORT, udp/PORT or icmp (an echo request, also written icmp/8)`,
    );
  }
  return target;
}

function targetsOf(text: string): ProbeTarget[] {
  const targets = text.split(",").map(targetOf);
  if (targets.length === 0) throw new UsageError("--ports needs at least one target");
  return targets;
}

const verify: Command = {
  name: "lab verify",
  summary: "Probe every pair of lab instances and compare with the policy evaluator",
  usage: `Usage: ringfence lab verify [--ports LIST] [--json] [--timeout MS] [--endpoint URL]

Probes every ordered pair of running lab instances of the same VPC on every target in LIST, over IPv4 and, where
both have one, IPv6, and compares each result with what the policy evaluator says the security
groups and network ACLs allow. Prints expected, actual and mismatch tables ('.' open, 'X' blocked,
'!' mismatch). Exits 1 on any mismatch, and when a running instance has no lab namespace.

  --ports LIST     comma-separated targets (default ${DEFAULT_VERIFY_TARGETS})
  --json           print one JSON object: every cell, the mismatches, the cells not probed
                   (skipped) and the running instances without a namespace (missing)
  --timeout MS     how long a probe waits for an answer (default ${DEFAULT_PROBE_TIMEOUT_MS})
${CONTROLLER_OPTIONS}`,
  async run(args) {
    const { values, positionals } = parseOptions(() =>
      parseArgs({
        args,
        allowPositionals: true,
        options: {
          ports: { type: "string" },
          json: { type: "boolean" },
          timeout: { type: "string" },
          endpoint: { type: "string" },
        },
      }),
    );
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const targets = targetsOf(values.ports ?? DEFAULT_VERIFY_TARGETS);
    const timeoutMs = timeoutOf(values.timeout);
    const estate = await controllerEstate(values.endpoint);
    const present = new Set(await listNamespaces());
    const running = [...labTopology(estate).hosts.values()];
    const hosts = running.filter((h) => present.has(h.namespace));
    // a running instance without its namespace is a lab that does not match the control plane
    const missing = running.filter((h) => !present.has(h.namespace)).map((h) => h.instanceId);
    const prober = new Prober(timeoutMs);
    try {
      const report = await verifyLab(estate, hosts, prober, { targets, timeoutMs });
      if (values.json) {
        console.log(
          JSON.stringify({
            instances: report.instances,
            targets: report.targets.map(formatProbeTarget),
            cells: report.cells.map((c) => ({ ...c, target: formatProbeTarget(c.target) })),
            mismatches: report.mismatches.length,
            skipped: report.skipped.map((s) => ({
              instance: s.instance,
              target: formatProbeTarget(s.target),
            })),
            missing,
          }),
        );
      } else {
        console.log(renderTruthTables(report));
        for (const id of missing) {
          console.log(
            `  MISSING ${id}: running, but it has no lab namespace (was the server started with --lab?)`,
          );
        }
      }
      return report.mismatches.length === 0 && missing.length === 0 ? 0 : 1;
    } finally {
      await prober.close();
    }
  },
};

const down: Command = {
  name: "lab down",
  summary: "Remove every lab namespace (and with them their bridges and veths)",
  usage: `Usage: ringfence lab down

Deletes every lab network namespace ('${LAB_PREFIX}i-…' for instances, '${LAB_PREFIX}vpc-…' for VPC routers),
including the leftovers of a crashed run. Bridges and veths live only inside those namespaces and go with
them. Stop a server running with --lab first, or it will build its instances again.`,
  async run(args) {
    if (args.length > 0) throw new UsageError(`unexpected argument '${args[0]}'`);
    const removed = await sweepLabNamespaces();
    console.log(removed.length === 0 ? "no lab namespaces" : `removed ${removed.length} namespaces`);
    return 0;
  },
};

export const labCommands: Command[] = [exec, probe, verify, down];
