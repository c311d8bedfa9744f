// The reachability truth table between every pair of interfaces, per traffic kind (e.g. tcp/22).
//
// Interfaces with the same attached groups in the same subnet are one class: they have the same
// effective rules, the same group memberships and the same ACLs, so a flow between interfaces a
// (class A) and b (class B) is allowed exactly when
//     addr(b) is in A's admitted destinations   (A's SG egress, and A's ACL outbound if A != B's subnet)
// and addr(a) is in B's admitted sources        (B's SG ingress, and B's ACL inbound likewise),
// which splits into a condition on b and a condition on a. So per class the admitted address sets
// are computed once (IntervalSet algebra), marked as bitsets over all interfaces sorted by address,
// and the allowed pairs of a class pair are (#b passing) x (#a passing). The same conditions
// answer any single cell (`allowed`), identical to `isAllowedBetween` for the primary address of
// the family (the tests check this pair by pair).
//
//   const m = computeMatrix(index, [{ protocol: 6, port: 22 }], 4);
//   m.totalAllowed[0];                        // allowed ordered pairs (a != b) for tcp/22
//   m.allowed(0, m.positionOf("eni-a"), m.positionOf("eni-b"));

import type { Family } from "../net/address.js";
import type { IntervalSet } from "../net/interval-set.js";
import { aclAllowedRemotes } from "./network-acl.js";
import {
  entryAdmits,
  type IndexedInterface,
  isCodelessIcmp,
  type PolicyEntry,
  type PolicyIndex,
  type Traffic,
} from "./policy-index.js";

export interface InterfaceClass {
  readonly id: number;
  readonly groupIds: readonly string[];
  readonly subnetId: string;
  /** Positions (in `interfaces`) of the members. */
  readonly members: Int32Array;
}

export interface MatrixOptions {
  /** Keep per-class bitsets so that `allowed` answers single cells (memory: classes x interfaces bits). */
  readonly expand?: boolean;
  /** Keep the allowed-pair counts per class pair (sparse: memory follows the nonzero pairs). */
  readonly classPairs?: boolean;
  /** Restrict to these interfaces (default: every interface with an address of the family). */
  readonly interfaces?: readonly IndexedInterface[];
}

export interface ReachabilityMatrix {
  readonly family: Family;
  readonly traffic: readonly Traffic[];
  /** The interfaces, sorted by their first address of the family. */
  readonly interfaces: readonly IndexedInterface[];
  readonly classes: readonly InterfaceClass[];
  readonly classOf: Int32Array;
  /** Allowed ordered pairs of distinct interfaces, per traffic kind. */
  readonly totalAllowed: readonly number[];
  /** Per traffic kind, the nonzero allowed-pair counts between classes, if kept. */
  readonly classPairs?: readonly ClassPairs[];
  readonly expanded: boolean;
  positionOf(interfaceId: string): number;
  /** One cell: may interface at position `source` open the flow to the one at `destination`? */
  allowed(traffic: number, source: number, destination: number): boolean;
}

