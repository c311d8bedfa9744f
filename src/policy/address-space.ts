// Address spaces the queries talk about: "the internet" (public unicast space outside every VPC of
// the estate) and the CIDR text of an address set, for printing.

import { ADDRESS_BITS, type Family, formatIpv4, formatIpv6 } from "../net/address.js";
import { parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { type AddressSets, cidrInterval } from "./policy-index.js";

const NOT_INTERNET: Record<Family, readonly string[]> = {
  4: [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "224.0.0.0/3",
  ],
  6: ["::/8", "fc00::/7", "fe80::/10", "ff00::/8"],
};

function setOf(cidrs: readonly string[]): IntervalSet {
  return IntervalSet.of(
    cidrs.flatMap(
      (c) => cidrInterval((parseCidr(c) as NonNullable<ReturnType<typeof parseCidr>>).cidr).intervals,
    ),
  );
}

const ALL: Record<Family, IntervalSet> = {
  4: IntervalSet.range(0n, (1n << 32n) - 1n),
  6: IntervalSet.range(0n, (1n << 128n) - 1n),
};

/** Public unicast addresses outside the given VPC space. */
export function internetSpace(vpcSpace: AddressSets): AddressSets {
  return {
    4: ALL[4].subtract(setOf(NOT_INTERNET[4])).subtract(vpcSpace[4]),
    6: ALL[6].subtract(setOf(NOT_INTERNET[6])).subtract(vpcSpace[6]),
  };
}

/** The fewest CIDRs covering exactly the set. */
export function toCidrs(set: IntervalSet, family: Family): string[] {
  const bits = ADDRESS_BITS[family];
  const out: string[] = [];
  const format = family === 4 ? formatIpv4 : formatIpv6;
  for (const { lo, hi } of set.intervals) {
    let start = lo;
    while (start <= hi) {
      let size = 0;
      // widest aligned block that starts at `start` and stays within `hi`
      while (size < bits) {
        const next = 1n << BigInt(size + 1);
        if ((start & (next - 1n)) !== 0n || start + next - 1n > hi) break;
        size++;
      }
      out.push(`${format(start)}/${bits - size}`);
      start += 1n << BigInt(size);
    }
  }
  return out;
}

export function describeSet(set: IntervalSet, family: Family, limit = 6): string {
  const cidrs = toCidrs(set, family);
  if (cidrs.length <= limit) return cidrs.join(", ");
  return `${cidrs.slice(0, limit).join(", ")} and ${cidrs.length - limit} more`;
}
