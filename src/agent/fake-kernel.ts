// An in-memory stand-in for nft, for tests without root. It understands the flat statements the
// compiler writes (add/delete table, set, map, chain, element, ct timeout; flush chain/table; add
// rule) and
// enforces what makes real transactions fail: missing objects, overlapping or unknown interval
// elements, deleting what a rule or map still refers to. A failing script changes nothing.

import { createHash } from "node:crypto";
import { elementInterval } from "../compile/address-elements.js";
import type { IpFamily } from "../compile/nft-table.js";
import { NftApplyError, type NftKernel, type ObjectDigests } from "./kernel.js";

interface FakeSet {
  family: IpFamily;
  isMap: boolean;
  /** Set element, or map key -> verdict text. */
  elements: Map<string, string>;
}

interface FakeChain {
  spec: string;
  rules: string[];
}

interface FakeTable {
  sets: Map<string, FakeSet>;
  chains: Map<string, FakeChain>;
  /** ct timeout name -> its specification text. */
  timeouts: Map<string, string>;
}

const PREFIX = "inet ringfence";

function clone(table: FakeTable | undefined): FakeTable | undefined {
  if (!table) return undefined;
  return {
    sets: new Map(
      [...table.sets].map(([k, s]) => [
        k,
        { family: s.family, isMap: s.isMap, elements: new Map(s.elements) },
      ]),
    ),
    chains: new Map([...table.chains].map(([k, c]) => [k, { spec: c.spec, rules: [...c.rules] }])),
    timeouts: new Map(table.timeouts),
  };
}

export class FakeKernel implements NftKernel {
  private table: FakeTable | undefined;
  /** Every script applied successfully, in order. */
  readonly applied: string[] = [];
  /** Every script attempted, including failed ones. */
  readonly attempted: string[] = [];
  private failures: string[] = [];

  /** Makes the next `count` apply calls fail as nft would (e.g. to test the full-replacement fallback). */
  failNextApplies(count: number, message = "injected failure"): void {
    for (let i = 0; i < count; i++) this.failures.push(message);
  }

  async apply(script: string): Promise<void> {
    this.attempted.push(script);
    const failure = this.failures.shift();
    if (failure !== undefined) throw new NftApplyError(failure, script);
    this.table = this.run(script);
    this.applied.push(script);
  }

  /** Runs statements as someone else on the host would (drift), outside the agent's bookkeeping. */
  tamper(script: string): void {
    this.table = this.run(script);
  }

  private run(script: string): FakeTable | undefined {
    let table = clone(this.table);
    const lines = script.split("\n").filter((l) => l.trim() !== "");
    lines.forEach((line, n) => {
      try {
        table = statement(table, line.trim());
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new NftApplyError(`line ${n + 1}: ${reason}: ${line}`, script);
      }
    });
    return table;
  }

  async listTable(): Promise<string | undefined> {
    return this.table ? JSON.stringify(render(this.table)) : undefined;
  }

  async objectDigests(objects?: readonly string[]): Promise<ObjectDigests | undefined> {
    const table = this.table;
    if (!table) return objects ? new Map() : undefined;
    const all = new Map<string, string>();
    const digest = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");
    for (const [name, set] of table.sets) {
      all.set(`${set.isMap ? "map" : "set"} ${name}`, digest([set.family, [...set.elements].sort()]));
    }
    for (const [name, chain] of table.chains) all.set(`chain ${name}`, digest(chain));
    for (const [name, spec] of table.timeouts) all.set(`ct timeout ${name}`, digest(spec));
    if (!objects) return all.set("table", digest("inet ringfence"));
    return new Map(objects.flatMap((key) => (all.has(key) ? [[key, all.get(key) as string]] : [])));
  }

  async deleteTable(): Promise<void> {
    this.table = undefined;
  }

  /** Elements of a set (or keys of a map), for assertions. */
  elements(name: string): string[] | undefined {
    const set = this.table?.sets.get(name);
    return set ? [...set.elements.keys()].sort() : undefined;
  }

  /** Names of the ct timeout objects, for assertions. */
  ctTimeouts(): string[] {
    return [...(this.table?.timeouts.keys() ?? [])].sort();
  }

  /** Rule texts of a chain, for assertions. */
  rules(chain: string): string[] | undefined {
    return this.table?.chains.get(chain)?.rules.slice();
  }

  get hasTable(): boolean {
    return this.table !== undefined;
  }
}

function render(table: FakeTable): unknown {
  const sets = [...table.sets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, s]) => ({
      name,
      family: s.family,
      map: s.isMap,
      elements: [...s.elements.entries()].sort(),
    }));
  const chains = [...table.chains.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, c]) => ({ name, spec: c.spec, rules: c.rules }));
  const timeouts = [...table.timeouts.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return { sets, chains, timeouts };
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`No such file or directory (${what})`);
  return value;
}

function references(table: FakeTable, name: string, kind: "set" | "chain"): boolean {
  const pattern = kind === "set" ? `@${name}` : `jump ${name}`;
  const inRule = (rule: string) =>
    kind === "set"
      ? rule.split(/\s+/).includes(pattern)
      : rule.split(/[\s,{}]+/).some((w, i, a) => w === name && a[i - 1] === "jump");
  for (const chain of table.chains.values()) if (chain.rules.some(inRule)) return true;
  if (kind === "chain") {
    for (const set of table.sets.values()) {
      for (const verdict of set.elements.values()) if (verdict === pattern) return true;
    }
  }
  return false;
}

