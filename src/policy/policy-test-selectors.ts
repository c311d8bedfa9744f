// Selectors for policy tests: which endpoints a source or destination names.
//   eni-...            one network interface
//   i-...              every interface of an instance
//   sg-... / group:X   every interface carrying the group (X: id or name; name:vpc-... to pick a VPC)
//   subnet-...         every interface in the subnet
//   tag:KEY=VALUE      every interface whose own tags, instance's tags or a group's tags match
//   IP                 the interface with that private (or public/Elastic) address, else the address
//   CIDR               every interface with a private address inside, plus one outside address per
//                      range of it on which rules decide alike
//   internet           one public address per range of the public space on which rules decide alike

import type { Family } from "../net/address.js";
import { formatIp, parseIp } from "../net/address.js";
import { type Cidr, parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import type { Endpoint } from "./evaluate.js";
import { appSegments, PUBLIC_V4, PUBLIC_V6 } from "./lint-space.js";
import { cidrInterval, type IndexedInterface, type PolicyIndex } from "./policy-index.js";

export class UnknownSelectorError extends Error {}

const MAX_REPRESENTATIVES = 256;

function interfaces(list: Iterable<IndexedInterface>): Endpoint[] {
  return [...list].map((i) => ({ kind: "interface", interfaceId: i.eni.id }));
}

/** Every CIDR boundary the estate's rules, ACL entries and prefix lists draw in one family. */
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

/** One address per piece of `space` (raw family values) not owned by an interface. */
function representatives(index: PolicyIndex, family: Family, space: IntervalSet): Endpoint[] {
  let outside = space;
  for (const i of index.interfaces.values()) {
    for (const a of i.addresses)
      if (a.family === family) outside = outside.subtract(IntervalSet.range(a.value, a.value));
  }
  const pieces = appSegments(
    estateCuts(index, family).map((apps) => ({ apps, peers: IntervalSet.EMPTY })),
    outside,
  );
  return pieces.slice(0, MAX_REPRESENTATIVES).flatMap((p) => {
    const lo = p.apps.intervals[0]?.lo;
    return lo === undefined ? [] : [{ kind: "address" as const, address: formatIp({ family, value: lo }) }];
  });
}

function publicSpace(family: Family): IntervalSet {
  // lint-space keys IPv6 above IPv4; shift back to raw values
  if (family === 4) return PUBLIC_V4;
  return IntervalSet.of(PUBLIC_V6.intervals.map((i) => ({ lo: i.lo - (1n << 32n), hi: i.hi - (1n << 32n) })));
}

function inCidr(index: PolicyIndex, cidr: Cidr): Endpoint[] {
  const range = cidrInterval(cidr);
  const inside = [...index.interfaces.values()].filter((i) =>
    i.addresses.some((a) => a.family === cidr.family && range.has(a.value)),
  );
  return [...interfaces(inside), ...representatives(index, cidr.family, range)];
}

function tagMatches(tags: Readonly<Record<string, string>> | undefined, key: string, value: string): boolean {
  return tags !== undefined && tags[key] === value;
}

export function resolveSelector(index: PolicyIndex, selector: string): Endpoint[] {
  const text = selector.trim();
  const all = [...index.interfaces.values()];
  if (text === "internet")
    return [...representatives(index, 4, publicSpace(4)), ...representatives(index, 6, publicSpace(6))];
  if (text.startsWith("eni-")) return interfaces(all.filter((i) => i.eni.id === text));
  if (text.startsWith("i-"))
    return interfaces(all.filter((i) => i.instance?.id === text || i.eni.instanceId === text));
  if (text.startsWith("subnet-")) return interfaces(all.filter((i) => i.subnetId === text));
  if (text.startsWith("sg-") || text.startsWith("group:")) {
    const wanted = text.startsWith("group:") ? text.slice("group:".length) : text;
    const [name, vpc] = wanted.split("@");
    const groups = index.estate.securityGroups.filter(
      (g) => (g.id === name || g.name === name) && (vpc === undefined || g.vpcId === vpc),
    );
    if (groups.length === 0) throw new UnknownSelectorError(`no security group '${wanted}'`);
    const ids = new Set(groups.map((g) => g.id));
    return interfaces(all.filter((i) => i.eni.groupIds.some((g) => ids.has(g))));
  }
  if (text.startsWith("tag:")) {
    const eq = text.indexOf("=");
    if (eq < 0) throw new UnknownSelectorError(`'${text}': expected tag:KEY=VALUE`);
    const key = text.slice(4, eq);
    const value = text.slice(eq + 1);
    const taggedGroups = new Set(
      index.estate.securityGroups.filter((g) => tagMatches(g.tags, key, value)).map((g) => g.id),
    );
    return interfaces(
      all.filter(
        (i) =>
          tagMatches(i.eni.tags, key, value) ||
          tagMatches(i.instance?.tags, key, value) ||
          i.eni.groupIds.some((g) => taggedGroups.has(g)),
      ),
    );
  }
  const address = parseIp(text);
  if (address) {
    const owner = index.interfaceAt(address) ?? index.interfaceAtPublic(address);
    if (owner) return interfaces([owner]);
    return [{ kind: "address", address: formatIp(address) }];
  }
  const cidr = parseCidr(text);
  if (cidr) return inCidr(index, cidr.cidr);
  throw new UnknownSelectorError(
    `'${text}' is not a selector (eni-, i-, sg-, group:NAME, subnet-, tag:KEY=VALUE, IP, CIDR, internet)`,
  );
}
