// HostPolicy -> NftTable: the stateful firewall of one host (spec 3.11).
//
// Layout (every name derives from an id, so a change touches only what it names):
//   input/output      base chains, policy drop: established/related, loopback, ICMPv6 neighbour
//                     discovery and MLD accepted, invalid (but ICMP) and new TCP without SYN
//                     dropped, then dispatch by the local address (`ip daddr vmap @in_v4`) to the
//                     chain of the interface owning it.
//   in_<eni>/out_<eni>   a jump to the chain of each attached group, in group id order;
//   gin_<group>/gout_<group>   the group's rules of protocol -1 and other numbers, then a protocol
//   gin_<group>_tcp ...        vmap to one chain per protocol holding that protocol's rules.
//   gin_<group>_tcp_<port>     with four or more tcp (udp) port rules, `tcp dport vmap` sends
//                     each disjoint port range to a chain of the rules that cover it.
//   g_<group>_v4/_v6  members of a referenced group; p_<list>_v4 entries of a prefix list;
//   c_<rule>          the CIDR of a CIDR rule. Membership and CIDR changes are element changes.
// Untracked flows (spec 3.11) are tracked by conntrack all the same, with a bit of the connection's
// mark saying how it opened (see untrackedMark): the base chains accept established packets only
// of unmarked connections, so a marked one's packets in its opening direction meet the rules again
// each time, and removing the rule that admitted it cuts it at once; its replies pass as a tracked
// connection's do. When the all-open rule the other way goes, the flow is tracked from then on:
// the interface chain accepts its marked packets before the rules (`tracked-now`).
// Every security-group rule is one nft rule per address family, with a counter tagged by its id
// (a port rule behind the port vmap, once in each port chain its range reaches).

import { elementsOf, setElements } from "./address-elements.js";
import type { GroupMembers, HostInterface, HostPolicy, HostRule, PrefixListEntries } from "./host-policy.js";
import {
  type AddressField,
  type IpFamily,
  type NftAddressMap,
  type NftAddressSet,
  type NftChain,
  type NftCtTimeout,
  type NftMatch,
  type NftRule,
  type NftTable,
  nftName,
} from "./nft-table.js";
import { compareText } from "./text-order.js";

export interface CompileOptions {
  /**
   * The controller's addresses and port: new connections to them are always allowed out, so that
   * an agent enforcing a policy on its own host can still reach the controller to learn the next
   * one.
   */
  readonly controlChannel?: { readonly addresses: readonly string[]; readonly port: number };
}

const ALL_ADDRESSES: Record<IpFamily, string> = { 4: "0.0.0.0/0", 6: "::/0" };
const PROTOCOL = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58 } as const;
const PROTOCOL_NAMES = new Map<number, keyof typeof PROTOCOL>(
  Object.entries(PROTOCOL).map(([name, n]) => [n, name as keyof typeof PROTOCOL]),
);
/** ICMPv6 that IPv6 cannot work without: MLD (130-132, 143) and neighbour discovery (133-136). */
export const ICMPV6_INFRASTRUCTURE = [130, 131, 132, 133, 134, 135, 136, 143] as const;

type RuleDirection = "ingress" | "egress";

export function groupSetName(groupId: string, family: IpFamily): string {
  return `g_${nftName(groupId)}_v${family}`;
}
export function prefixListSetName(prefixListId: string, family: IpFamily): string {
  return `p_${nftName(prefixListId)}_v${family}`;
}
export function cidrSetName(ruleId: string, family: IpFamily): string {
  return `c_${nftName(ruleId)}_v${family}`;
}
export function interfaceChainName(direction: RuleDirection, eniId: string): string {
  return `${direction === "ingress" ? "in" : "out"}_${nftName(eniId)}`;
}

export function groupChainName(direction: RuleDirection, groupId: string, protocol?: string): string {
  const base = `${direction === "ingress" ? "gin" : "gout"}_${nftName(groupId)}`;
  return protocol ? `${base}_${protocol}` : base;
}

function cidrFamily(cidr: string): IpFamily {
  return cidr.includes(":") ? 6 : 4;
}

/** A TCP or UDP flow that the kernel must not track (spec 3.11 "Untracked flows"). */
export interface UntrackedFlow {
  readonly rule: HostRule;
  readonly direction: RuleDirection;
  readonly family: IpFamily;
  readonly protocol: "tcp" | "udp";
  readonly fromPort: number;
  readonly toPort: number;
}

