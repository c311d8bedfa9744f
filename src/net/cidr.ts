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
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > ADDRESS_BITS[family]) return undefined;
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

export function prefixMask(family: Family, prefix: number): bigint {
  const bits = BigInt(ADDRESS_BITS[family]);
  const all = (1n << bits) - 1n;
  return (all << (bits - BigInt(prefix))) & all;
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
