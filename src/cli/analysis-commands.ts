// The analysis family: questions about an estate answered without sending a packet. Every
// command reads one estate (see analysis-source.ts) and answers through the policy evaluator.

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import { pullSnapshotFiles, writeSnapshot } from "../importers/ec2-api.js";
import { type Family, formatIp, type IpAddress } from "../net/address.js";
import { IntervalSet } from "../net/interval-set.js";
import { describeSet } from "../policy/address-space.js";
import { diffEstates, type FlowChange, type OutsideChange } from "../policy/diff.js";
import { type FlowVerdict, renderVerdict, trafficLabel } from "../policy/evaluate.js";
import { computeMatrix, groupMatrix, type ReachabilityMatrix } from "../policy/matrix.js";
import { type IndexedInterface, PolicyIndex, type Traffic } from "../policy/policy-index.js";
import {
  decidingPorts,
  exposure,
  reachableFrom,
  verdictsBetween,
  whoCanReach,
} from "../policy/reachability.js";
import { parseTrafficList, type Selection, select } from "../policy/selectors.js";
import { textTable } from "../policy/text-table.js";
import {
  ec2Source,
  loadEstate,
  loadIndex,
  parseCommandArgs,
  SOURCE_OPTIONS,
  SOURCE_USAGE,
  type SourceValues,
} from "./analysis-source.js";
import { type Command, UsageError } from "./command.js";

const SELECTORS = `SRC and DST: an instance id (i-...), an interface id (eni-...), an IP (a private IP picks
its interface, a public/Elastic IP the interface it is associated with, any other IP is outside
every VPC), a CIDR (the interfaces inside it, else those addresses), a group id or name (its
members), tag:KEY=VALUE or tag:KEY (interfaces or instances with that tag), or internet.`;

const TRAFFIC = `PROTO/PORT: tcp/22, udp/53, tcp/1000-2000, icmp/8 (a type, some code) or icmp/8:0, icmpv6/128,
all (every protocol), or a protocol number (e.g. 47). IPv6 when an address given is IPv6 or with --ipv6.`;

/** An interface as `instance/eni address`: the address a selector asked for, else its first of the family. */
function label(i: IndexedInterface, family: Family = 4, selected?: string): string {
  const address = i.addresses.find((a) => a.family === family) ?? i.addresses[0];
  const who = i.instance ? `${i.instance.id}/${i.eni.id}` : i.eni.id;
  const shown = selected ?? (address ? formatIp(address) : undefined);
  return shown ? `${who} ${shown}` : who;
}

function familyOf(selections: Selection[], ipv6: boolean | undefined, traffic?: string): Family {
  for (const s of selections) if (s.family !== undefined) return s.family;
  if (ipv6 || traffic?.toLowerCase().startsWith("icmpv6")) return 6;
  // interfaces that have IPv6 addresses only can be asked about in IPv6 only
  const chosen = selections.flatMap((s) => (s.kind === "interfaces" ? s.interfaces : []));
  if (
    chosen.length > 0 &&
    chosen.every((i) => i.addresses.length > 0 && i.addresses.every((a) => a.family === 6))
  )
    return 6;
  return 4;
}

function need(positionals: string[], count: number, names: string): string[] {
  if (positionals.length !== count) throw new UsageError(`expected ${names}`);
  return positionals;
}

function print(json: unknown): void {
  console.log(JSON.stringify(json, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2));
}