/** The bits of the conntrack mark that ringfence uses: its top byte; the rest is left to others. */
export const UNTRACKED_MASK: Record<RuleDirection, number> = { ingress: 0x0f000000, egress: 0xf0000000 };

/**
 * The mark bit of a connection that opened as an untracked flow in this direction, family and
 * protocol: one bit each, so that the flow's opposite rule can be asked about per family and protocol.
 */
export function untrackedMark(direction: RuleDirection, family: IpFamily, protocol: "tcp" | "udp"): number {
  const index = (direction === "ingress" ? 0 : 4) + (family === 4 ? 0 : 2) + (protocol === "tcp" ? 0 : 1);
  return 0x01000000 * 2 ** index;
}

function opensAllPorts(rule: HostRule, family: IpFamily, protocol: "tcp" | "udp"): boolean {
  if (rule.peer.kind !== "cidr" || rule.peer.cidr !== ALL_ADDRESSES[family]) return false;
  return (
    rule.protocol === -1 ||
    (rule.protocol === PROTOCOL[protocol] && rule.fromPort <= 0 && rule.toPort >= 65535)
  );
}

/**
 * Flows of an interface that are untracked: allowed by a tcp/udp/all rule open to 0.0.0.0/0 (or
 * ::/0) while the opposite direction has a rule open to all addresses on all ports of that protocol.
 */
export function untrackedFlows(iface: HostInterface): UntrackedFlow[] {
  const flows: UntrackedFlow[] = [];
  const pairs: [RuleDirection, readonly HostRule[], readonly HostRule[]][] = [
    ["ingress", iface.ingress, iface.egress],
    ["egress", iface.egress, iface.ingress],
  ];
  for (const [direction, rules, opposite] of pairs) {
    for (const rule of rules) {
      if (rule.peer.kind !== "cidr") continue;
      const family = cidrFamily(rule.peer.cidr);
      if (rule.peer.cidr !== ALL_ADDRESSES[family]) continue;
      const name = PROTOCOL_NAMES.get(rule.protocol);
      const protocols = rule.protocol === -1 ? (["tcp", "udp"] as const) : name ? [name] : [];
      for (const protocol of protocols) {
        if (protocol !== "tcp" && protocol !== "udp") continue;
        if (!opposite.some((o) => opensAllPorts(o, family, protocol))) continue;
        const full = rule.protocol === -1;
        const fromPort = full ? 0 : Math.max(0, rule.fromPort);
        const toPort = full ? 65535 : Math.min(65535, rule.toPort);
        if (fromPort <= toPort) flows.push({ rule, direction, family, protocol, fromPort, toPort });
      }
    }
  }
  return flows;
}

class TableBuilder {
  readonly sets = new Map<string, NftAddressSet>();
  readonly timeouts = new Map<string, NftCtTimeout>();
  readonly chains: NftChain[] = [];
  readonly maps: Record<"in" | "out", Record<IpFamily, { address: string; chain: string }[]>> = {
    in: { 4: [], 6: [] },
    out: { 4: [], 6: [] },
  };
  private readonly groupChains = new Set<string>();

  private readonly groups: Map<string, GroupMembers>;
  private readonly prefixLists: Map<string, PrefixListEntries>;

  constructor(policy: HostPolicy) {
    this.groups = new Map(policy.groups.map((g) => [g.groupId, g]));
    this.prefixLists = new Map(policy.prefixLists.map((p) => [p.prefixListId, p]));
  }

  /** Adds the set a rule's peer matches against, with this host's elements for it. */
  private addPeerSet(peer: PeerSet): void {
    if (this.sets.has(peer.name)) return;
    if (peer.set) {
      this.sets.set(peer.name, peer.set);
      return;
    }
    const { rule, family } = peer;
    let elements: readonly string[];
    if (rule.peer.kind === "prefix-list") {
      const list = this.prefixLists.get(rule.peer.prefixListId);
      elements = setElements((family === 4 ? list?.ipv4 : list?.ipv6) ?? [], family);
    } else {
      const members = rule.peer.kind === "group" ? this.groups.get(rule.peer.groupId) : undefined;
      // elements from the wire are normalised again: the kernel rejects overlapping intervals
      elements = setElements((family === 4 ? members?.ipv4 : members?.ipv6) ?? [], family);
    }
    this.sets.set(peer.name, { name: peer.name, family, elements });
  }