class Bits {
  readonly words: Uint32Array;
  /** Set bits; kept exact by every operation. */
  count = 0;
  constructor(readonly size: number) {
    this.words = new Uint32Array((size + 31) >>> 5);
  }
  setRange(lo: number, hi: number): void {
    for (let i = lo; i <= hi; ) {
      const w = i >>> 5;
      const bit = i & 31;
      if (bit === 0 && i + 31 <= hi) {
        this.words[w] = 0xffffffff;
        i += 32;
      } else {
        this.words[w] = (this.words[w] as number) | (1 << bit);
        i++;
      }
    }
    this.recount();
  }
  orWith(other: Bits): void {
    const a = this.words;
    const b = other.words;
    for (let k = 0; k < a.length; k++) a[k] = (a[k] as number) | (b[k] as number);
  }
  andWith(other: Bits): void {
    const a = this.words;
    const b = other.words;
    for (let k = 0; k < a.length; k++) a[k] = (a[k] as number) & (b[k] as number);
  }
  recount(): void {
    let c = 0;
    for (let k = 0; k < this.words.length; k++) {
      let v = this.words[k] as number;
      v -= (v >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      c += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    this.count = c;
  }
  copy(): Bits {
    const b = new Bits(this.size);
    b.words.set(this.words);
    b.count = this.count;
    return b;
  }
  has(i: number): boolean {
    return (((this.words[i >>> 5] as number) >>> (i & 31)) & 1) === 1;
  }
}

/** Count members passing; short-cut when the bitset is empty or full. */
function countIn(bits: Bits, members: Int32Array): number {
  if (bits.count === 0) return 0;
  if (bits.count === bits.size) return members.length;
  let n = 0;
  for (let k = 0; k < members.length; k++) if (bits.has(members[k] as number)) n++;
  return n;
}

interface ClassCounts {
  readonly classes: Int32Array;
  readonly counts: Int32Array;
}

/**
 * Allowed pairs per class pair, sparse by destination class: for destination class B the entries
 * rowStart[B] .. rowEnd[B] - 1 give a source class and its allowed pair count (nonzero).
 */
export interface ClassPairs {
  readonly rowStart: Int32Array;
  readonly rowEnd: Int32Array;
  readonly source: Int32Array;
  readonly allowed: Float64Array;
}

interface SideBits {
  readonly sg: Bits;
  /** sg AND the subnet ACL (what applies across subnets); sg itself when no ACL is known. */
  readonly full: Bits;
}

export function computeMatrix(
  index: PolicyIndex,
  traffic: readonly Traffic[],
  family: Family,
  options: MatrixOptions = {},
): ReachabilityMatrix {
  // "some code of the type" is not one condition per side: the caller asks each case (the CLI
  // ORs them per label), which a single bitset per class cannot do for it
  const codeless = traffic.find(isCodelessIcmp);
  if (codeless) {
    throw new Error(
      `computeMatrix takes ICMP with a code: expand type ${codeless.icmpType} into index.trafficCases(traffic) first`,
    );
  }
  const expand = options.expand ?? true;
  const keepPairs = options.classPairs ?? true;
  const chosen = (options.interfaces ?? [...index.interfaces.values()])
    .map((i) => ({ i, a: i.addresses.find((x) => x.family === family) }))
    .filter((x): x is { i: IndexedInterface; a: NonNullable<typeof x.a> } => x.a !== undefined)
    .sort((x, y) => (x.a.value < y.a.value ? -1 : x.a.value > y.a.value ? 1 : 0));
  const interfaces = chosen.map((x) => x.i);
  const addrs = chosen.map((x) => x.a.value);
  const n = interfaces.length;
  const positions = new Map<string, number>();
  for (let k = 0; k < n; k++) positions.set((interfaces[k] as IndexedInterface).eni.id, k);

  const classKeys = new Map<string, number>();
  const classOf = new Int32Array(n);
  const memberLists: number[][] = [];
  const classInfo: { groupIds: string[]; subnetId: string; rep: IndexedInterface }[] = [];
  const subnetNumbers = new Map<string, number>();
  const classSubnet: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = interfaces[k] as IndexedInterface;
    const key = `${i.groupKey}|${i.subnetId}`;
    let c = classKeys.get(key);
    if (c === undefined) {
      c = classInfo.length;
      classKeys.set(key, c);
      classInfo.push({
        groupIds: i.groupKey === "" ? [] : i.groupKey.split(","),
        subnetId: i.subnetId,
        rep: i,
      });
      memberLists.push([]);
      if (!subnetNumbers.has(i.subnetId)) subnetNumbers.set(i.subnetId, subnetNumbers.size);
      classSubnet.push(subnetNumbers.get(i.subnetId) as number);
    }
    classOf[k] = c;
    (memberLists[c] as number[]).push(k);
  }
  const classes: InterfaceClass[] = classInfo.map((c, id) => ({
    id,
    groupIds: c.groupIds,
    subnetId: c.subnetId,
    members: Int32Array.from(memberLists[id] as number[]),
  }));
  const cCount = classes.length;

  const lowerBound = (v: bigint): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((addrs[mid] as bigint) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Group member sets are shared by every rule that references the group: mark each set once.
  const marked = new WeakMap<IntervalSet, Bits>();
  const mark = (set: IntervalSet): Bits => {
    let bits = marked.get(set);
    if (!bits) {
      bits = new Bits(n);
      for (const { lo, hi } of set.intervals) {
        const l = lowerBound(lo);
        const h = lowerBound(hi + 1n) - 1;
        if (l <= h) bits.setRange(l, h);
      }
      marked.set(set, bits);
    }
    return bits;
  };
  const admitted = (entries: readonly PolicyEntry[], t: Traffic): Bits => {
    const bits = new Bits(n);
    for (const e of entries) if (e.family === family && entryAdmits(e, t)) bits.orWith(mark(e.remote));
    bits.recount();
    return bits;
  };
  // Classes differ from each other by groups or by subnet; the bits depend only on the groups and
  // the subnet's ACL, so classes of one service in several subnets with one ACL share them.
  const sideBits = (
    c: { rep: IndexedInterface; subnetId: string },
    egress: boolean,
    t: Traffic,
    cache: Map<string, SideBits | Bits>,
  ): SideBits => {
    const acl = index.networkAclOf(c.subnetId);
    const key = `${egress}|${c.rep.groupKey}|${acl?.id ?? ""}`;
    const known = cache.get(key);
    if (known) return known as SideBits;
    const sgKey = `${egress}|${c.rep.groupKey}`;
    let sg = cache.get(sgKey) as Bits | undefined;
    if (!sg) {
      sg = admitted(egress ? c.rep.egress : c.rep.ingress, t);
      cache.set(sgKey, sg);
    }
    let result: SideBits = { sg, full: sg };
    if (acl) {
      const aclKey = `acl|${acl.id}|${egress}`;
      let aclBits = cache.get(aclKey) as Bits | undefined;
      if (!aclBits) {
        aclBits = mark(aclAllowedRemotes(acl, egress, family, t));
        cache.set(aclKey, aclBits);
      }
      if (aclBits.count < n) {
        const full = sg.copy();
        full.andWith(aclBits);
        full.recount();
        result = { sg, full: full.count === sg.count ? sg : full };
      }
    }
    cache.set(key, result);
    return result;
  };

  /** Per-class counts of the set positions of a bitset, as sparse (classes, counts). */
  const scratch = new Int32Array(cCount);
  const classCounts = (bits: Bits): ClassCounts => {
    const touched: number[] = [];
    const words = bits.words;
    for (let w = 0; w < words.length; w++) {
      let v = words[w] as number;
      while (v !== 0) {
        const low = v & -v;
        const a = classOf[(w << 5) + 31 - Math.clz32(low)] as number;
        if (scratch[a] === 0) touched.push(a);
        scratch[a] = (scratch[a] as number) + 1;
        v ^= low;
      }
    }
    const counts = new Int32Array(touched.length);
    for (let k = 0; k < touched.length; k++) {
      const a = touched[k] as number;
      counts[k] = scratch[a] as number;
      scratch[a] = 0;
    }
    return { classes: Int32Array.from(touched), counts };
  };

  const totalAllowed: number[] = [];
  const classPairs: ClassPairs[] = [];
  const egressBits: SideBits[][] = [];
  const ingressBits: SideBits[][] = [];
  const fullCount = new Int32Array(cCount);
  for (const t of traffic) {
    const cache = new Map<string, SideBits | Bits>();
    const egress = classInfo.map((c) => sideBits(c, true, t, cache));
    // Classes of one group set in several subnets share their ingress bits: count them once.
    const counted = new Map<Bits, ClassCounts>();
    const countsOf = (bits: Bits) => {
      let c = counted.get(bits);
      if (!c) {
        c = classCounts(bits);
        counted.set(bits, c);
      }
      return c;
    };
    const rowStart = new Int32Array(cCount);
    const rowEnd = new Int32Array(cCount);
    const rowClass: number[] = [];
    const rowAllowed: number[] = [];
    let total = 0;
    // Destinations in order of their ingress bits, so that without expansion each set of bits and
    // its counts can be dropped as soon as the last class using it is done.
    const ingressKey = (b: number) => {
      const c = classInfo[b] as (typeof classInfo)[number];
      return `${c.rep.groupKey}|${index.networkAclOf(c.subnetId)?.id ?? ""}`;
    };
    const keys = classInfo.map((_, b) => ingressKey(b));
    const order = Array.from({ length: cCount }, (_, b) => b).sort((x, y) =>
      (keys[x] as string) < (keys[y] as string) ? -1 : (keys[x] as string) > (keys[y] as string) ? 1 : 0,
    );
    const ingress: SideBits[] = new Array(expand ? cCount : 0);
    // Ingress sets are usually narrow (group references, a few CIDRs): walk the source classes
    // they admit, and only then look at those classes' egress towards b.
    for (let o = 0; o < cCount; o++) {
      const b = order[o] as number;
      const c = classInfo[b] as (typeof classInfo)[number];
      const i = sideBits(c, false, t, cache);
      if (expand) ingress[b] = i;
      rowStart[b] = rowClass.length;
      if (i.sg.count > 0) {
        const sg = countsOf(i.sg);
        const full = i.full === i.sg ? undefined : countsOf(i.full);
        if (full)
          for (let k = 0; k < full.classes.length; k++)
            fullCount[full.classes[k] as number] = full.counts[k] as number;
        const membersB = (classes[b] as InterfaceClass).members;
        const subnetB = classSubnet[b] as number;
        for (let k = 0; k < sg.classes.length; k++) {
          const a = sg.classes[k] as number;
          const same = classSubnet[a] === subnetB;
          const iCount = same || !full ? (sg.counts[k] as number) : (fullCount[a] as number);
          if (iCount === 0) continue;
          const e = egress[a] as SideBits;
          const eb = same ? e.sg : e.full;
          const eCount = countIn(eb, membersB);
          if (eCount === 0) continue;
          let allowed = eCount * iCount;
          if (a === b) {
            const ib = same ? i.sg : i.full;
            for (let m = 0; m < membersB.length; m++) {
              const x = membersB[m] as number;
              if (eb.has(x) && ib.has(x)) allowed--;
            }
          }
          if (allowed === 0) continue;
          total += allowed;
          if (keepPairs) {
            rowClass.push(a);
            rowAllowed.push(allowed);
          }
        }
        if (full) for (let k = 0; k < full.classes.length; k++) fullCount[full.classes[k] as number] = 0;
      }
      rowEnd[b] = rowClass.length;
      const next = order[o + 1];
      if (!expand && (next === undefined || keys[next] !== keys[b])) {
        counted.delete(i.sg);
        counted.delete(i.full);
        cache.delete(`false|${c.rep.groupKey}|${index.networkAclOf(c.subnetId)?.id ?? ""}`);
        const nextGroups = next === undefined ? undefined : classInfo[next]?.rep.groupKey;
        if (nextGroups !== c.rep.groupKey) cache.delete(`false|${c.rep.groupKey}`);
      }
    }
    totalAllowed.push(total);
    if (keepPairs) {
      classPairs.push({
        rowStart,
        rowEnd,
        source: Int32Array.from(rowClass),
        allowed: Float64Array.from(rowAllowed),
      });
    }
    if (expand) {
      egressBits.push(egress);
      ingressBits.push(ingress);
    }
  }

  return {
    family,
    traffic,
    interfaces,
    classes,
    classOf,
    totalAllowed,
    ...(keepPairs ? { classPairs } : {}),
    expanded: expand,
    positionOf: (id) => positions.get(id) ?? -1,
    allowed(t, s, d) {
      if (!expand) throw new Error("matrix computed without expand: single cells are not available");
      if (s === d) return false;
      const a = classOf[s] as number;
      const b = classOf[d] as number;
      const same = classSubnet[a] === classSubnet[b];
      const e = egressBits[t]?.[a];
      const i = ingressBits[t]?.[b];
      if (!e || !i) return false;
      return (same ? e.sg : e.full).has(d) && (same ? i.sg : i.full).has(s);
    },
  };
}

/** Group x group summary: allowed pairs out of all pairs between members of each group. */
export function groupMatrix(
  m: ReachabilityMatrix,
  t: number,
): { groups: string[]; cell(source: string, destination: string): { allowed: number; pairs: number } } {
  const pairs = m.classPairs?.[t];
  if (!pairs) throw new Error("group matrix needs class pairs");
  const groups = [...new Set(m.classes.flatMap((c) => c.groupIds))].sort();
  const classesOf = new Map<string, InterfaceClass[]>();
  for (const c of m.classes) {
    for (const g of c.groupIds) {
      const list = classesOf.get(g) ?? [];
      list.push(c);
      classesOf.set(g, list);
    }
  }
  return {
    groups,
    cell(source, destination) {
      const sources = new Set((classesOf.get(source) ?? []).map((c) => c.id));
      let allowed = 0;
      let total = 0;
      for (const b of classesOf.get(destination) ?? []) {
        for (let k = pairs.rowStart[b.id] as number; k < (pairs.rowEnd[b.id] as number); k++) {
          if (sources.has(pairs.source[k] as number)) allowed += pairs.allowed[k] as number;
        }
        for (const a of classesOf.get(source) ?? []) {
          total += a.members.length * b.members.length - (a === b ? a.members.length : 0);
        }
      }
      return { allowed, pairs: total };
    },
  };
}