const can: Command = {
  name: "can",
  summary: "can SRC reach DST on PROTO/PORT, and why (exit 0 yes, 1 no)",
  usage: `Usage: ringfence can SRC DST PROTO/PORT [options]

Evaluates the flow through source egress, source subnet NACL (outbound), destination subnet NACL
(inbound) and destination ingress, and says which group and rule allowed each side or which step
blocked it. With selectors that pick several interfaces, every pair is shown; a set of outside
addresses (internet, a CIDR) is allowed when some address of it is. A port range is allowed when
every port is.

Exit status: 0 every flow allowed, 1 some flow denied, 2 error.

${SELECTORS}

${TRAFFIC}

Options:
  --ipv6                 ask about IPv6 when no selector implies the family
${SOURCE_USAGE}

Example:
  ringfence can --snapshot snap/ i-0abc tag:Role=db tcp/5432`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { ...SOURCE_OPTIONS, ipv6: { type: "boolean" } });
    const [srcText, dstText, trafficText] = need(positionals, 3, "SRC DST PROTO/PORT") as [
      string,
      string,
      string,
    ];
    const index = await loadIndex(values);
    const source = select(index, srcText);
    const destination = select(index, dstText);
    const family = familyOf([source, destination], values.ipv6, trafficText);
    const kinds = parseTrafficList(trafficText, family, 65536);
    const results: { verdict: FlowVerdict; denied: string[]; total: number }[] = [];
    if (kinds.length === 1) {
      for (const v of verdictsBetween(index, source, destination, kinds[0] as Traffic, family)) {
        results.push({ verdict: v, denied: v.allowed ? [] : [v.protocol], total: 1 });
      }
    } else {
      const byPair = new Map<string, { first?: FlowVerdict; firstDenied?: FlowVerdict; denied: string[] }>();
      for (const t of kinds) {
        for (const v of verdictsBetween(index, source, destination, t, family)) {
          const key = `${v.source.interfaceId ?? v.source.address}>${v.destination.interfaceId ?? v.destination.address}`;
          const entry = byPair.get(key) ?? { denied: [] };
          entry.first ??= v;
          if (!v.allowed) {
            entry.firstDenied ??= v;
            entry.denied.push(String(v.traffic.port));
          }
          byPair.set(key, entry);
        }
      }
      for (const e of byPair.values()) {
        const verdict = e.firstDenied ?? e.first;
        if (verdict) results.push({ verdict, denied: e.denied, total: kinds.length });
      }
    }
    if (results.length === 0) {
      throw new Error(
        `no flow to evaluate: the selections have no IPv${family} addresses (or are the same interface)`,
      );
    }
    const allAllowed = results.every((r) => r.denied.length === 0);
    if (values.json) {
      print(
        results.map((r) =>
          r.total === 1
            ? r.verdict
            : { ...r.verdict, portsChecked: r.total, portsDenied: r.denied.map(Number) },
        ),
      );
    } else {
      for (const r of results) {
        console.log(renderVerdict(r.verdict));
        if (r.total > 1) {
          console.log(
            r.denied.length === 0
              ? `  all ${r.total} ports allowed (shown: the first)`
              : `  denied on ${r.denied.length} of ${r.total} ports (shown: the first denied)`,
          );
        }
      }
      if (results.length > 1) {
        const n = results.filter((r) => r.denied.length === 0).length;
        console.log(`${n} of ${results.length} flows allowed`);
      }
    }
    return allAllowed ? 0 : 1;
  },
};

