// Random estates over a small address space, so that CIDRs, prefix lists and group members overlap
// often: the inputs of the compiler/evaluator agreement and delta tests.

import type {
  Estate,
  NetworkInterface,
  PrefixList,
  SecurityGroup,
  SecurityGroupRule,
} from "../../src/model/estate.js";
import { eni, estate, group, prefixList, rule } from "./estate-builder.js";

export class Random {
  constructor(private seed: number) {}
  /** mulberry32 */
  next(): number {
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export function randomIpv4(r: Random): string {
  return `10.0.${r.int(0, 3)}.${r.int(0, 20)}`;
}
export function randomIpv6(r: Random): string {
  return `fd00::${r.int(0, 40).toString(16)}`;
}

function randomCidr(r: Random): string {
  // /0 often: it is what makes flows untracked
  if (r.chance(0.6)) return `${randomIpv4(r)}/${r.pick([0, 0, 0, 8, 16, 22, 24, 28, 30, 32])}`;
  return `${randomIpv6(r)}/${r.pick([0, 0, 64, 120, 124, 128])}`;
}

export function randomRule(
  r: Random,
  id: string,
  groupId: string,
  groups: number,
  lists: number,
): SecurityGroupRule {
  const protocol = r.pick(["tcp", "udp", "icmp", "icmpv6", "-1", "47", "tcp", "udp"]);
  let from = -1;
  let to = -1;
  if (protocol === "tcp" || protocol === "udp") {
    if (r.chance(0.2)) [from, to] = [0, 65535];
    else {
      from = r.int(20, 30);
      to = from + r.int(0, 3);
    }
  } else if (protocol === "icmp" || protocol === "icmpv6") {
    from = r.pick([-1, 0, 3, 8, 128]);
    to = from === -1 ? -1 : r.pick([-1, 0, 1]);
  }
  const peerKind = r.int(0, 9);
  const peer =
    peerKind < 4
      ? randomCidr(r)
      : peerKind < 8
        ? `sg-${r.int(0, groups)}` // sometimes one past the last: a stale reference
        : `pl-${r.int(0, lists)}`;
  return rule(id, groupId, r.chance(0.5) ? "ingress" : "egress", protocol, from, to, peer);
}

export function randomEstate(r: Random): Estate {
  const groupCount = r.int(2, 6);
  const listCount = 2;
  const groups: SecurityGroup[] = [];
  let ruleNo = 0;
  for (let g = 0; g < groupCount; g++) {
    const rules: SecurityGroupRule[] = [];
    const n = r.int(0, 7);
    for (let k = 0; k < n; k++)
      rules.push(randomRule(r, `sgr-${ruleNo++}`, `sg-${g}`, groupCount, listCount));
    groups.push(group(`sg-${g}`, rules));
  }
  const lists: PrefixList[] = [];
  for (let p = 0; p < listCount; p++) {
    const v6 = r.chance(0.3);
    const cidrs = Array.from({ length: r.int(0, 4) }, () =>
      v6 ? `${randomIpv6(r)}/${r.pick([120, 126, 128])}` : `${randomIpv4(r)}/${r.pick([24, 28, 30, 32])}`,
    );
    lists.push(prefixList(`pl-${p}`, v6 ? "IPv6" : "IPv4", cidrs));
  }
  const interfaces: NetworkInterface[] = [];
  const used = new Set<string>();
  const fresh = (make: () => string) => {
    for (;;) {
      const a = make();
      if (!used.has(a)) {
        used.add(a);
        return a;
      }
    }
  };
  const count = r.int(2, 8);
  for (let i = 0; i < count; i++) {
    const v4 = Array.from({ length: r.int(1, 2) }, () => fresh(() => randomIpv4(r)));
    const v6 = Array.from({ length: r.int(0, 1) }, () => fresh(() => randomIpv6(r)));
    const gs = [...new Set(Array.from({ length: r.int(1, 2) }, () => `sg-${r.int(0, groupCount - 1)}`))];
    interfaces.push(eni(`eni-${i}`, gs, v4, v6, `i-${i}`));
  }
  return estate(groups, interfaces, lists);
}

/** A few random edits: rules added, removed or changed; interfaces joining or leaving groups. */
export function mutate(r: Random, e: Estate): Estate {
  let groups = [...e.securityGroups];
  let interfaces = [...e.networkInterfaces];
  const edits = r.int(1, 4);
  for (let k = 0; k < edits; k++) {
    const choice = r.int(0, 3);
    const g = r.int(0, groups.length - 1);
    const target = groups[g] as SecurityGroup;
    if (choice === 0) {
      const added = randomRule(r, `sgr-new${k}`, target.id, groups.length, 2);
      groups[g] = { ...target, rules: [...target.rules, added] };
    } else if (choice === 1 && target.rules.length > 0) {
      const drop = r.int(0, target.rules.length - 1);
      groups[g] = { ...target, rules: target.rules.filter((_, i) => i !== drop) };
    } else if (choice === 2 && target.rules.length > 0) {
      const swap = r.int(0, target.rules.length - 1);
      const old = target.rules[swap];
      if (old) {
        const replacement = {
          ...randomRule(r, old.id, target.id, groups.length, 2),
          direction: old.direction,
        };
        groups[g] = { ...target, rules: target.rules.map((x, i) => (i === swap ? replacement : x)) };
      }
    } else {
      const i = r.int(0, interfaces.length - 1);
      const iface = interfaces[i];
      if (iface) {
        const groupIds = r.chance(0.5) ? [...new Set([...iface.groupIds, target.id])] : [target.id];
        // now and then the interface's connection-tracking timeouts change too, or go
        const tracking = r.chance(0.2)
          ? r.chance(0.3)
            ? { connectionTracking: undefined }
            : {
                connectionTracking: { tcpEstablishedTimeout: 60 * r.int(1, 3), udpTimeout: 30 + r.int(0, 1) },
              }
          : {};
        interfaces = interfaces.map((x, j) => (j === i ? { ...x, groupIds, ...tracking } : x));
      }
    }
  }
  groups = groups.map((x) => ({ ...x }));
  return { ...e, securityGroups: groups, networkInterfaces: interfaces };
}
