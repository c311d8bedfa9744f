// What SRC and DST mean on the command line: an instance id, an interface id, an IP, a CIDR, a
// group id or name (its members), a tag selector `tag:Role=web`, or `internet`. A selector picks
// interfaces of the estate, or, when it names addresses no interface has, an external address set.
// Also the PROTO/PORT syntax: tcp/22, udp/53, icmp/8, icmp/8:0, tcp/1000-2000, all, or a number.

import { type Family, parseIp } from "../net/address.js";
import { parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import { ALL_PROTOCOLS, normaliseRuleProtocol, PROTOCOL_NUMBERS, protocolNumber } from "../net/protocol.js";
import { internetSpace } from "./address-space.js";
import {
  type AddressSets,
  cidrInterval,
  type IndexedInterface,
  type PolicyIndex,
  type Traffic,
} from "./policy-index.js";

export type Selection =
  | {
      readonly kind: "interfaces";
      readonly label: string;
      readonly interfaces: readonly IndexedInterface[];
      /** The address family the selector itself implies (an IPv6 address or CIDR). */
      readonly family?: Family;
      /** A specific private address asked for (selector was an IP of one interface). */
      readonly address?: string;
    }
  | {
      readonly kind: "external";
      readonly label: string;
      readonly space: AddressSets;
      readonly family?: Family;
    };

export class SelectorError extends Error {}

function tagsMatch(i: IndexedInterface, key: string, value: string | undefined): boolean {
  for (const tags of [i.eni.tags, i.instance?.tags ?? {}]) {
    if (Object.hasOwn(tags, key) && (value === undefined || tags[key] === value)) return true;
  }
  return false;
}

/** Resolve one selector. Throws SelectorError when it names nothing. */
export function select(index: PolicyIndex, text: string): Selection {
  const all = [...index.interfaces.values()];
  if (text === "internet")
    return { kind: "external", label: "internet", space: internetSpace(index.vpcSpace) };
  if (text.startsWith("tag:")) {
    const body = text.slice(4);
    const eq = body.indexOf("=");
    const key = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? undefined : body.slice(eq + 1);
    if (key === "") throw new SelectorError(`'${text}': a tag selector is tag:KEY=VALUE or tag:KEY`);
    const interfaces = all.filter((i) => tagsMatch(i, key, value));
    if (interfaces.length === 0) throw new SelectorError(`'${text}': no interface or instance has that tag`);
    return { kind: "interfaces", label: text, interfaces };
  }
  if (/^i-[0-9a-zA-Z]+$/.test(text)) {
    const interfaces = all.filter((i) => i.instance?.id === text);
    if (interfaces.length === 0)
      throw new SelectorError(`'${text}': no such instance with an interface in the estate`);
    return { kind: "interfaces", label: text, interfaces };
  }
  if (text.startsWith("eni-")) {
    const i = index.interfaces.get(text);
    if (!i) throw new SelectorError(`'${text}': no such network interface`);
    return { kind: "interfaces", label: text, interfaces: [i] };
  }
  const address = parseIp(text);
  if (address) {
    const i = index.interfaceAt(address) ?? index.interfaceAtPublic(address);
    if (i) {
      const isPrivate = index.interfaceAt(address) !== undefined;
      return {
        kind: "interfaces",
        label: text,
        interfaces: [i],
        family: address.family,
        ...(isPrivate ? { address: text } : {}),
      };
    }
    const single = IntervalSet.range(address.value, address.value);
    return {
      kind: "external",
      label: text,
      space: address.family === 4 ? { 4: single, 6: IntervalSet.EMPTY } : { 4: IntervalSet.EMPTY, 6: single },
      family: address.family,
    };
  }
  const cidr = parseCidr(text);
  if (cidr) {
    const block = cidrInterval(cidr.cidr);
    const interfaces = all.filter((i) =>
      i.addresses.some((a) => a.family === cidr.cidr.family && block.has(a.value)),
    );
    if (interfaces.length > 0)
      return { kind: "interfaces", label: text, interfaces, family: cidr.cidr.family };
    return {
      kind: "external",
      label: text,
      space: cidr.cidr.family === 4 ? { 4: block, 6: IntervalSet.EMPTY } : { 4: IntervalSet.EMPTY, 6: block },
      family: cidr.cidr.family,
    };
  }
  // `group:NAME` says that NAME is a group's, which a bare word only guesses
  const name = text.startsWith("group:") ? text.slice(6) : text;
  const group =
    index.groups.get(name) ?? [...index.groups.values()].find((g) => g.name === name || g.tags.Name === name);
  const groupId = group?.id ?? (name.startsWith("sg-") ? name : undefined);
  if (groupId !== undefined) {
    const interfaces = index.memberInterfaces(groupId);
    if (interfaces.length === 0)
      throw new SelectorError(`'${text}': group ${groupId} has no member interfaces`);
    return { kind: "interfaces", label: text, interfaces };
  }
  throw new SelectorError(
    `'${text}' selects nothing: use an instance id, interface id, IP, CIDR, group id or name, tag:KEY=VALUE or internet`,
  );
}

export class TrafficSyntaxError extends Error {}

/** Parse PROTO/PORT. `icmp` becomes icmpv6 for IPv6 flows (the caller passes the family). */
export function parseTraffic(text: string, family: Family = 4): Traffic {
  const lower = text.trim().toLowerCase();
  if (lower === "all" || lower === "-1") return { protocol: ALL_PROTOCOLS };
  const slash = lower.indexOf("/");
  const protoText = slash < 0 ? lower : lower.slice(0, slash);
  const rest = slash < 0 ? undefined : lower.slice(slash + 1);
  const normalised = normaliseRuleProtocol(protoText);
  if (normalised === undefined || normalised === "-1") {
    throw new TrafficSyntaxError(
      `'${text}': unknown protocol '${protoText}' (tcp, udp, icmp, icmpv6, all or 0-255)`,
    );
  }
  let protocol = protocolNumber(normalised);
  if (protocol === PROTOCOL_NUMBERS.icmp && family === 6) protocol = PROTOCOL_NUMBERS.icmpv6;
  const num = (s: string, max: number, what: string): number => {
    if (!/^\d{1,5}$/.test(s) || Number(s) > max)
      throw new TrafficSyntaxError(`'${text}': '${s}' is not ${what}`);
    return Number(s);
  };
  if (protocol === PROTOCOL_NUMBERS.tcp || protocol === PROTOCOL_NUMBERS.udp) {
    if (rest === undefined || rest === "")
      throw new TrafficSyntaxError(`'${text}': ${protoText} needs a port, e.g. ${protoText}/443`);
    return { protocol, port: num(rest, 65535, "a port (0-65535)") };
  }
  if (protocol === PROTOCOL_NUMBERS.icmp || protocol === PROTOCOL_NUMBERS.icmpv6) {
    if (rest === undefined || rest === "")
      throw new TrafficSyntaxError(`'${text}': icmp needs a type, e.g. icmp/8 or icmp/8:0`);
    const [typeText, codeText, extra] = rest.split(":");
    if (extra !== undefined) throw new TrafficSyntaxError(`'${text}': icmp is TYPE or TYPE:CODE`);
    const icmpType = num(typeText as string, 255, "an ICMP type");
    return codeText === undefined
      ? { protocol, icmpType }
      : { protocol, icmpType, icmpCode: num(codeText, 255, "an ICMP code") };
  }
  if (rest !== undefined) throw new TrafficSyntaxError(`'${text}': protocol ${protocol} has no ports`);
  return { protocol };
}

/** A PROTO/PORT that may be a range (tcp/1000-2000): expanded to the ports it covers, capped. */
export function parseTrafficList(text: string, family: Family = 4, cap = 4096): Traffic[] {
  const out: Traffic[] = [];
  for (const item of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^(tcp|udp|6|17)\/(\d{1,5})-(\d{1,5})$/i.exec(item);
    if (m) {
      const from = Number(m[2]);
      const to = Number(m[3]);
      if (from > to || to > 65535) throw new TrafficSyntaxError(`'${item}': not a port range`);
      if (to - from + 1 > cap) throw new TrafficSyntaxError(`'${item}': more than ${cap} ports`);
      const protocol = protocolNumber(normaliseRuleProtocol(m[1] as string) as string);
      for (let p = from; p <= to; p++) out.push({ protocol, port: p });
    } else {
      out.push(parseTraffic(item, family));
    }
  }
  return out;
}
