import type { Estate } from "../model/estate.js";
import type { Family } from "../net/address.js";
import { evaluateFlow } from "../policy/evaluate.js";
import { PolicyIndex, type Traffic } from "../policy/policy-index.js";
import {
  formatProbeTarget,
  PortHeldError,
  type ProbeResult,
  type Prober,
  type ProbeTarget,
} from "./probe.js";
import { type LabHost, primaryInterface } from "./topology.js";

// `ringfence lab verify`: the kernel checked against the policy evaluator with real packets. Every
// ordered pair of running lab instances in the same VPC is probed on every target, over IPv4 and (where both ends
// have one) IPv6; every cell's observed result is compared with the evaluator's verdict for the
// same flow, and the result printed as truth tables, as Kubernetes network-policy conformance
// tools (cyclonus) do.

export const DEFAULT_VERIFY_TARGETS = "tcp/22,tcp/80,tcp/3306,udp/53,icmp";

export interface VerifyCell {
  readonly source: string;
  readonly destination: string;
  readonly target: ProbeTarget;
  readonly family: Family;
  readonly address: string;
  readonly expected: ProbeResult;
  readonly actual: ProbeResult;
}

export interface VerifyReport {
  readonly instances: readonly string[];
  readonly targets: readonly ProbeTarget[];
  readonly cells: readonly VerifyCell[];
  readonly mismatches: readonly VerifyCell[];
  /** Targets not probed in an instance because another program there holds the port. */
  readonly skipped: readonly { readonly instance: string; readonly target: ProbeTarget }[];
}

export interface VerifyOptions {
  readonly targets: readonly ProbeTarget[];
  /** Probes in flight at once. */
  readonly concurrency?: number;
  readonly timeoutMs?: number;
}

/** The traffic a probe sends, as the evaluator sees it (an ICMP probe is an echo request). */
export function probeTraffic(target: ProbeTarget, family: Family): Traffic {
  switch (target.protocol) {
    case "tcp":
      return { protocol: 6, port: target.port };
    case "udp":
      return { protocol: 17, port: target.port };
    case "icmp":
      return family === 4
        ? { protocol: 1, icmpType: 8, icmpCode: 0 }
        : { protocol: 58, icmpType: 128, icmpCode: 0 };
  }
}

function firstOf(host: LabHost, family: Family): string | undefined {
  return host.addresses.find((a) => a.address.includes(":") === (family === 6))?.address;
}

async function pool<T>(tasks: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i];
      if (task) results[i] = await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return results;
}

/** Whether the target was left unprobed in the instance (another program holds its port there). */
function notProbed(skipped: VerifyReport["skipped"], instance: string, target: ProbeTarget): boolean {
  return skipped.some(
    (s) => s.instance === instance && formatProbeTarget(s.target) === formatProbeTarget(target),
  );
}

export async function verifyLab(
  estate: Estate,
  hosts: Iterable<LabHost>,
  prober: Prober,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const index = PolicyIndex.build(estate);
  const instances = new Map(estate.instances.map((i) => [i.id, i]));
  const lab = [...hosts].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
  const interfaceOf = new Map<string, string>();
  for (const host of lab) {
    const instance = instances.get(host.instanceId);
    const eni = instance && primaryInterface(estate, instance);
    if (eni) interfaceOf.set(host.instanceId, eni.id);
  }
  // Listeners first, so that no probe races its own listener's start. A port that another
  // program in the instance holds cannot be probed there; the rest of the matrix still is.
  const skipped: { instance: string; target: ProbeTarget }[] = [];
  await Promise.all(
    lab.flatMap((h) =>
      options.targets.map(async (target) => {
        try {
          await prober.listen(h.namespace, target);
        } catch (error) {
          if (!(error instanceof PortHeldError)) throw error;
          skipped.push({ instance: h.instanceId, target });
        }
      }),
    ),
  );
  const tasks: (() => Promise<VerifyCell>)[] = [];
  for (const source of lab) {
    for (const destination of lab) {
      // The lab routes only within a VPC (no peering, no gateways), and the evaluator does not
      // model routes: pairs in different VPCs are not compared.
      if (source === destination || source.vpcId !== destination.vpcId) continue;
      const sourceEni = interfaceOf.get(source.instanceId);
      const destinationEni = interfaceOf.get(destination.instanceId);
      if (!sourceEni || !destinationEni) continue;
      for (const family of [4, 6] as const) {
        const address = firstOf(destination, family);
        if (!address || !firstOf(source, family)) continue;
        for (const target of options.targets) {
          if (notProbed(skipped, destination.instanceId, target)) continue;
          const verdict = evaluateFlow(index, {
            source: { kind: "interface", interfaceId: sourceEni },
            destination: { kind: "interface", interfaceId: destinationEni, address },
            traffic: probeTraffic(target, family),
            family,
          });
          tasks.push(async () => ({
            source: source.instanceId,
            destination: destination.instanceId,
            target,
            family,
            address,
            expected: verdict.allowed ? "open" : "blocked",
            actual: await prober.probe(
              source.namespace,
              destination.namespace,
              address,
              target,
              options.timeoutMs,
            ),
          }));
        }
      }
    }
  }
  const first = await pool(tasks, options.concurrency ?? 64);
  // An answer that came back proves a path; a missing one may only be a busy machine. Cells that
  // should be open but timed out are tried once more, one at a time, with a longer timeout.
  const cells: VerifyCell[] = [];
  for (const cell of first) {
    if (cell.expected === "open" && cell.actual === "blocked") {
      const source = lab.find((h) => h.instanceId === cell.source);
      const destination = lab.find((h) => h.instanceId === cell.destination);
      if (source && destination) {
        const timeout = 3 * (options.timeoutMs ?? prober.timeoutMs);
        const again = await prober.probe(
          source.namespace,
          destination.namespace,
          cell.address,
          cell.target,
          timeout,
        );
        cells.push({ ...cell, actual: again });
        continue;
      }
    }
    cells.push(cell);
  }
  return {
    instances: lab.map((h) => h.instanceId),
    targets: options.targets,
    cells,
    mismatches: cells.filter((c) => c.expected !== c.actual),
    skipped,
  };
}