  addInterface(iface: HostInterface): void {
    const flows = untrackedFlows(iface);
    for (const direction of ["ingress", "egress"] as const) {
      const rules = direction === "ingress" ? iface.ingress : iface.egress;
      const byGroup = new Map<string, HostRule[]>(iface.groupIds.map((g) => [g, []]));
      for (const rule of rules) pushTo(byGroup, rule.groupId, rule);
      const jumps: NftRule[] = [];
      for (const groupId of [...byGroup.keys()].sort(compareText)) {
        const chain = groupChainName(direction, groupId);
        if (!this.groupChains.has(chain)) {
          this.groupChains.add(chain);
          const built = groupChains(direction, groupId, byGroup.get(groupId) ?? []);
          for (const groupChain of built.chains) this.chains.push(groupChain);
          for (const peer of built.peers) this.addPeerSet(peer);
        }
        jumps.push({ match: [], action: { a: "jump", chain }, counter: false });
      }
      const chain = interfaceChainName(direction, iface.id);
      this.chains.push({
        name: chain,
        rules: [...untrackedRules(iface, direction, flows), ...this.timeoutRules(iface, direction), ...jumps],
      });
      const side = direction === "ingress" ? "in" : "out";
      for (const address of iface.ipv4) this.maps[side][4].push({ address, chain });
      for (const address of iface.ipv6) this.maps[side][6].push({ address, chain });
    }
  }

  /**
   * Where the interface sets connection-tracking timeouts, its new connections get them before
   * any rule admits them (while conntrack has not confirmed the connection yet, it takes a
   * policy), in both directions: the connection is this interface's whichever side opened it.
   */
  private timeoutRules(iface: HostInterface, direction: RuleDirection): NftRule[] {
    const tracking = iface.connectionTracking;
    if (!tracking) return [];
    const rules: NftRule[] = [];
    for (const family of [4, 6] as const) {
      if ((family === 4 ? iface.ipv4 : iface.ipv6).length === 0) continue;
      const policies = [
        { protocol: "tcp", policy: [["established", tracking.tcpEstablishedTimeout]] },
        {
          protocol: "udp",
          policy: [
            ["unreplied", tracking.udpTimeout],
            ["replied", tracking.udpStreamTimeout],
          ],
        },
      ] as const;
      for (const { protocol, policy } of policies) {
        const name = `ctt_${protocol}${family}_${policy.map(([, seconds]) => seconds).join("_")}`;
        if (!this.timeouts.has(name)) this.timeouts.set(name, { name, protocol, family, policy });
        rules.push({
          match: [
            { m: "nfproto", family },
            { m: "l4proto", protocols: [protocol === "tcp" ? 6 : 17] },
            { m: "ct", states: ["new"] },
            // an untracked flow has no timeout on EC2: conntrack keeps it as long as it would any
            { m: "ct-mark", mask: UNTRACKED_MASK[direction], any: false },
          ],
          action: { a: "ct-timeout", timeout: name },
          counter: false,
        });
      }
    }
    return rules;
  }
}

/**
 * The chains of one group's rules in one direction, shared by every interface of the host that
 * carries the group: `gin_<group>` (protocol -1 and other numbers, then a protocol vmap) and
 * `gin_<group>_tcp` etc. A rule change rewrites only its group's chain of its protocol. They
 * depend on the rules alone (sets are named by rule, group and list ids), so policies built from
 * one index, which share their HostRule objects, share these too: a fleet's hosts that carry a
 * group build its chains once. A policy from the wire has rules of its own and builds its own.
 */
function groupChains(direction: RuleDirection, groupId: string, rules: readonly HostRule[]): GroupChains {
  const first = rules[0];
  if (first === undefined) return buildGroupChains(direction, groupId, rules);
  const cached = builtGroupChains.get(first);
  if (
    cached?.direction === direction &&
    cached.rules.length === rules.length &&
    cached.rules.every((rule, i) => rule === rules[i])
  ) {
    return cached;
  }
  const built = buildGroupChains(direction, groupId, rules);
  builtGroupChains.set(first, built);
  return built;
}

/** A group's chains in one direction and the peer sets their rules match against. */
interface GroupChains {
  readonly direction: RuleDirection;
  readonly rules: readonly HostRule[];
  readonly chains: readonly NftChain[];
  readonly peers: readonly PeerSet[];
}