const whoCanReachCommand: Command = {
  name: "who-can-reach",
  summary: "every interface and outside address that may open a flow to DST on PROTO/PORT",
  usage: `Usage: ringfence who-can-reach DST PROTO/PORT [options]

Lists, for each interface DST selects, the interfaces of the estate that may open the flow
(security groups and NACLs both ways) and the addresses outside every VPC that may.

${SELECTORS}

${TRAFFIC}

Options:
  --ipv6                 IPv6 when DST does not imply the family
${SOURCE_USAGE}`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { ...SOURCE_OPTIONS, ipv6: { type: "boolean" } });
    const [dstText, trafficText] = need(positionals, 2, "DST PROTO/PORT") as [string, string];
    const index = await loadIndex(values);
    const destination = select(index, dstText);
    if (destination.kind !== "interfaces")
      throw new UsageError(`'${dstText}' selects no interface of the estate`);
    const family = familyOf([destination], values.ipv6, trafficText);
    // a range is reached by whoever may open flows on every port of it, as `can` answers a range;
    // the ports where no rule or ACL entry of the estate starts or ends answer as the one before
    if (trafficText.includes(","))
      throw new UsageError("who-can-reach takes one PROTO/PORT (a range is one), not a list");
    const asked = parseTrafficList(trafficText, family, 65536);
    const traffics = decidingPorts(index, asked);
    const perTraffic = traffics.map((t) => whoCanReach(index, destination, t, family));
    const results = (perTraffic[0] ?? []).map((first, k) => {
      const everywhere = perTraffic.map((p) => new Set(p[k]?.interfaces));
      const kept = first.interfaces.flatMap((i, n) => (everywhere.every((s) => s.has(i)) ? [n] : []));
      return {
        destination: first.destination,
        interfaces: kept.map((n) => first.interfaces[n] as IndexedInterface),
        from: kept.map((n) => first.from[n] as IpAddress),
        external: perTraffic.reduce(
          (set, p) => set.intersect(p[k]?.external ?? IntervalSet.EMPTY),
          first.external,
        ),
      };
    });
    const shown =
      asked.length === 1
        ? trafficLabel(asked[0] as Traffic, family)
        : `${trafficLabel(asked[0] as Traffic, family)}-${(asked[asked.length - 1] as Traffic).port}`;
    if (values.json) {
      print(
        results.map((r) => ({
          destination: r.destination.eni.id,
          instance: r.destination.instance?.id,
          traffic: shown,
          interfaces: r.interfaces.map((i, n) => ({
            interfaceId: i.eni.id,
            address: r.from[n] && formatIp(r.from[n]),
            instanceId: i.instance?.id,
            groups: i.eni.groupIds,
          })),
          outsideVpc: describeSet(r.external, family, 1e9).split(", ").filter(Boolean),
        })),
      );
      return 0;
    }
    for (const r of results) {
      console.log(`${label(r.destination, family, destination.address)} ${shown} can be reached from:`);
      for (const [n, i] of r.interfaces.entries()) {
        const from = r.from[n];
        console.log(`  ${label(i, family, from && formatIp(from))} [${i.eni.groupIds.join(", ")}]`);
      }
      if (!r.external.isEmpty) console.log(`  outside VPC: ${outsideText(index, r.external, family)}`);
      if (r.interfaces.length === 0 && r.external.isEmpty) console.log("  nobody");
    }
    return 0;
  },
};

const reachableFromCommand: Command = {
  name: "reachable-from",
  summary: "everything SRC may open flows to, with the services",
  usage: `Usage: ringfence reachable-from SRC [options]

For each interface SRC selects: every interface it may open a flow to and on which services
(e.g. tcp/22, tcp/1000-2000, icmp/8, all), and its egress open towards the internet.

${SELECTORS}

Options:
  --ipv6                 IPv6 flows instead of IPv4
${SOURCE_USAGE}`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { ...SOURCE_OPTIONS, ipv6: { type: "boolean" } });
    const [srcText] = need(positionals, 1, "SRC") as [string];
    const index = await loadIndex(values);
    const source = select(index, srcText);
    if (source.kind !== "interfaces") throw new UsageError(`'${srcText}' selects no interface of the estate`);
    const family = familyOf([source], values.ipv6);
    const results = reachableFrom(index, source, family);
    if (values.json) {
      print(
        results.map((r) => ({
          source: r.source.eni.id,
          instance: r.source.instance?.id,
          destinations: r.destinations.map((d) => ({
            interfaceId: d.destination.eni.id,
            instanceId: d.destination.instance?.id,
            services: d.services,
          })),
          internet: r.internet,
        })),
      );
      return 0;
    }
    for (const r of results) {
      console.log(`${label(r.source, family, source.address)} can open flows to:`);
      for (const d of r.destinations)
        console.log(`  ${label(d.destination, family)}: ${d.services.join(", ")}`);
      if (r.destinations.length === 0) console.log("  no interface of the estate");
      for (const line of r.internet) console.log(`  internet: ${line}`);
    }
    return 0;
  },
};

