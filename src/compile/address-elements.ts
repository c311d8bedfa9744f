// Elements of an nft interval set. The kernel refuses overlapping intervals, and an element can only
// be deleted by exactly the interval it was added as, so every set is written as the canonical form
// of its address space: merged, disjoint intervals, each as an address, a CIDR, or a range `a-b`.

import { ADDRESS_BITS, formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "../net/address.js";
import { parseCidr4, parseCidr6 } from "../net/cidr.js";
import { type Interval, IntervalSet } from "../net/interval-set.js";
import { formatIpv4Number, parseIpv4Number } from "../net/ipv4-number.js";
import type { IpFamily } from "./nft-table.js";

/** The interval of an address or CIDR text of the family, or undefined when it is not one. */
export function addressInterval(text: string, family: IpFamily): Interval | undefined {
  if (text.includes("/")) {
    const parsed = family === 4 ? parseCidr4(text) : parseCidr6(text);
    if (!parsed) return undefined;
    const size = 1n << BigInt(ADDRESS_BITS[family] - parsed.cidr.prefix);
    return { lo: parsed.cidr.base, hi: parsed.cidr.base + size - 1n };
  }
  const value = family === 4 ? parseIpv4(text) : parseIpv6(text);
  return value === undefined ? undefined : { lo: value, hi: value };
}

/** The union of addresses, CIDRs and ranges `a-b` of the family; other texts are ignored. */
export function addressSpace(texts: Iterable<string>, family: IpFamily): IntervalSet {
  const intervals: Interval[] = [];
  for (const text of texts) {
    const interval = elementInterval(text, family);
    if (interval) intervals.push(interval);
  }
  return IntervalSet.of(intervals);
}

const normalised: Record<IpFamily, WeakMap<readonly string[], string[]>> = {
  4: new WeakMap(),
  6: new WeakMap(),
};

/**
 * The canonical elements of a list of addresses, CIDRs or ranges. Lists are immutable here, so
 * the answer is kept per list object: policies built from one index share their member lists.
 */
export function setElements(texts: readonly string[], family: IpFamily): string[] {
  const cache = normalised[family];
  let elements = cache.get(texts);
  if (!elements) {
    elements = elementsOf(texts, family);
    cache.set(texts, elements);
  }
  return elements;
}

/** setElements without keeping the answer: for a list made for the one call. */
export function elementsOf(texts: readonly string[], family: IpFamily): string[] {
  return family === 4 ? ipv4Elements(texts) : intervalElements(addressSpace(texts, family), family);
}

/** The IPv4 interval of an element as numbers, or undefined when it is not one. */
function ipv4Range(text: string): [number, number] | undefined {
  const slash = text.indexOf("/");
  if (slash >= 0) {
    const base = parseIpv4Number(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    const prefix = Number(prefixText);
    if (base === undefined || !/^\d{1,2}$/.test(prefixText) || prefix > 32) return undefined;
    const size = 2 ** (32 - prefix);
    const lo = base - (base % size);
    return [lo, lo + size - 1];
  }
  const dash = text.indexOf("-");
  if (dash >= 0) {
    const lo = parseIpv4Number(text.slice(0, dash));
    const hi = parseIpv4Number(text.slice(dash + 1));
    return lo === undefined || hi === undefined || lo > hi ? undefined : [lo, hi];
  }
  const value = parseIpv4Number(text);
  return value === undefined ? undefined : [value, value];
}

/** setElements for IPv4 in plain numbers (the common, large case); same output as the bigint path. */
function ipv4Elements(texts: readonly string[]): string[] {
  // one CIDR, a rule's own peer: nothing to sort or merge
  if (texts.length === 1) {
    const range = ipv4Range(texts[0] as string);
    return range ? numberElements([range]) : [];
  }
  const ranges: [number, number][] = [];
  for (const text of texts) {
    const range = ipv4Range(text);
    if (range) ranges.push(range);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) {
      if (range[1] > last[1]) last[1] = range[1];
    } else {
      merged.push([range[0], range[1]]);
    }
  }
  return numberElements(merged);
}

/** Disjoint, sorted IPv4 intervals as elements: an address, a CIDR or a range. */
function numberElements(intervals: readonly (readonly [number, number])[]): string[] {
  return intervals.map(([lo, hi]) => {
    if (lo === hi) return formatIpv4Number(lo);
    const size = hi - lo + 1;
    const bits = Math.log2(size);
    if (Number.isInteger(bits) && lo % size === 0) return `${formatIpv4Number(lo)}/${32 - bits}`;
    return `${formatIpv4Number(lo)}-${formatIpv4Number(hi)}`;
  });
}

export function intervalElements(space: IntervalSet, family: IpFamily): string[] {
  if (family === 4) return numberElements(space.intervals.map((i) => [Number(i.lo), Number(i.hi)]));
  return space.intervals.map((i) => formatInterval(i, family));
}

function formatInterval(interval: Interval, family: IpFamily): string {
  const format = family === 4 ? formatIpv4 : formatIpv6;
  if (interval.lo === interval.hi) return format(interval.lo);
  const size = interval.hi - interval.lo + 1n;
  // a power-of-two block aligned on its size is a CIDR
  if ((size & (size - 1n)) === 0n && interval.lo % size === 0n) {
    const prefix = ADDRESS_BITS[family] - (size.toString(2).length - 1);
    return `${format(interval.lo)}/${prefix}`;
  }
  return `${format(interval.lo)}-${format(interval.hi)}`;
}

/** Parses an element written by setElements back to its interval. */
export function elementInterval(element: string, family: IpFamily): Interval | undefined {
  const dash = element.indexOf("-");
  if (dash < 0) return addressInterval(element, family);
  const lo = addressInterval(element.slice(0, dash), family);
  const hi = addressInterval(element.slice(dash + 1), family);
  return lo && hi ? { lo: lo.lo, hi: hi.hi } : undefined;
}