/**
 * The set a rule matches in one family, named by its peer. A CIDR rule's set is the rule's own and
 * comes whole; a group's or a prefix list's takes its elements from the host's policy.
 */
interface PeerSet {
  readonly rule: HostRule;
  readonly family: IpFamily;
  readonly name: string;
  readonly set?: NftAddressSet;
}

/** By the first rule of the list they were built from, which only they and its group hold. */
const builtGroupChains = new WeakMap<HostRule, GroupChains>();

/** The set a rule's peer is in the family, or undefined when the peer has none in it. */
function peerSet(rule: HostRule, family: IpFamily): PeerSet | undefined {
  const peer = rule.peer;
  if (peer.kind === "cidr") {
    if (cidrFamily(peer.cidr) !== family) return undefined;
    const name = cidrSetName(rule.id, family);
    return { rule, family, name, set: { name, family, elements: elementsOf([peer.cidr], family) } };
  }
  const name =
    peer.kind === "prefix-list"
      ? prefixListSetName(peer.prefixListId, family)
      : groupSetName(peer.groupId, family);
  return { rule, family, name };
}

function buildGroupChains(
  direction: RuleDirection,
  groupId: string,
  rules: readonly HostRule[],
): GroupChains {
  const chains: NftChain[] = [];
  const peers: PeerSet[] = [];
  const field: AddressField = direction === "ingress" ? "saddr" : "daddr";
  const main: NftRule[] = [];
  const byProtocol = new Map<string, NftRule[]>();
  const byPort: Record<"tcp" | "udp", PortRule[]> = { tcp: [], udp: [] };
  for (const rule of rules) {
    for (const family of [4, 6] as const) {
      const peer = peerSet(rule, family);
      if (!peer) continue;
      peers.push(peer);
      const match: NftMatch[] = [{ m: "addr-set", family, field, set: peer.name }];
      const tagged = (m: NftMatch[]): NftRule => ({
        match: m,
        action: { a: "accept" },
        counter: true,
        comment: rule.id,
      });
      const name = PROTOCOL_NAMES.get(rule.protocol);
      if (rule.protocol === -1) {
        main.push(tagged(match));
      } else if (name === "tcp" || name === "udp") {
        // the evaluator's `from <= port <= to` over real ports
        const from = Math.max(0, rule.fromPort);
        const to = Math.min(65535, rule.toPort);
        if (from > to) continue;
        if (from === 0 && to === 65535) pushTo(byProtocol, name, tagged(match));
        else byPort[name].push({ from, to, rule: tagged(match) });
      } else if (name === "icmp" || name === "icmpv6") {
        // -1 is "any" for type and code alike
        const icmp: NftMatch = {
          m: "icmp",
          v6: name === "icmpv6",
          ...(rule.fromPort !== -1 ? { type: rule.fromPort } : {}),
          ...(rule.toPort !== -1 ? { code: rule.toPort } : {}),
        };
        const typed = icmp.type !== undefined || icmp.code !== undefined;
        pushTo(byProtocol, name, tagged(typed ? [...match, icmp] : match));
      } else {
        main.push(tagged([...match, { m: "l4proto", protocols: [rule.protocol] }]));
      }
    }
  }
  for (const protocol of ["tcp", "udp"] as const) {
    if (byPort[protocol].length === 0) continue;
    const chain = groupChainName(direction, groupId, protocol);
    const dispatch = portDispatch(chains, chain, protocol, byPort[protocol]);
    // ahead of the rules open on every port: most first packets are for one port or another
    byProtocol.set(protocol, [...dispatch, ...(byProtocol.get(protocol) ?? [])]);
  }
  const entries: { protocol: number; chain: string }[] = [];
  for (const protocol of [...byProtocol.keys()].sort(compareText)) {
    const chain = groupChainName(direction, groupId, protocol);
    chains.push({ name: chain, rules: byProtocol.get(protocol) ?? [] });
    entries.push({ protocol: PROTOCOL[protocol as keyof typeof PROTOCOL], chain });
  }
  entries.sort((a, b) => a.protocol - b.protocol);
  if (entries.length > 0) main.push({ match: [], action: { a: "l4proto-vmap", entries }, counter: false });
  chains.push({ name: groupChainName(direction, groupId), rules: main });
  return { direction, rules, chains, peers };
}

