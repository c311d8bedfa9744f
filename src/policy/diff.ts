// What a change opens and closes: the flows between interfaces (matched by interface id) allowed
// after but not before, and the other way round; the flows between an interface and addresses
// outside every VPC (the internet, a network behind a VPN) that a change opens or closes; and
// changes in what is open to the internet. Each address of an interface is asked on its own, so a
// flow that closes at one address and stays open at another is reported. Pairs whose both ends
// kept the same addresses, subnet ACLs and effective rules (rule ids, ports and remote address
// sets) cannot have changed and are skipped, so the cost follows the size of the change rather
// than the square of the estate.
//
//   const d = diffEstates(PolicyIndex.build(before), PolicyIndex.build(after));
//   d.opened   // [{ source: "eni-a", destination: "eni-b", services: ["tcp/22"] }, ...]

import { ADDRESS_BITS, type Family, formatIp } from "../net/address.js";
import { IntervalSet } from "../net/interval-set.js";
import { describeSet, internetSpace } from "./address-space.js";
import { isAllowedBetween } from "./evaluate.js";
import type { IndexedInterface, PolicyEntry, PolicyIndex, Traffic } from "./policy-index.js";
import {
  addressTests,
  admitted,
  type ExposureFinding,
  exposure,
  onePerKind,
  pathEntries,
  type Side,
  servicesWhere,
  sideOf,
  sidesOf,
} from "./reachability.js";

export interface FlowChange {
  readonly source: string;
  readonly destination: string;
  /** The addresses of the flow, when either interface has more than one of the family. */
  readonly sourceAddress?: string;
  readonly destinationAddress?: string;
  readonly services: readonly string[];
}

/** A change in what flows between an interface and addresses outside every VPC. */
export interface OutsideChange {
  readonly interface: string;
  /** `in`: from the addresses to the interface; `out`: from the interface to them. */
  readonly direction: "in" | "out";
  /** The addresses: `the internet`, `anywhere outside the VPCs`, or CIDRs. */
  readonly addresses: string;
  readonly services: readonly string[];
}

export interface EstateDiff {
  readonly family: Family;
  readonly opened: readonly FlowChange[];
  readonly closed: readonly FlowChange[];
  readonly outsideOpened: readonly OutsideChange[];
  readonly outsideClosed: readonly OutsideChange[];
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
  const common: Common[] = [];
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
    const b = sidesOf(i0, family);
    const a = sidesOf(i1, family);
    // an interface that gains its first address of the family is new to this family's flows,
    // and one that loses its last is gone from them
    if (a.length > 0 && b.length === 0) added.push(id);
    if (b.length > 0 && a.length === 0) removed.push(id);
    if (a.length === 0 || b.length === 0) continue;
    common.push({
      id,
      i0,
      i1,
      addresses: addressesOf(b, a),
      out: fp.side(before, i0, "out") !== fp.side(after, i1, "out"),
      in: fp.side(before, i0, "in") !== fp.side(after, i1, "in"),
    });
  }
  const opened: FlowChange[] = [];
  const closed: FlowChange[] = [];
  let pairsEvaluated = 0;
  const seen = new Map<string, readonly AddressSides[]>();
  for (const s of common) {
    for (const d of common) {
      if (s === d || !(s.out || d.in)) continue;
      pairsEvaluated++;
      // the rules and ACL entries on the path are the interfaces', whichever address stands for them
      const [sx, dx] = [s.addresses[0] as AddressSides, d.addresses[0] as AddressSides];
      const cutsBefore = pathEntries(before, sx.b, dx.b);
      const cutsAfter = pathEntries(after, sx.a, dx.a);
      const cuts = {
        entries: [...cutsBefore.entries, ...cutsAfter.entries],
        aclEntries: [...cutsBefore.aclEntries, ...cutsAfter.aclEntries],
      };
      // one address each (most interfaces): the pair needs no address named
      const named = s.addresses.length > 1 || d.addresses.length > 1;
      const sources = named ? apart(before, after, seen, s, d, false) : s.addresses;
      const destinations = named ? apart(before, after, seen, d, s, true) : d.addresses;
      for (const x of sources) {
        for (const y of destinations) {
          const was = (t: Traffic) => isAllowedBetween(before, x.b, y.b, t);
          const is = (t: Traffic) => isAllowedBetween(after, x.a, y.a, t);
          const where = named ? { sourceAddress: x.address, destinationAddress: y.address } : {};
          const open = servicesWhere(cuts, family, (t) => is(t) && !was(t));
          const close = servicesWhere(cuts, family, (t) => was(t) && !is(t));
          if (open.length > 0) opened.push({ source: s.id, destination: d.id, ...where, services: open });
          if (close.length > 0) closed.push({ source: s.id, destination: d.id, ...where, services: close });
        }
      }
    }
  }
  const outsideOpened: OutsideChange[] = [];
  const outsideClosed: OutsideChange[] = [];
  const outside = IntervalSet.range(0n, (1n << BigInt(ADDRESS_BITS[family])) - 1n)
    .subtract(before.vpcSpace[family])
    .subtract(after.vpcSpace[family]);
  const internet = internetSpace(after.vpcSpace)[family].subtract(before.vpcSpace[family]);
  const spaces = {
    outside,
    describe: (set: IntervalSet) =>
      set.equals(outside)
        ? "anywhere outside the VPCs"
        : set.equals(internet)
          ? "the internet"
          : describeSet(set, family),
  };
  for (const c of common) {
    for (const direction of ["in", "out"] as const) {
      if (!c[direction]) continue;
      const changes = outsideChanges(before, after, c, direction, family, spaces);
      outsideOpened.push(...changes.opened);
      outsideClosed.push(...changes.closed);
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
    outsideOpened,
    outsideClosed,
    exposureOpened: [...e1].filter((k) => !e0.has(k)).sort(),
    exposureClosed: [...e0].filter((k) => !e1.has(k)).sort(),
    interfacesAdded: added.sort(),
    interfacesRemoved: removed.sort(),
    pairsEvaluated,
  };
}

