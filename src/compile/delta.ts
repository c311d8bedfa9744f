// The minimal change from one compiled table to the next, as one nft transaction. Set and map
// elements change element by element (a membership or CIDR change never rewrites a rule); a chain
// whose rules changed is flushed and refilled (only that chain: counters elsewhere survive).
//
// Order inside the transaction (Felix's rule: whatever is referenced exists first, whatever is
// removed is unreferenced first): new sets, timeouts and chains; element changes; rewritten
// chains; removed chains; removed sets, maps and timeouts.

import {
  addChainStatement,
  addCtTimeoutStatement,
  addMapStatement,
  addSetStatement,
  elementStatements,
  fullScript,
  mapElement,
  renderRuleOnce,
  ruleStatements,
  TABLE,
} from "./nft-script.js";
import type { NftChain, NftHook, NftTable } from "./nft-table.js";
import { compareText } from "./text-order.js";

export interface TableDelta {
  /** nft -f text; empty when the tables are equal. */
  readonly script: string;
  readonly statements: number;
  /**
   * The objects the delta creates, changes or removes, as `set NAME`, `map NAME`, `chain NAME` or
   * `ct timeout NAME`; absent for a full replacement, which replaces every object.
   */
  readonly objects?: readonly string[];
}

function sameHook(a: NftHook | undefined, b: NftHook | undefined): boolean {
  return a?.hook === b?.hook && a?.priority === b?.priority && a?.policy === b?.policy;
}

function chainText(chain: NftChain): string[] {
  return chain.rules.map(renderRuleOnce);
}

function difference(a: readonly string[], b: readonly string[]): string[] {
  const other = new Set(b);
  return a.filter((x) => !other.has(x));
}

export function tableDelta(from: NftTable, to: NftTable): TableDelta {
  const create: string[] = [];
  const elements: string[] = [];
  const rules: string[] = [];
  const removeChains: string[] = [];
  const removeSets: string[] = [];
  const touched: string[] = [];

  const oldSets = new Map(from.sets.map((s) => [s.name, s]));
  const newSets = new Map(to.sets.map((s) => [s.name, s]));
  for (const set of to.sets) {
    const old = oldSets.get(set.name);
    // set and map names carry their address family, so a name never changes its type
    const before = elements.length + create.length;
    if (old) {
      elements.push(...elementStatements("delete", set.name, difference(old.elements, set.elements)));
      elements.push(...elementStatements("add", set.name, difference(set.elements, old.elements)));
    } else {
      create.push(addSetStatement(set), ...elementStatements("add", set.name, set.elements));
    }
    if (elements.length + create.length > before) touched.push(`set ${set.name}`);
  }
  for (const set of from.sets) {
    if (newSets.has(set.name)) continue;
    removeSets.push(`delete set ${TABLE} ${set.name}`);
    touched.push(`set ${set.name}`);
  }

  // a timeout's name carries its values: one is added or removed, never changed
  const oldTimeouts = new Set((from.timeouts ?? []).map((t) => t.name));
  const newTimeouts = new Set((to.timeouts ?? []).map((t) => t.name));
  for (const timeout of to.timeouts ?? []) {
    if (oldTimeouts.has(timeout.name)) continue;
    create.push(addCtTimeoutStatement(timeout));
    touched.push(`ct timeout ${timeout.name}`);
  }
  for (const name of oldTimeouts) {
    if (newTimeouts.has(name)) continue;
    removeSets.push(`delete ct timeout ${TABLE} ${name}`);
    touched.push(`ct timeout ${name}`);
  }

  const oldMaps = new Map(from.maps.map((m) => [m.name, m]));
  const newMaps = new Map(to.maps.map((m) => [m.name, m]));
  const mapElementsAfterChains: string[] = [];
  for (const map of to.maps) {
    const old = oldMaps.get(map.name);
    const now = map.entries.map(mapElement);
    const before = elements.length + mapElementsAfterChains.length + create.length;
    if (old) {
      const before = old.entries.map(mapElement);
      // a map key can be deleted and added again with another chain in the same transaction
      const gone = old.entries.filter((_, i) => !now.includes(before[i] as string)).map((e) => e.address);
      elements.push(...elementStatements("delete", map.name, gone));
      mapElementsAfterChains.push(...elementStatements("add", map.name, difference(now, before)));
    } else {
      create.push(addMapStatement(map));
      mapElementsAfterChains.push(...elementStatements("add", map.name, now));
    }
    if (elements.length + mapElementsAfterChains.length + create.length > before)
      touched.push(`map ${map.name}`);
  }
  for (const map of from.maps) {
    if (newMaps.has(map.name)) continue;
    removeSets.push(`delete map ${TABLE} ${map.name}`);
    touched.push(`map ${map.name}`);
  }

  const oldChains = new Map(from.chains.map((c) => [c.name, c]));
  const newChains = new Map(to.chains.map((c) => [c.name, c]));
  for (const chain of to.chains) {
    const old = oldChains.get(chain.name);
    if (!old || !sameHook(old.hook, chain.hook)) {
      // a base chain that changes its hook is never a jump target, so it can go first
      if (old) create.push(`flush chain ${TABLE} ${chain.name}`, `delete chain ${TABLE} ${chain.name}`);
      create.push(addChainStatement(chain));
      rules.push(...ruleStatements(chain));
      touched.push(`chain ${chain.name}`);
      continue;
    }
    const before = chainText(old);
    const after = chainText(chain);
    if (before.length === after.length && before.every((line, i) => line === after[i])) continue;
    rules.push(`flush chain ${TABLE} ${chain.name}`, ...ruleStatements(chain));
    touched.push(`chain ${chain.name}`);
  }
  const flushes: string[] = [];
  for (const chain of [...from.chains].sort((a, b) => compareText(a.name, b.name))) {
    if (newChains.has(chain.name)) continue;
    flushes.push(`flush chain ${TABLE} ${chain.name}`);
    removeChains.push(`delete chain ${TABLE} ${chain.name}`);
    touched.push(`chain ${chain.name}`);
  }

  const lines = create.concat(elements, mapElementsAfterChains, flushes, rules, removeChains, removeSets);
  const statements = lines.length;
  if (statements === 0) return { script: "", statements, objects: [] };
  // the empty last line gives the final newline: one flat string, no copy per line or of the whole
  lines.push("");
  return { script: lines.join("\n"), statements, objects: touched };
}

export function fullReplacement(table: NftTable): TableDelta {
  const script = fullScript(table);
  let statements = 0;
  for (let k = script.indexOf("\n"); k >= 0; k = script.indexOf("\n", k + 1)) statements++;
  return { script, statements };
}