/**
 * The rules of one protocol chain that match destination ports. A few stay rules of their own,
 * port compare first (it fails faster than a set lookup, and most rules miss). More than that
 * become a verdict map from disjoint port ranges to chains that hold only the rules covering
 * each range, so that a first packet costs one lookup rather than a walk past every rule of the
 * group, however many it has.
 */
function portDispatch(
  chains: NftChain[],
  chain: string,
  protocol: "tcp" | "udp",
  rules: readonly PortRule[],
): NftRule[] {
  if (rules.length < PORT_VMAP_MIN_RULES) {
    return rules.map(({ from, to, rule }) => ({
      ...rule,
      match: [{ m: "port", protocol, field: "dport", from, to }, ...rule.match],
    }));
  }
  // where coverage may change: every range's start and the port after its end (a typed array
  // sorts numerically, natively; this runs for every group chain of every host)
  const bounds = new Int32Array(rules.length * 2);
  rules.forEach((r, k) => {
    bounds[2 * k] = r.from;
    bounds[2 * k + 1] = r.to + 1;
  });
  bounds.sort();
  // one chain per distinct list of covering rules, named by where its first range starts
  const targets = new Map<string, NftChain>();
  const entries: { from: number; to: number; chain: string }[] = [];
  let lastTarget: NftChain | undefined;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i] as number;
    const next = bounds[i + 1] as number;
    if (next === from) continue;
    const to = next - 1;
    const covering: number[] = [];
    for (let k = 0; k < rules.length; k++) {
      const r = rules[k] as PortRule;
      if (r.from <= from && to <= r.to) covering.push(k);
    }
    if (covering.length === 0) continue;
    const key = covering.join(",");
    let target = targets.get(key);
    if (!target) {
      target = { name: `${chain}_${from}`, rules: covering.map((k) => (rules[k] as PortRule).rule) };
      targets.set(key, target);
      chains.push(target);
    }
    const last = entries[entries.length - 1];
    if (last && lastTarget === target && last.to + 1 === from) last.to = to;
    else entries.push({ from, to, chain: target.name });
    lastTarget = target;
  }
  return [{ match: [], action: { a: "port-vmap", protocol, entries }, counter: false }];
}

/**
 * The rules of an interface chain about untracked flows in one direction: first, accept the
 * packets of connections that opened untracked but whose all-open rule the other way is gone (they
 * are tracked now); then mark each new connection that opens as an untracked flow.
 */