function elementList(body: string): string[] {
  const inner = body.trim().replace(/^\{/, "").replace(/\}$/, "");
  return inner
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
}

function statement(current: FakeTable | undefined, line: string): FakeTable | undefined {
  if (line === `add table ${PREFIX}`)
    return current ?? { sets: new Map(), chains: new Map(), timeouts: new Map() };
  if (line === `delete table ${PREFIX}`) {
    need(current, "table");
    return undefined;
  }
  const table = need(current, "table");
  if (line === `flush table ${PREFIX}`) {
    for (const chain of table.chains.values()) chain.rules = [];
    for (const set of table.sets.values()) set.elements.clear();
    return table;
  }
  let m = /^add (set|map) inet ringfence (\S+) \{ type (ipv4_addr|ipv6_addr)/.exec(line);
  if (m) {
    const [, kind, name, type] = m as unknown as [string, string, string, string];
    if (!table.sets.has(name)) {
      table.sets.set(name, {
        family: type === "ipv4_addr" ? 4 : 6,
        isMap: kind === "map",
        elements: new Map(),
      });
    }
    return table;
  }
  m = /^delete (set|map) inet ringfence (\S+)$/.exec(line);
  if (m) {
    const name = m[2] as string;
    need(table.sets.get(name), `set ${name}`);
    if (references(table, name, "set")) throw new Error(`Device or resource busy (set ${name} in use)`);
    table.sets.delete(name);
    return table;
  }
  m =
    /^add ct timeout inet ringfence (\S+) (\{ protocol (?:tcp|udp); l3proto (?:ip|ip6); policy = \{ [^}]+ \}; \})$/.exec(
      line,
    );
  if (m) {
    const [, name, spec] = m as unknown as [string, string, string];
    const existing = table.timeouts.get(name);
    if (existing !== undefined && existing !== spec) throw new Error(`File exists (ct timeout ${name})`);
    table.timeouts.set(name, spec);
    return table;
  }
  m = /^delete ct timeout inet ringfence (\S+)$/.exec(line);
  if (m) {
    const name = m[1] as string;
    need(table.timeouts.get(name), `ct timeout ${name}`);
    for (const chain of table.chains.values()) {
      if (chain.rules.some((rule) => rule.includes(`ct timeout set "${name}"`)))
        throw new Error(`Device or resource busy (ct timeout ${name} in use)`);
    }
    table.timeouts.delete(name);
    return table;
  }
  m = /^add chain inet ringfence (\S+)(?: (\{.*\}))?$/.exec(line);
  if (m) {
    const name = m[1] as string;
    if (!table.chains.has(name)) table.chains.set(name, { spec: m[2] ?? "", rules: [] });
    return table;
  }
  m = /^(flush|delete) chain inet ringfence (\S+)$/.exec(line);
  if (m) {
    const name = m[2] as string;
    const chain = need(table.chains.get(name), `chain ${name}`);
    if (m[1] === "flush") {
      chain.rules = [];
    } else {
      // nft deletes a chain with its rules; only a reference to it keeps it
      if (references(table, name, "chain")) throw new Error(`Device or resource busy (chain ${name} in use)`);
      table.chains.delete(name);
    }
    return table;
  }
  m = /^(add|delete) element inet ringfence (\S+) (\{.*\})$/.exec(line);
  if (m) {
    const [, verb, name, body] = m as unknown as [string, string, string, string];
    const set = need(table.sets.get(name), `set ${name}`);
    for (const element of elementList(body)) {
      if (set.isMap) {
        const [key, verdict] = element.split(" : ").map((s) => s.trim());
        if (verb === "add") {
          const target = /^jump (\S+)$/.exec(verdict ?? "")?.[1];
          need(target ? table.chains.get(target) : undefined, `chain ${target}`);
          if (set.elements.has(key as string)) throw new Error(`File exists (map key ${key})`);
          set.elements.set(key as string, verdict as string);
        } else {
          if (!set.elements.delete(key as string))
            throw new Error(`No such file or directory (element ${key})`);
        }
        continue;
      }
      const interval = elementInterval(element, set.family);
      if (!interval) throw new Error(`syntax error (element ${element})`);
      if (verb === "delete") {
        if (!set.elements.delete(element)) throw new Error(`No such file or directory (element ${element})`);
        continue;
      }
      if (set.elements.has(element)) continue;
      for (const other of set.elements.keys()) {
        const o = elementInterval(other, set.family);
        if (o && o.lo <= interval.hi && interval.lo <= o.hi) {
          throw new Error(`conflicting intervals specified (${element} overlaps ${other})`);
        }
      }
      set.elements.set(element, "");
    }
    return table;
  }
  m = /^add rule inet ringfence (\S+) (.*)$/.exec(line);
  if (m) {
    const [, name, text] = m as unknown as [string, string, string];
    const chain = need(table.chains.get(name), `chain ${name}`);
    for (const word of text.split(/[\s,{}]+/)) {
      if (word.startsWith("@")) need(table.sets.get(word.slice(1)), `set ${word}`);
    }
    const words = text.split(/[\s,{}]+/);
    words.forEach((w, i) => {
      if (words[i - 1] === "jump") need(table.chains.get(w), `chain ${w}`);
    });
    const timeout = /ct timeout set "([^"]+)"/.exec(text)?.[1];
    if (timeout !== undefined) need(table.timeouts.get(timeout), `ct timeout ${timeout}`);
    chain.rules.push(text);
    return table;
  }
  throw new Error("syntax error, unknown statement");
}
