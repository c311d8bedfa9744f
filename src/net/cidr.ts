import {
  ADDRESS_BITS,
  type Family,
  formatIpv4,
  formatIpv6,
  type IpAddress,
  parseIpv4,
  parseIpv6,
} from "./address.js";

/** A CIDR block in canonical form: host bits of `base` are always zero. */
export interface Cidr {
  readonly family: Family;
  readonly base: bigint;
  readonly prefix: number;
}

export interface ParsedCidr {
  cidr: Cidr;
  /** false when the text had host bits set (EC2 accepts and canonicalises it). */
  wasCanonical: boolean;
}

function parseWith(
  text: string,
  family: Family,
  parse: (s: string) => bigint | undefined,
): ParsedCidr | undefined {
  const slash = text.indexOf("/");
  if (slash < 0 || slash !== text.lastIndexOf("/")) return undefined;
  const prefix = prefixLength(text, slash + 1);
  if (prefix === undefined || prefix > ADDRESS_BITS[family]) return undefined;
  const address = parse(text.slice(0, slash));
  if (address === undefined) return undefined;
  const base = address & prefixMask(family, prefix);
  return { cidr: { family, base, prefix }, wasCanonical: base === address };
}

export function parseCidr4(text: string): ParsedCidr | undefined {
  return parseWith(text, 4, parseIpv4);
}

export function parseCidr6(text: string): ParsedCidr | undefined {
  return parseWith(text, 6, parseIpv6);
}

export function parseCidr(text: string): ParsedCidr | undefined {
  return parseCidr4(text) ?? parseCidr6(text);
}

/** The 1-3 decimal digits from `start` to the end of `text`, or undefined. */
function prefixLength(text: string, start: number): number | undefined {
  const length = text.length - start;
  if (length < 1 || length > 3) return undefined;
  let value = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    value = value * 10 + (c - 48);
  }
  return value;
}

function masksOf(family: Family): bigint[] {
  const bits = BigInt(ADDRESS_BITS[family]);
  const all = (1n << bits) - 1n;
  return Array.from(
    { length: ADDRESS_BITS[family] + 1 },
    (_, prefix) => (all << (bits - BigInt(prefix))) & all,
  );
}

// every parsed CIDR needs one; bigint shifts cost more than the lookup
const MASKS: Record<Family, bigint[]> = { 4: masksOf(4), 6: masksOf(6) };

export function prefixMask(family: Family, prefix: number): bigint {
  return MASKS[family][prefix] as bigint;
}

export function formatCidr(cidr: Cidr): string {
  const address = cidr.family === 4 ? formatIpv4(cidr.base) : formatIpv6(cidr.base);
  return `${address}/${cidr.prefix}`;
}

export function cidrSize(cidr: Cidr): bigint {
  return 1n << BigInt(ADDRESS_BITS[cidr.family] - cidr.prefix);
}

export function lastAddress(cidr: Cidr): bigint {
  return cidr.base + cidrSize(cidr) - 1n;
}

export function cidrContains(cidr: Cidr, address: IpAddress): boolean {
  return (
    cidr.family === address.family && (address.value & prefixMask(cidr.family, cidr.prefix)) === cidr.base
  );
}

export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    (inner.base & prefixMask(outer.family, outer.prefix)) === outer.base
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrCovers(a, b) || cidrCovers(b, a);
}

export function hostCidr(address: IpAddress): Cidr {
  return { family: address.family, base: address.value, prefix: ADDRESS_BITS[address.family] };
}

/** Canonical text of a CIDR, or undefined when the text is not one of the given family. */
export function canonicalCidr(text: string, family?: Family): string | undefined {
  const parsed = family === 4 ? parseCidr4(text) : family === 6 ? parseCidr6(text) : parseCidr(text);
  return parsed ? formatCidr(parsed.cidr) : undefined;
}