function untrackedRules(
  iface: HostInterface,
  direction: RuleDirection,
  flows: readonly UntrackedFlow[],
): NftRule[] {
  const opposite = direction === "ingress" ? iface.egress : iface.ingress;
  let trackedNow = 0;
  for (const family of [4, 6] as const) {
    for (const protocol of ["tcp", "udp"] as const) {
      if (!opposite.some((o) => opensAllPorts(o, family, protocol)))
        trackedNow += untrackedMark(direction, family, protocol);
    }
  }
  const rules: NftRule[] = [];
  if (trackedNow !== 0) {
    rules.push({
      match: [{ m: "ct-mark", mask: trackedNow, any: true }],
      action: { a: "accept" },
      counter: true,
      comment: "tracked-now",
    });
  }
  const seen = new Set<string>();
  for (const flow of flows) {
    if (flow.direction !== direction) continue;
    if ((flow.family === 4 ? iface.ipv4 : iface.ipv6).length === 0) continue;
    const key = `${flow.family}/${flow.protocol}/${flow.fromPort}-${flow.toPort}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const full = flow.fromPort === 0 && flow.toPort === 65535;
    rules.push({
      match: [
        { m: "nfproto", family: flow.family },
        full
          ? { m: "l4proto", protocols: [PROTOCOL[flow.protocol]] }
          : { m: "port", protocol: flow.protocol, field: "dport", from: flow.fromPort, to: flow.toPort },
      ],
      action: { a: "ct-mark-or", bits: untrackedMark(direction, flow.family, flow.protocol) },
      // every rule named after a security-group rule counts; this one the packets it marks
      counter: true,
      comment: flow.rule.id,
    });
  }
  return rules;
}

/** A tcp or udp rule's port range and its rule without the port. */
interface PortRule {
  readonly from: number;
  readonly to: number;
  readonly rule: NftRule;
}

/** Port-matching rules in one protocol chain from which on they go through a verdict map. */
const PORT_VMAP_MIN_RULES = 4;

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function baseRules(side: "in" | "out", options: CompileOptions): NftRule[] {
  // Established traffic first: it is nearly every packet, and every rule here only accepts. A
  // connection that opened as an untracked flow this way meets the rules again (untrackedRules).
  const rules: NftRule[] = [
    {
      match: [
        { m: "ct", states: ["established", "related"] },
        { m: "ct-mark", mask: UNTRACKED_MASK[side === "in" ? "ingress" : "egress"], any: false },
      ],
      action: { a: "accept" },
      counter: true,
      comment: "established",
    },
    { match: [{ m: side === "in" ? "iif-lo" : "oif-lo" }], action: { a: "accept" }, counter: false },
    {
      match: [{ m: "icmpv6-types", types: ICMPV6_INFRASTRUCTURE }],
      action: { a: "accept" },
      counter: true,
      comment: "ipv6-neighbour-discovery",
    },
    // An ICMP error that conntrack cannot relate to a connection (one it no longer knows) is
    // invalid to it; the rules decide about it, as they would on EC2 (Path MTU discovery needs it).
    {
      match: [
        { m: "ct", states: ["invalid"] },
        { m: "l4proto", protocols: [1, 58], negate: true },
      ],
      action: { a: "drop" },
      counter: true,
      comment: "invalid",
    },
    // Only a SYN opens a TCP connection. Conntrack would otherwise pick up the middle of a
    // connection it no longer knows (expired, flushed) from whichever side spoke next, and let the
    // other side's packets in as replies, whatever the rules say about them.
    {
      match: [{ m: "ct", states: ["new"] }, { m: "tcp-not-syn" }],
      action: { a: "drop" },
      counter: true,
      comment: "tcp-new-without-syn",
    },
  ];
  const channel = side === "out" ? options.controlChannel : undefined;
  for (const family of [4, 6] as const) {
    const addresses = channel?.addresses.filter((address) => cidrFamily(address) === family) ?? [];
    if (!channel || addresses.length === 0) continue;
    rules.push({
      match: [
        { m: "addr-list", family, field: "daddr", addresses },
        { m: "port", protocol: "tcp", field: "dport", from: channel.port, to: channel.port },
      ],
      action: { a: "accept" },
      counter: true,
      comment: "control-channel",
    });
  }
  const field: AddressField = side === "in" ? "daddr" : "saddr";
  for (const family of [4, 6] as const) {
    rules.push({
      match: [],
      action: { a: "addr-vmap", family, field, map: `${side}_v${family}` },
      counter: false,
    });
  }
  rules.push({ match: [], action: { a: "continue" }, counter: true, comment: "default-drop" });
  return rules;
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return compareText(a.name, b.name);
}

/** The table that enforces the policy on its host; deterministic for equal policies. */
export function compileHostPolicy(policy: HostPolicy, options: CompileOptions = {}): NftTable {
  const builder = new TableBuilder(policy);
  for (const iface of policy.interfaces) builder.addInterface(iface);
  const maps: NftAddressMap[] = [];
  for (const side of ["in", "out"] as const) {
    for (const family of [4, 6] as const) {
      const seen = new Set<string>();
      const entries = builder.maps[side][family]
        .filter((e) => !seen.has(e.address) && seen.add(e.address))
        .sort((a, b) => compareText(a.address, b.address));
      maps.push({ name: `${side}_v${family}`, family, entries });
    }
  }
  const chains: NftChain[] = [
    {
      name: "input",
      hook: { hook: "input", priority: "filter", policy: "drop" },
      rules: baseRules("in", options),
    },
    {
      name: "output",
      hook: { hook: "output", priority: "filter", policy: "drop" },
      rules: baseRules("out", options),
    },
    ...builder.chains,
  ];
  const timeouts = [...builder.timeouts.values()].sort(byName);
  return {
    sets: [...builder.sets.values()],
    maps,
    chains,
    ...(timeouts.length > 0 ? { timeouts } : {}),
  };
}

/** The table of a host that has no policy yet: loopback, ND and established traffic only. */
export function lockdownTable(options: CompileOptions = {}): NftTable {
  return compileHostPolicy({ instanceId: "", interfaces: [], groups: [], prefixLists: [] }, options);
}
