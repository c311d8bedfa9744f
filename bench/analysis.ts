// `npm run bench -- analysis [--sizes 1000,10000,100000] [--ports LIST] [--queries N] [--json]`
//
// Generated estates (bench/analysis-estate.ts, seeded) at each size: time and memory to build the
// PolicyIndex, the full reachability matrix for the ports (class-based, then expanded into per-class
// bitsets that answer every cell), single flow queries with explanations (p50/p99), and lint when
// src/policy/lint.ts is present. Sizes whose class matrix would not fit are run class-level only
// (totals without per-cell expansion) and say so.

import { performance } from "node:perf_hooks";
import type { Estate } from "../src/model/estate.js";
import { evaluateFlow, isFlowAllowed } from "../src/policy/evaluate.js";
import { computeMatrix } from "../src/policy/matrix.js";
import { PolicyIndex, type Traffic } from "../src/policy/policy-index.js";
import { parseTrafficList } from "../src/policy/selectors.js";
import { generateEstate, seededRandom } from "./analysis-estate.js";
import type { BenchOptions } from "./main.js";

interface SizeResult {
  interfaces: number;
  groups: number;
  rules: number;
  classes: number;
  indexMs: number;
  indexCpuMs: number;
  indexRssMb: number;
  indexHeapMb: number;
  matrixMode: "expanded" | "class-level";
  matrixMs: number;
  matrixCpuMs: number;
  matrixPorts: number;
  matrixMsPerPort: number;
  matrixRssMb: number;
  allowedPairs: number[];
  queryP50Us: number;
  queryP99Us: number;
  explainP50Us: number;
  explainP99Us: number;
  lintMs?: number;
  lintFindings?: number;
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

async function lintModule(): Promise<((estate: Estate) => unknown[]) | undefined> {
  try {
    const m = (await import("../src/policy/lint.js")) as { lintEstate?: (e: Estate) => unknown[] };
    return m.lintEstate;
  } catch {
    return undefined;
  }
}

async function measure(size: number, traffic: Traffic[], queries: number): Promise<SizeResult> {
  const estate = generateEstate({ interfaces: size, seed: 42 });
  global.gc?.();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const index = PolicyIndex.build(estate);
  const indexMs = performance.now() - t0;
  const indexCpuMs = process.cpuUsage(c0).user / 1000;
  const afterIndex = process.memoryUsage();

  // The expanded matrix keeps two bitsets per class and side: classes x interfaces / 4 bytes per port.
  const probe = computeMatrix(index, [], 4, { expand: false, classPairs: false });
  const classes = probe.classes.length;
  const expandedBytes = (classes * size * traffic.length) / 2;
  const expand = expandedBytes < 2e9 && classes * classes * 4 * traffic.length < 2e9;
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  // Class-level runs are quadratic in classes: time one port and say so rather than all of them.
  const measured = expand ? traffic : traffic.slice(0, 1);
  const m = computeMatrix(index, measured, 4, { expand, classPairs: expand });
  const matrixMs = performance.now() - t1;
  const matrixCpuMs = process.cpuUsage(c1).user / 1000;
  const matrixRss = process.memoryUsage().rss;

  const rnd = seededRandom(7);
  const ids = [...index.interfaces.keys()];
  const pick = () => ids[Math.floor(rnd() * ids.length)] as string;
  const flows = Array.from({ length: queries }, () => ({
    source: { kind: "interface" as const, interfaceId: pick() },
    destination: { kind: "interface" as const, interfaceId: pick() },
    traffic: traffic[Math.floor(rnd() * traffic.length)] as Traffic,
  }));
  const fast: number[] = [];
  const explained: number[] = [];
  for (const f of flows) {
    const a = performance.now();
    isFlowAllowed(index, f);
    const b = performance.now();
    evaluateFlow(index, f);
    const c = performance.now();
    fast.push((b - a) * 1000);
    explained.push((c - b) * 1000);
  }
  fast.sort((x, y) => x - y);
  explained.sort((x, y) => x - y);

  const lint = await lintModule();
  let lintMs: number | undefined;
  let lintFindings: number | undefined;
  if (lint) {
    const t2 = performance.now();
    lintFindings = lint(estate).length;
    lintMs = performance.now() - t2;
  }
  return {
    interfaces: size,
    groups: estate.securityGroups.length,
    rules: estate.securityGroups.reduce((n, g) => n + g.rules.length, 0),
    classes,
    indexMs: Math.round(indexMs),
    indexCpuMs: Math.round(indexCpuMs),
    indexRssMb: mb(afterIndex.rss),
    indexHeapMb: mb(afterIndex.heapUsed),
    matrixMode: expand ? "expanded" : "class-level",
    matrixMs: Math.round(matrixMs),
    matrixCpuMs: Math.round(matrixCpuMs),
    matrixPorts: measured.length,
    matrixMsPerPort: Math.round(matrixMs / Math.max(1, measured.length)),
    matrixRssMb: mb(matrixRss),
    allowedPairs: [...m.totalAllowed],
    queryP50Us: Math.round(percentile(fast, 50) * 10) / 10,
    queryP99Us: Math.round(percentile(fast, 99) * 10) / 10,
    explainP50Us: Math.round(percentile(explained, 50) * 10) / 10,
    explainP99Us: Math.round(percentile(explained, 99) * 10) / 10,
    ...(lintMs !== undefined ? { lintMs: Math.round(lintMs), lintFindings } : {}),
  };
}

export async function run(options: BenchOptions): Promise<void> {
  const value = (name: string): string | undefined => {
    const k = options.args.indexOf(name);
    return k >= 0 ? options.args[k + 1] : undefined;
  };
  const sizes = (value("--sizes") ?? "1000,10000,100000").split(",").map(Number);
  const ports = value("--ports") ?? "tcp/22,tcp/443,tcp/5432,all";
  const queries = Number(value("--queries") ?? 5000);
  const traffic = parseTrafficList(ports);
  const results: SizeResult[] = [];
  for (const size of sizes) {
    if (!Number.isInteger(size) || size <= 0) throw new Error(`--sizes: '${size}' is not a size`);
    const r = await measure(size, traffic, queries);
    results.push(r);
    if (!options.json) {
      console.log(
        [
          `${r.interfaces} interfaces, ${r.groups} groups, ${r.rules} rules, ${r.classes} policy classes`,
          `  index:  ${r.indexMs} ms (cpu ${r.indexCpuMs} ms), RSS ${r.indexRssMb} MB, heap ${r.indexHeapMb} MB`,
          `  matrix (${ports}): ${r.matrixMs} ms (cpu ${r.matrixCpuMs} ms; ${r.matrixMsPerPort} ms/port, ${r.matrixMode}${
            r.matrixMode === "class-level"
              ? `: per-cell expansion skipped, totals only, first ${r.matrixPorts} port`
              : ""
          }), RSS ${r.matrixRssMb} MB, allowed pairs ${r.allowedPairs.join(" / ")}`,
          `  query:  p50 ${r.queryP50Us} us, p99 ${r.queryP99Us} us; with explanation p50 ${r.explainP50Us} us, p99 ${r.explainP99Us} us (${queries} flows)`,
          r.lintMs !== undefined
            ? `  lint:   ${r.lintMs} ms, ${r.lintFindings} findings`
            : "  lint:   (src/policy/lint.ts not present)",
        ].join("\n"),
      );
    }
  }
  if (options.json) console.log(JSON.stringify({ benchmark: "analysis", ports, queries, results }));
}
