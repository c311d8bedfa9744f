// Selectors in policy tests are the query selectors (selectors.ts); this turns a selection into the
// endpoints a test checks. An address space (`internet`, a CIDR no interface is in) cannot be
// tried address by address, so it is cut wherever any rule, ACL entry, prefix list or interface
// of the estate draws a line, and one address per piece stands for the piece: every rule matches
// all of a piece or none of it, so the piece's representative decides for all of it.

import { type Family, formatIp } from "../net/address.js";
import { parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import type { Endpoint } from "./evaluate.js";
import { appSegments } from "./lint-space.js";
import { cidrInterval, type PolicyIndex } from "./policy-index.js";
import { type Selection, select } from "./selectors.js";

/** At most this many representatives per family of one external selection. */
export const MAX_REPRESENTATIVES = 256;

/** Every CIDR boundary the estate's rules, ACL entries, prefix lists and interfaces draw in one family. */
function estateCuts(index: PolicyIndex, family: Family): IntervalSet[] {
  const cuts: IntervalSet[] = [];
  const add = (text: string) => {
    const c = parseCidr(text);
    if (c && c.cidr.family === family) cuts.push(cidrInterval(c.cidr));
  };
  for (const g of index.estate.securityGroups) {
    for (const r of g.rules) if (r.peer.kind === "ipv4" || r.peer.kind === "ipv6") add(r.peer.cidr);
  }
  for (const acl of index.estate.networkAcls) for (const e of acl.entries) add(e.cidr);
  for (const pl of index.estate.prefixLists) for (const e of pl.entries) add(e.cidr);
  for (const i of index.interfaces.values()) {
    for (const a of i.addresses) if (a.family === family) cuts.push(IntervalSet.range(a.value, a.value));
  }
  return cuts;
}

/** One address per piece of `space` (raw values of one family), at most MAX_REPRESENTATIVES. */
export function representatives(index: PolicyIndex, family: Family, space: IntervalSet): Endpoint[] {
  const pieces = appSegments(
    estateCuts(index, family).map((apps) => ({ apps, peers: IntervalSet.EMPTY })),
    space,
  );
  return pieces.slice(0, MAX_REPRESENTATIVES).flatMap((p) => {
    const lo = p.apps.intervals[0]?.lo;
    return lo === undefined ? [] : [{ kind: "address" as const, address: formatIp({ family, value: lo }) }];
  });
}

export function selectionEndpoints(index: PolicyIndex, selection: Selection): Endpoint[] {
  if (selection.kind === "external") {
    const families: Family[] = selection.family ? [selection.family] : [4, 6];
    return families.flatMap((f) => representatives(index, f, selection.space[f]));
  }
  return selection.interfaces.map((i) => {
    // an IP selector, or a CIDR of one family, pins the address the flows use
    const pinned =
      selection.family === undefined ? undefined : i.addresses.find((a) => a.family === selection.family);
    const address = selection.address ?? (pinned ? formatIp(pinned) : undefined);
    return address === undefined
      ? { kind: "interface" as const, interfaceId: i.eni.id }
      : { kind: "interface" as const, interfaceId: i.eni.id, address };
  });
}

/**
 * Endpoints of a selector: the query syntax (see selectors.ts), plus `group:NAME` as an explicit
 * spelling of a group id or name. Throws SelectorError when it names nothing.
 */
export function resolveSelector(index: PolicyIndex, selector: string): Endpoint[] {
  const text = selector.trim();
  return selectionEndpoints(index, select(index, text.startsWith("group:") ? text.slice(6) : text));
}