function mark(result: ProbeResult): string {
  return result === "open" ? "." : "X";
}

/** Expected, actual and mismatch tables per target and family: `.` open, `X` blocked; rows are sources. */
export function renderTruthTables(report: VerifyReport): string {
  const labels = new Map(
    report.instances.map((id, i) => [
      id,
      String.fromCharCode(65 + (i % 26)) + (i >= 26 ? `${Math.floor(i / 26)}` : ""),
    ]),
  );
  const width = Math.max(2, ...[...labels.values()].map((l) => l.length));
  const out: string[] = ["instances:"];
  for (const [id, label] of labels) out.push(`  ${label.padEnd(width)}  ${id}`);
  const byKey = new Map<string, VerifyCell>();
  for (const c of report.cells)
    byKey.set(`${c.source} ${c.destination} ${formatProbeTarget(c.target)} ${c.family}`, c);
  const grid = (target: ProbeTarget, family: Family, cellText: (c: VerifyCell) => string): string[] => {
    const header = `${"".padEnd(width)} ${report.instances.map((id) => (labels.get(id) ?? "").padStart(width)).join(" ")}`;
    const rows = report.instances.map((src) => {
      const cells = report.instances.map((dst) => {
        const c = byKey.get(`${src} ${dst} ${formatProbeTarget(target)} ${family}`);
        const unprobed = notProbed(report.skipped, dst, target);
        return (src === dst ? "-" : c ? cellText(c) : unprobed ? "?" : " ").padStart(width);
      });
      return `${(labels.get(src) ?? "").padEnd(width)} ${cells.join(" ")}`;
    });
    return [header, ...rows];
  };
  for (const target of report.targets) {
    for (const family of [4, 6] as const) {
      if (
        !report.cells.some(
          (c) => c.family === family && formatProbeTarget(c.target) === formatProbeTarget(target),
        )
      )
        continue;
      const name = `${formatProbeTarget(target)} IPv${family}`;
      const expected = grid(target, family, (c) => mark(c.expected));
      const actual = grid(target, family, (c) => mark(c.actual));
      const diff = grid(target, family, (c) => (c.expected === c.actual ? "." : "!"));
      out.push("", `${name}   expected | actual | mismatch (rows: from, columns: to)`);
      for (let i = 0; i < expected.length; i++) {
        out.push(`  ${expected[i]}   |   ${actual[i]}   |   ${diff[i]}`);
      }
    }
  }
  out.push(
    "",
    `${report.cells.length} probes, ${report.mismatches.length} mismatches`,
    ...report.mismatches.map(
      (c) =>
        `  MISMATCH ${c.source} -> ${c.destination} (${c.address}) ${formatProbeTarget(c.target)}: expected ${c.expected}, got ${c.actual}`,
    ),
    ...report.skipped.map(
      (s) =>
        `  NOT PROBED ${formatProbeTarget(s.target)} to ${s.instance} (?): another program in it holds the port`,
    ),
  );
  return out.join("\n");
}