const exposureCommand: Command = {
  name: "exposure",
  summary: "what is open to the internet, graded by public/Elastic IP",
  usage: `Usage: ringfence exposure [options]

Every ingress rule that admits addresses on the internet (public unicast space outside the
estate's VPCs), per interface. Graded 'public' when the interface has a public or Elastic IPv4
(or a global IPv6 address, for IPv6 rules): reachable from the internet, routing permitting;
'private-only' otherwise (open, but only through NAT, a load balancer or a future public IP).
Marked when the subnet's network ACL admits none of those sources.

Options:
${SOURCE_USAGE}`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, SOURCE_OPTIONS);
    need(positionals, 0, "no arguments");
    const index = await loadIndex(values);
    const findings = exposure(index).sort(
      (a, b) =>
        (a.grade === b.grade ? 0 : a.grade === "public" ? -1 : 1) ||
        a.interface.eni.id.localeCompare(b.interface.eni.id) ||
        a.service.localeCompare(b.service),
    );
    if (values.json) {
      print(
        findings.map((f) => ({
          grade: f.grade,
          interfaceId: f.interface.eni.id,
          instanceId: f.interface.instance?.id,
          publicIp: f.interface.publicIp,
          elasticIp: f.interface.elasticIp,
          publicAddress: f.publicAddress,
          family: f.family,
          service: f.service,
          sources: f.sources,
          worldOpen: f.worldOpen,
          groupId: f.groupId,
          ruleId: f.ruleId,
          blockedByNacl: f.blockedByNacl,
        })),
      );
      return 0;
    }
    if (findings.length === 0) {
      console.log("nothing is open to the internet");
      return 0;
    }
    const rows = findings.map((f) => [
      f.grade,
      f.interface.instance ? `${f.interface.instance.id}/${f.interface.eni.id}` : f.interface.eni.id,
      f.publicAddress ?? "-",
      f.service,
      f.sources,
      `${f.groupId} ${f.ruleId}`,
      f.blockedByNacl ? "blocked by NACL" : "",
    ]);
    printTable(["GRADE", "INTERFACE", "PUBLIC IP", "SERVICE", "FROM", "RULE", "NOTE"], rows);
    return 0;
  },
};

/** Addresses outside the VPCs, said briefly when they are all of them. */
function outsideText(index: PolicyIndex, set: IntervalSet, family: Family): string {
  const everywhere = IntervalSet.range(0n, family === 4 ? (1n << 32n) - 1n : (1n << 128n) - 1n).subtract(
    index.vpcSpace[family],
  );
  if (set.covers(everywhere)) return `any address (${family === 4 ? "0.0.0.0/0" : "::/0"})`;
  return describeSet(set, family, 12);
}

function printTable(head: string[], rows: string[][]): void {
  for (const line of textTable(head, rows)) console.log(line);
}

const DEFAULT_PORTS = "tcp/22,tcp/80,tcp/443,tcp/3389,tcp/3306,tcp/5432";