interface Common {
  readonly id: string;
  readonly i0: IndexedInterface;
  readonly i1: IndexedInterface;
  /** Its addresses of the family that it has before and after, each with both its sides. */
  readonly addresses: readonly AddressSides[];
  /** Whether what it admits out and in may have changed. */
  readonly out: boolean;
  readonly in: boolean;
}

/**
 * An interface's addresses of the family that it has before and after the change, matched by
 * value, each with both its sides. A flow may open or close at one address and not another (a rule
 * narrowed to a secondary), so each is asked on its own; an address added or removed is no flow.
 */
function addressesOf(b: readonly Side[], a: readonly Side[]): readonly AddressSides[] {
  const out: AddressSides[] = [];
  for (const side of b) {
    const same = a.find((x) => x.address.value === side.address.value);
    if (same) out.push({ address: formatIp(side.address), b: side, a: same });
  }
  // renumbered altogether: its first address stands for it on both sides
  if (out.length === 0)
    out.push({ address: formatIp((a[0] as Side).address), b: b[0] as Side, a: a[0] as Side });
  return out;
}

interface AddressSides {
  readonly address: string;
  readonly b: Side;
  readonly a: Side;
}

/**
 * Of one side's addresses, one for each way the other side's rules and ACLs, before or after the
 * change, tell them apart; remembered by what that depends on.
 */
function apart(
  before: PolicyIndex,
  after: PolicyIndex,
  seen: Map<string, readonly AddressSides[]>,
  own: Common,
  other: Common,
  egress: boolean,
): readonly AddressSides[] {
  if (own.addresses.length < 2) return own.addresses;
  const key = `${egress ? ">" : "<"}${own.id}|${other.i0.groupKey}@${other.i0.subnetId}|${other.i1.groupKey}@${other.i1.subnetId}`;
  let hit = seen.get(key);
  if (!hit) {
    const entriesOf = (i: IndexedInterface) => (egress ? i.egress : i.ingress);
    const tests = [
      ...addressTests(before, other.i0, entriesOf(other.i0), own.i0.subnetId),
      ...addressTests(after, other.i1, entriesOf(other.i1), own.i1.subnetId),
    ];
    // an address has one value before and after: either side's stands for it
    hit = onePerKind(own.addresses, (x) => x.b.address, tests);
    seen.set(key, hit);
  }
  return hit;
}

/**
 * The outside addresses an interface admits (direction `in`) or may send to (`out`) after a change
 * but not before, and the other way round, per service: one line per distinct set of addresses.
 * The interface's own address does not matter here (no rule looks at it), so its first stands for
 * all.
 */
function outsideChanges(
  before: PolicyIndex,
  after: PolicyIndex,
  c: Common,
  direction: "in" | "out",
  family: Family,
  spaces: { readonly outside: IntervalSet; describe(set: IntervalSet): string },
): { opened: OutsideChange[]; closed: OutsideChange[] } {
  const { outside } = spaces;
  const egress = direction === "out";
  const entriesOf = (i: IndexedInterface) => (egress ? i.egress : i.ingress);
  const cuts = {
    entries: [...entriesOf(c.i0), ...entriesOf(c.i1)],
    aclEntries: [
      ...(before.networkAclOf(c.i0.subnetId)?.entries ?? []),
      ...(after.networkAclOf(c.i1.subnetId)?.entries ?? []),
    ],
  };
  const memo = new Map<string, { opened: IntervalSet; closed: IntervalSet }>();
  const change = (t: Traffic) => {
    const key = `${t.protocol}/${t.port ?? ""}/${t.icmpType ?? ""}/${t.icmpCode ?? ""}`;
    let hit = memo.get(key);
    if (!hit) {
      const was = admitted(before, c.i0, family, t, egress).intersect(outside);
      const is = admitted(after, c.i1, family, t, egress).intersect(outside);
      hit = { opened: is.subtract(was), closed: was.subtract(is) };
      memo.set(key, hit);
    }
    return hit;
  };
  const lines = (which: "opened" | "closed"): OutsideChange[] => {
    // the distinct address sets first, then for each the services that change for exactly it
    const sets = new Map<string, IntervalSet>();
    servicesWhere(cuts, family, (t) => {
      const set = change(t)[which];
      if (!set.isEmpty) sets.set(set.intervals.map((i) => `${i.lo}-${i.hi}`).join(","), set);
      return false;
    });
    return [...sets.values()].map((set) => ({
      interface: c.id,
      direction,
      addresses: spaces.describe(set),
      services: servicesWhere(cuts, family, (t) => change(t)[which].equals(set)),
    }));
  };
  return { opened: lines("opened"), closed: lines("closed") };
}
