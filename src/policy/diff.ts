// What a change opens and closes: the flows between interfaces (matched by interface id) allowed
// after but not before, and the other way round, plus changes in what is open to the internet.
// Pairs whose both ends kept the same addresses, subnet ACLs and effective rules (rule ids,
// ports and remote address sets) cannot have changed and are skipped, so the cost follows the size
// of the change rather than the square of the estate.
//
//   const d = diffEstates(PolicyIndex.build(before), PolicyIndex.build(after));
//   d.opened   // [{ source: "eni-a", destination: "eni-b", services: ["tcp/22"] }, ...]

import type { Family } from "../net/address.js";
import type { IntervalSet } from "../net/interval-set.js";
import { isAllowedBetween } from "./evaluate.js";
import type { IndexedInterface, PolicyEntry, PolicyIndex } from "./policy-index.js";
import {
  type ExposureFinding,
  exposure,
  pathEntries,
  type Side,
  servicesWhere,
  sideOf,
} from "./reachability.js";

export interface FlowChange {
  readonly source: string;
  readonly destination: string;
  readonly services: readonly string[];
}

export interface EstateDiff {
  readonly family: Family;
  readonly opened: readonly FlowChange[];
  readonly closed: readonly FlowChange[];
  readonly exposureOpened: readonly string[];
  readonly exposureClosed: readonly string[];
  readonly interfacesAdded: readonly string[];
  readonly interfacesRemoved: readonly string[];
  /** Pairs actually re-evaluated (the rest were unchanged by construction). */
  readonly pairsEvaluated: number;
}

class Fingerprints {
  private readonly setIds = new WeakMap<IntervalSet, string>();
  private readonly byText = new Map<string, string>();
  /** A short id per distinct address set, equal for equal sets across both estates. */
  setId(set: IntervalSet): string {
    let id = this.setIds.get(set);
    if (id === undefined) {
      const text = set.intervals.map((i) => `${i.lo.toString(36)}-${i.hi.toString(36)}`).join(",");
      id = this.byText.get(text);
      if (id === undefined) {
        id = String(this.byText.size);
        this.byText.set(text, id);
      }
      this.setIds.set(set, id);
    }
    return id;
  }
  entries(list: readonly PolicyEntry[]): string {
    return list
      .map((e) => `${e.ruleId}/${e.family}/${e.protocol}/${e.from}/${e.to}/${this.setId(e.remote)}`)
      .sort()
      .join(";");
  }
  side(index: PolicyIndex, i: IndexedInterface, direction: "in" | "out"): string {
    const acl = index.networkAclOf(i.subnetId);
    return [
      i.addresses.map((a) => `${a.family}:${a.value.toString(16)}`).join(","),
      i.subnetId,
      acl ? JSON.stringify(acl.entries) : "",
      this.entries(direction === "in" ? i.ingress : i.egress),
    ].join("|");
  }
}

function exposureKey(f: ExposureFinding): string {
  return `${f.interface.eni.id} ${f.service} from ${f.sources}${f.blockedByNacl ? " (blocked by NACL)" : ""} [${f.grade}]`;
}

export function diffEstates(before: PolicyIndex, after: PolicyIndex, family: Family = 4): EstateDiff {
  const fp = new Fingerprints();
  const common: { id: string; b: Side; a: Side; out: boolean; in: boolean }[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [id, i1] of after.interfaces)
    if (!before.interfaces.has(id) && sideOf(i1, family)) added.push(id);
  for (const [id, i0] of before.interfaces) {
    const i1 = after.interfaces.get(id);
    if (!i1) {
      if (sideOf(i0, family)) removed.push(id);
      continue;
    }
    const b = sideOf(i0, family);
    const a = sideOf(i1, family);
    // an interface that gains its first address of the family is new to this family's flows,
    // and one that loses its last is gone from them
    if (a && !b) added.push(id);
    if (b && !a) removed.push(id);
    if (!a || !b) continue;
    common.push({
      id,
      b,
      a,
      out: fp.side(before, i0, "out") !== fp.side(after, i1, "out"),
      in: fp.side(before, i0, "in") !== fp.side(after, i1, "in"),
    });
  }
  const opened: FlowChange[] = [];
  const closed: FlowChange[] = [];
  let pairsEvaluated = 0;
  for (const s of common) {
    for (const d of common) {
      if (s === d || !(s.out || d.in)) continue;
      pairsEvaluated++;
      const cutsBefore = pathEntries(before, s.b, d.b);
      const cutsAfter = pathEntries(after, s.a, d.a);
      const cuts = {
        entries: [...cutsBefore.entries, ...cutsAfter.entries],
        aclEntries: [...cutsBefore.aclEntries, ...cutsAfter.aclEntries],
      };
      const was = (t: Parameters<typeof isAllowedBetween>[3]) => isAllowedBetween(before, s.b, d.b, t);
      const is = (t: Parameters<typeof isAllowedBetween>[3]) => isAllowedBetween(after, s.a, d.a, t);
      const open = servicesWhere(cuts, family, (t) => is(t) && !was(t));
      const close = servicesWhere(cuts, family, (t) => was(t) && !is(t));
      if (open.length > 0) opened.push({ source: s.id, destination: d.id, services: open });
      if (close.length > 0) closed.push({ source: s.id, destination: d.id, services: close });
    }
  }
  const e0 = new Set(
    exposure(before)
      .filter((f) => f.family === family)
      .map(exposureKey),
  );
  const e1 = new Set(
    exposure(after)
      .filter((f) => f.family === family)
      .map(exposureKey),
  );
  return {
    family,
    opened,
    closed,
    exposureOpened: [...e1].filter((k) => !e0.has(k)).sort(),
    exposureClosed: [...e0].filter((k) => !e1.has(k)).sort(),
    interfacesAdded: added.sort(),
    interfacesRemoved: removed.sort(),
    pairsEvaluated,
  };
}