const matrixCommand: Command = {
  name: "matrix",
  summary: "the full reachability truth table between instances or groups",
  usage: `Usage: ringfence matrix [--ports LIST] [--format table|csv|json] [--by instance|group] [options]

Rows are sources, columns destinations; a cell lists the ports (of --ports) on which the row may
open flows to the column. --by instance (default): instances (and interfaces without one);
an instance reaches another when some interface of it reaches some interface of the other.
--by group: a cell lists a port when every member of the row group reaches every member of the
column group ("22"), or some pairs do ("22?").
Computed once per class of interfaces with equal groups and subnet, then expanded.

Options:
  --ports LIST           comma-separated PROTO/PORT (default ${DEFAULT_PORTS})
  --format FORMAT        table (default), csv or json
  --by instance|group
  --ipv6                 IPv6 flows
  -o FILE                write to FILE instead of standard output
${SOURCE_USAGE}`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...SOURCE_OPTIONS,
      ports: { type: "string" },
      format: { type: "string" },
      by: { type: "string" },
      ipv6: { type: "boolean" },
      output: { type: "string", short: "o" },
    });
    need(positionals, 0, "no arguments");
    const format = values.json ? "json" : (values.format ?? "table");
    if (!["table", "csv", "json"].includes(format))
      throw new UsageError(`--format ${format}: table, csv or json`);
    const by = values.by ?? "instance";
    if (by !== "instance" && by !== "group") throw new UsageError(`--by ${by}: instance or group`);
    const family: Family = values.ipv6 ? 6 : 4;
    const traffic = parseTrafficList(values.ports ?? DEFAULT_PORTS, family, 1024);
    const labels = traffic.map((t) => trafficLabel(t, family));
    const index = await loadIndex(values);
    // a column is one traffic of --ports, computed as the cases the rules tell apart (an ICMP type
    // without a code: one per code, see PolicyIndex.trafficCases); a cell holds when one case does
    const cases = traffic.flatMap((t, k) =>
      index.trafficCases(t).map((c) => ({ traffic: c, label: labels[k] as string })),
    );
    const m = computeMatrix(
      index,
      cases.map((c) => c.traffic),
      family,
    );
    const caseLabels = cases.map((c) => c.label);
    const table = by === "instance" ? instanceTable(m, caseLabels) : groupTable(m, caseLabels);
    // line by line: the matrix of a large estate is more text than one string may hold
    const out = values.output ? createWriteStream(values.output) : process.stdout;
    // a file that cannot be written (no such directory) fails the command, whenever it shows
    const written = out === process.stdout ? undefined : finished(out);
    written?.catch(() => {});
    for (const line of matrixLines(table, format, labels, by === "instance")) {
      if (!out.write(`${line}\n`)) await Promise.race([once(out, "drain"), written]);
    }
    if (written) {
      out.end();
      await written;
    }
    return 0;
  },
};

interface MatrixTable {
  rows: string[];
  cells: Map<string, Map<string, string[]>>;
}

function instanceTable(m: ReachabilityMatrix, labels: string[]): MatrixTable {
  const keyOf = (i: IndexedInterface) => i.instance?.id ?? i.eni.id;
  const rows = [...new Set(m.interfaces.map(keyOf))].sort();
  const cells = new Map<string, Map<string, string[]>>();
  for (let t = 0; t < labels.length; t++) {
    for (let s = 0; s < m.interfaces.length; s++) {
      const sk = keyOf(m.interfaces[s] as IndexedInterface);
      for (let d = 0; d < m.interfaces.length; d++) {
        const dk = keyOf(m.interfaces[d] as IndexedInterface);
        if (sk === dk || !m.allowed(t, s, d)) continue;
        const row = cells.get(sk) ?? new Map<string, string[]>();
        cells.set(sk, row);
        const list = row.get(dk) ?? [];
        if (!list.includes(labels[t] as string)) list.push(labels[t] as string);
        row.set(dk, list);
      }
    }
  }
  return { rows, cells };
}

function groupTable(m: ReachabilityMatrix, labels: string[]): MatrixTable {
  const cells = new Map<string, Map<string, string[]>>();
  const add = (a: string, b: string, label: string, whole: boolean) => {
    const row = cells.get(a) ?? new Map<string, string[]>();
    cells.set(a, row);
    row.set(b, [...(row.get(b) ?? []), whole ? label : `${label}?`]);
  };
  // the cases of each column, in column order
  const columns = new Map<string, number[]>();
  for (const [t, label] of labels.entries()) columns.set(label, [...(columns.get(label) ?? []), t]);
  const rows = groupMatrix(m, 0).groups;
  // each group's member positions, for the columns counted pair by pair (made once, when one is)
  let members: Map<string, number[]> | undefined;
  const membersOf = () => {
    if (!members) {
      const built = new Map<string, number[]>();
      m.interfaces.forEach((i, k) => {
        for (const group of i.eni.groupIds) built.set(group, [...(built.get(group) ?? []), k]);
      });
      members = built;
    }
    return members;
  };
  for (const [label, cases] of columns) {
    if (cases.length === 1) {
      const g = groupMatrix(m, cases[0] as number);
      for (const a of rows) {
        for (const b of rows) {
          const { allowed, pairs } = g.cell(a, b);
          if (allowed > 0) add(a, b, label, allowed === pairs);
        }
      }
      continue;
    }
    // several cases (an ICMP type, one per code): a pair is allowed when one of its cases is, so
    // the cell is counted pair by pair, as `can` answers each pair
    const byGroup = membersOf();
    for (const a of rows) {
      for (const b of rows) {
        let allowed = 0;
        let pairs = 0;
        for (const s of byGroup.get(a) ?? []) {
          for (const d of byGroup.get(b) ?? []) {
            if (s === d) continue;
            pairs++;
            if (cases.some((t) => m.allowed(t, s, d))) allowed++;
          }
        }
        if (allowed > 0) add(a, b, label, allowed === pairs);
      }
    }
  }
  return { rows, cells };
}

