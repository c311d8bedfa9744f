// Runs a compiled NftTable on one packet in TypeScript, with nft's semantics for the parts the
// compiler uses (first terminal verdict wins, jumps return, base-chain policy last). It answers the
// question the policy evaluator answers, so tests can check the two agree on random estates; the
// lab checks, with real packets, that the kernel agrees with this.

import { parseIp } from "../net/address.js";
import { IntervalSet } from "../net/interval-set.js";
import { elementInterval } from "./address-elements.js";
import type { IpFamily, NftChain, NftMatch, NftRule, NftTable } from "./nft-table.js";
import { UNTRACKED_MASK } from "./nftables.js";

/** The first packet of a flow (no conntrack state), as the host sees it. */
export interface Packet {
  /** `in`: arriving for the host (input hook); `out`: sent by the host (output hook). */
  readonly direction: "in" | "out";
  readonly family: IpFamily;
  readonly source: string;
  readonly destination: string;
  /** IP protocol number. */
  readonly protocol: number;
  readonly sourcePort?: number;
  readonly destinationPort?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  /** Sent over the loopback device. */
  readonly loopback?: boolean;
}

export interface TableVerdict {
  readonly accepted: boolean;
  /** The packet opens an untracked flow: a rule set its connection's untracked mark. */
  readonly untracked: boolean;
  /** The comment (rule id) of the rule that decided, if a rule decided. */
  readonly decidedBy?: string;
}

type Outcome = { verdict: "accept" | "drop"; by?: string } | undefined;

class CompiledView {
  readonly sets = new Map<string, IntervalSet>();
  readonly maps = new Map<string, Map<bigint, string>>();
  readonly chains = new Map<string, NftChain>();

  constructor(table: NftTable) {
    for (const set of table.sets) {
      const intervals = set.elements
        .map((e) => elementInterval(e, set.family))
        .filter((i) => i !== undefined);
      this.sets.set(set.name, IntervalSet.of(intervals));
    }
    for (const map of table.maps) {
      const entries = new Map<bigint, string>();
      for (const e of map.entries) {
        const ip = parseIp(e.address);
        if (ip) entries.set(ip.value, e.chain);
      }
      this.maps.set(map.name, entries);
    }
    for (const chain of table.chains) this.chains.set(chain.name, chain);
  }
}

const views = new WeakMap<NftTable, CompiledView>();

function viewOf(table: NftTable): CompiledView {
  let view = views.get(table);
  if (!view) {
    view = new CompiledView(table);
    views.set(table, view);
  }
  return view;
}

function addressOf(packet: Packet, field: "saddr" | "daddr"): bigint | undefined {
  return parseIp(field === "saddr" ? packet.source : packet.destination)?.value;
}

/** The connection's mark as the rules have set it so far (a first packet's starts at 0). */
interface Connection {
  mark: number;
}

function matches(view: CompiledView, packet: Packet, match: NftMatch, connection: Connection): boolean {
  switch (match.m) {
    case "iif-lo":
    case "oif-lo":
      return packet.loopback === true;
    case "ct":
      // the first packet of a flow is new, never established or related; whether conntrack calls
      // it invalid instead is the kernel's business: the rules that ask also ask what only a first
      // packet that opens nothing has (tcp-not-syn), or exempt the first packets that matter (ICMP)
      return match.states.includes("new");
    case "ct-mark":
      return ((connection.mark & match.mask) !== 0) === match.any;
    case "tcp-not-syn":
      return false; // a first TCP packet is a SYN
    case "nfproto":
      return packet.family === match.family;
    case "addr-set": {
      const value = addressOf(packet, match.field);
      return (
        packet.family === match.family &&
        value !== undefined &&
        (view.sets.get(match.set)?.has(value) ?? false)
      );
    }
    case "addr-list": {
      if (packet.family !== match.family) return false;
      const value = addressOf(packet, match.field);
      return match.addresses.some((a) => parseIp(a)?.value === value);
    }
    case "l4proto":
      return match.protocols.includes(packet.protocol) !== (match.negate === true);
    case "port": {
      if (packet.protocol !== (match.protocol === "tcp" ? 6 : 17)) return false;
      const port = match.field === "sport" ? packet.sourcePort : packet.destinationPort;
      return port !== undefined && port >= match.from && port <= match.to;
    }
    case "icmp":
      return (
        packet.protocol === (match.v6 ? 58 : 1) &&
        (match.type === undefined || packet.icmpType === match.type) &&
        (match.code === undefined || packet.icmpCode === match.code)
      );
    case "icmpv6-types":
      return packet.protocol === 58 && packet.icmpType !== undefined && match.types.includes(packet.icmpType);
  }
}

function runChain(view: CompiledView, packet: Packet, chain: NftChain, connection: Connection): Outcome {
  for (const rule of chain.rules) {
    if (!rule.match.every((m) => matches(view, packet, m, connection))) continue;
    const outcome = runAction(view, packet, rule, connection);
    if (outcome) return outcome;
  }
  return undefined;
}

function runAction(view: CompiledView, packet: Packet, rule: NftRule, connection: Connection): Outcome {
  const action = rule.action;
  switch (action.a) {
    case "accept":
    case "drop":
      return { verdict: action.a, ...(rule.comment ? { by: rule.comment } : {}) };
    case "ct-mark-or":
      connection.mark = (connection.mark | action.bits) >>> 0;
      return undefined;
    case "ct-timeout":
      return undefined; // how long the connection is remembered, not whether it is let in
    case "continue":
      return undefined;
    case "jump": {
      const chain = view.chains.get(action.chain);
      return chain ? runChain(view, packet, chain, connection) : undefined;
    }
    case "addr-vmap": {
      if (packet.family !== action.family) return undefined;
      const value = addressOf(packet, action.field);
      const target = value === undefined ? undefined : view.maps.get(action.map)?.get(value);
      const chain = target === undefined ? undefined : view.chains.get(target);
      return chain ? runChain(view, packet, chain, connection) : undefined;
    }
    case "l4proto-vmap": {
      const target = action.entries.find((e) => e.protocol === packet.protocol)?.chain;
      const chain = target === undefined ? undefined : view.chains.get(target);
      return chain ? runChain(view, packet, chain, connection) : undefined;
    }
    case "port-vmap": {
      const port = packet.destinationPort;
      if (packet.protocol !== (action.protocol === "tcp" ? 6 : 17) || port === undefined) return undefined;
      const target = action.entries.find((e) => e.from <= port && port <= e.to)?.chain;
      const chain = target === undefined ? undefined : view.chains.get(target);
      return chain ? runChain(view, packet, chain, connection) : undefined;
    }
  }
}

function runHook(view: CompiledView, packet: Packet, chainName: string, connection: Connection): Outcome {
  const chain = view.chains.get(chainName);
  if (!chain) return { verdict: "accept" }; // no chain on the hook: the hook accepts
  const outcome = runChain(view, packet, chain, connection);
  return outcome ?? { verdict: chain.hook?.policy ?? "accept" };
}

/** What the table does with the first packet of a flow. */
export function evaluatePacket(table: NftTable, packet: Packet): TableVerdict {
  const view = viewOf(table);
  const connection: Connection = { mark: 0 };
  const filter = runHook(view, packet, packet.direction === "in" ? "input" : "output", connection);
  const mask = UNTRACKED_MASK[packet.direction === "in" ? "ingress" : "egress"];
  return {
    accepted: filter?.verdict === "accept",
    untracked: (connection.mark & mask) !== 0,
    ...(filter?.by ? { decidedBy: filter.by } : {}),
  };
}