function* matrixLines(
  table: MatrixTable,
  format: string,
  labels: string[],
  blankDiagonal: boolean,
): Generator<string> {
  const cell = (a: string, b: string) => {
    const list = table.cells.get(a)?.get(b);
    if (!list || list.length === 0) return a === b && blankDiagonal ? "" : "-";
    return list.map((l) => l.replace(/^tcp\//, "")).join(" ");
  };
  if (format === "json") {
    // one source's row a line: the same document JSON.stringify would give, in pieces
    yield `{"ports":${JSON.stringify(labels)},"rows":${JSON.stringify(table.rows)},"allowed":{`;
    let first = true;
    for (const [a, row] of table.cells) {
      yield `${first ? "" : ","}${JSON.stringify(a)}:${JSON.stringify(Object.fromEntries(row))}`;
      first = false;
    }
    yield "}}";
    return;
  }
  if (format === "csv") {
    const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    yield ["source", ...table.rows].map(quote).join(",");
    for (const a of table.rows) yield [a, ...table.rows.map((b) => cell(a, b))].map(quote).join(",");
    return;
  }
  const head = ["SOURCE \\ DEST", ...table.rows];
  // a row's cells are made when it is written, not kept for the whole table
  yield* textTable(head, {
    *[Symbol.iterator]() {
      for (const a of table.rows) yield [a, ...table.rows.map((b) => cell(a, b))];
    },
  });
  yield "";
  yield `ports: ${labels.join(", ")} (tcp/ dropped in cells)`;
}

const diffCommand: Command = {
  name: "diff",
  summary: "flows a change opens and closes between two snapshots (or live)",
  usage: `Usage: ringfence diff BEFORE AFTER [options]

BEFORE and AFTER are snapshot directories, or 'live' for the endpoint (--endpoint/--aws).
Shows, in IPv4 and in IPv6, the flows between interfaces (by interface id) allowed after but not
before (+, opened) and the other way round (-, closed), with their services; the flows between an
interface and addresses outside every VPC that open or close; and changes in internet exposure.

Exit status: 0 no change, 1 something opened or closed, 2 error.

Options:
  --ipv4                 IPv4 flows only
  --ipv6                 IPv6 flows only
  --json                 an array with one object per family
${SOURCE_USAGE}`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...SOURCE_OPTIONS,
      ipv4: { type: "boolean" },
      ipv6: { type: "boolean" },
    });
    const [beforeText, afterText] = need(positionals, 2, "BEFORE AFTER") as [string, string];
    if (values.snapshot !== undefined) throw new UsageError("diff takes its two snapshots as arguments");
    if (values.ipv4 && values.ipv6)
      throw new UsageError("--ipv4 and --ipv6 together are the default: give neither");
    const options = { dynamicSubnets: values["dynamic-subnet"] ?? [] };
    const before = PolicyIndex.build(await loadEstate(values, beforeText), options);
    const after = PolicyIndex.build(await loadEstate(values, afterText), options);
    const families: Family[] = values.ipv4 ? [4] : values.ipv6 ? [6] : [4, 6];
    const diffs = families.map((family) => diffEstates(before, after, family));
    const changed = diffs.some(
      (d) =>
        d.opened.length + d.closed.length + d.outsideOpened.length + d.outsideClosed.length > 0 ||
        d.exposureOpened.length + d.exposureClosed.length > 0 ||
        d.interfacesAdded.length + d.interfacesRemoved.length > 0,
    );
    if (values.json) {
      print(diffs);
      return changed ? 1 : 0;
    }
    for (const d of diffs) {
      const name = (idx: PolicyIndex, id: string, address?: string) => {
        const i = idx.interfaces.get(id);
        return i ? label(i, d.family, address) : id;
      };
      const outside = (sign: string, idx: PolicyIndex, c: OutsideChange) =>
        console.log(
          c.direction === "in"
            ? `${sign} ${c.addresses} -> ${name(idx, c.interface)}: ${c.services.join(", ")}`
            : `${sign} ${name(idx, c.interface)} -> ${c.addresses}: ${c.services.join(", ")}`,
        );
      const flow = (sign: string, idx: PolicyIndex, f: FlowChange) =>
        console.log(
          `${sign} ${name(idx, f.source, f.sourceAddress)} -> ${name(idx, f.destination, f.destinationAddress)}: ${f.services.join(", ")}`,
        );
      for (const f of d.opened) flow("+", after, f);
      for (const f of d.closed) flow("-", before, f);
      for (const c of d.outsideOpened) outside("+", after, c);
      for (const c of d.outsideClosed) outside("-", before, c);
      for (const e of d.exposureOpened) console.log(`+ internet exposure: ${e}`);
      for (const e of d.exposureClosed) console.log(`- internet exposure: ${e}`);
      const family = d.family === 6 ? " (IPv6)" : "";
      for (const i of d.interfacesAdded) console.log(`+ interface ${i}${family}`);
      for (const i of d.interfacesRemoved) console.log(`- interface ${i}${family}`);
    }
    if (!changed) console.log("no flow opened or closed");
    return changed ? 1 : 0;
  },
};

const snapshotCommand: Command = {
  name: "snapshot",
  summary: "write the live estate as a snapshot directory of describe-* JSON",
  usage: `Usage: ringfence snapshot -o DIR [--endpoint URL | --aws [--region R]]

Pulls DescribeSecurityGroups, DescribeSecurityGroupRules, DescribeInstances,
DescribeNetworkInterfaces, DescribeSubnets, DescribeVpcs, DescribeNetworkAcls,
DescribeManagedPrefixLists (+ GetManagedPrefixListEntries) and DescribeAddresses (all pages) and
writes one describe-*.json per call into DIR: the format every analysis command reads with
--snapshot. Only read-only ec2:Describe*/Get* calls are made.

Options:
  -o, --output DIR       the directory to write (created if needed)
  --endpoint URL         ringfence's server (default the local one)
  --aws, --region R      a real AWS account, default credential chain`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      output: { type: "string", short: "o" },
      endpoint: { type: "string" },
      aws: { type: "boolean" },
      region: { type: "string" },
    });
    need(positionals, 0, "no arguments");
    if (!values.output) throw new UsageError("-o DIR is required");
    const sourceValues: SourceValues = values;
    let files: Map<string, unknown>;
    try {
      files = await pullSnapshotFiles(ec2Source(sourceValues));
    } catch (error) {
      // the same clear message as every other command
      await loadEstate(sourceValues, "live");
      throw error;
    }
    await writeSnapshot(values.output, files);
    const count = (name: string, key: string) => {
      const body = files.get(name) as Record<string, unknown[]> | undefined;
      return body?.[key]?.length ?? 0;
    };
    console.log(
      `wrote ${files.size} files to ${values.output}: ${count("describe-security-groups.json", "SecurityGroups")} groups, ` +
        `${count("describe-network-interfaces.json", "NetworkInterfaces")} interfaces, ${count("describe-subnets.json", "Subnets")} subnets`,
    );
    return 0;
  },
};

export const analysisCommands: Command[] = [
  can,
  whoCanReachCommand,
  reachableFromCommand,
  exposureCommand,
  matrixCommand,
  diffCommand,
  snapshotCommand,
];
