// EC2's rule model (spec 3.4): protocol and port normalisation, descriptions, rule identity for
// duplicates and revokes, the duplicate message, and how rules count against the quota.

import { normaliseRuleProtocol, protocolNumber } from "../net/protocol.js";
import { Ec2Error, invalidValue } from "./errors.js";
import type { RulePeer } from "./estate.js";

export interface ProtocolPorts {
  protocol: string;
  fromPort: number;
  toPort: number;
}

const ALLOWED_TEXT = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;
const CHARSET_TEXT = "a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*";

export function isAllowedText(text: string): boolean {
  return text.length <= 255 && ALLOWED_TEXT.test(text);
}

export function checkRuleDescription(description: string | undefined): string | undefined {
  if (description === undefined) return undefined;
  if (!isAllowedText(description)) {
    throw invalidValue(
      `Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  ${CHARSET_TEXT}`,
    );
  }
  return description;
}

export function checkGroupDescription(description: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is the range being tested
  if (!/^[\x00-\x7f]*$/.test(description)) {
    throw invalidValue(
      `Value (${description}) for parameter GroupDescription is invalid. Character sets beyond ASCII are not supported.`,
    );
  }
  if (!isAllowedText(description)) {
    throw invalidValue(
      `Invalid security group description. Valid descriptions are strings less than 256 characters from the following set:  ${CHARSET_TEXT}`,
    );
  }
  return description;
}

export function checkGroupName(raw: string): string {
  const name = raw.replace(/ +$/, "");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is the range being tested
  if (!/^[\x00-\x7f]*$/.test(name)) {
    throw invalidValue(
      `Value (${name}) for parameter GroupName is invalid. Character sets beyond ASCII are not supported.`,
    );
  }
  if (name.length === 0 || !isAllowedText(name)) {
    throw invalidValue(
      `Value (${name}) for parameter GroupName is invalid. Valid names are strings of 1 to 255 characters from the following set:  ${CHARSET_TEXT}`,
    );
  }
  if (name.toLowerCase().startsWith("sg-")) {
    throw invalidValue(
      `Value (${name}) for parameter GroupName is invalid. Group names may not be in the format sg-*.`,
    );
  }
  return name;
}

function checkPort(value: number, which: "from" | "to"): void {
  if (value < 0 || value > 65535) {
    throw new Ec2Error(
      "InvalidPermission.Malformed",
      `TCP/UDP ${which === "from" ? "(from) " : "(to) "}port (${value}) out of range`,
    );
  }
}

/** Protocol and ports of a rule as EC2 stores them; ports are -1 where the protocol has none. */
export function normaliseProtocolPorts(
  protocolText: string | undefined,
  fromPort: number | undefined,
  toPort: number | undefined,
): ProtocolPorts {
  if (protocolText === undefined || protocolText === "") {
    throw invalidValue(
      "Invalid value 'null' for protocol. VPC security group rules must specify protocols explicitly.",
    );
  }
  const protocol = normaliseRuleProtocol(protocolText);
  if (protocol === undefined)
    throw invalidValue(`Invalid value '${protocolText}' for IP protocol. Unknown protocol.`);
  switch (protocol) {
    case "tcp":
    case "udp": {
      if (fromPort === undefined || toPort === undefined) {
        throw invalidValue(
          "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.",
        );
      }
      checkPort(fromPort, "from");
      checkPort(toPort, "to");
      if (fromPort > toPort) {
        throw new Ec2Error(
          "InvalidParameterValue",
          `Invalid TCP/UDP port range ${fromPort}-${toPort}: the from port must not be greater than the to port.`,
        );
      }
      return { protocol, fromPort, toPort };
    }
    case "icmp":
    case "icmpv6": {
      if (fromPort === undefined || toPort === undefined) {
        if (protocol === "icmpv6" && fromPort === undefined && toPort === undefined) {
          return { protocol, fromPort: -1, toPort: -1 };
        }
        throw invalidValue("Invalid value 'Must specify both from and to ports with ICMP.' for portRange.");
      }
      if (fromPort < -1 || fromPort > 255) throw invalidValue(`Invalid value '${fromPort}' for ICMP type.`);
      if (toPort < -1 || toPort > 255) throw invalidValue(`Invalid value '${toPort}' for ICMP code.`);
      if (fromPort === -1 && toPort !== -1) {
        throw invalidValue(
          "Invalid ICMP type/code: when the ICMP type is -1 (all types) the code must be -1.",
        );
      }
      return { protocol, fromPort, toPort };
    }
    default:
      return { protocol, fromPort: -1, toPort: -1 };
  }
}

export function peerKey(peer: RulePeer): string {
  switch (peer.kind) {
    case "ipv4":
    case "ipv6":
      return peer.cidr;
    case "prefix-list":
      return peer.prefixListId;
    case "group":
      return peer.groupId;
  }
}

export interface RuleIdentity extends ProtocolPorts {
  egress: boolean;
  peer: RulePeer;
}

/** Keys of stored rules: they are immutable and shared by every version of their group. */
const storedRuleKeys = new WeakMap<RuleIdentity, string>();

/** What makes two rules the same rule: direction, protocol, ports and peer; never the description. */
export function ruleKey(rule: RuleIdentity): string {
  let key = storedRuleKeys.get(rule);
  if (key === undefined) {
    key = `${rule.egress ? "out" : "in"}|${rule.protocol}|${rule.fromPort}|${rule.toPort}|${rule.peer.kind}|${peerKey(rule.peer)}`;
    if (Object.isFrozen(rule)) storedRuleKeys.set(rule, key);
  }
  return key;
}

/** EC2's wording of a rule inside `InvalidPermission.Duplicate`. */
export function describeRule(rule: RuleIdentity): string {
  const peer = `peer: ${peerKey(rule.peer)}`;
  const n = protocolNumber(rule.protocol);
  if (rule.protocol === "-1") return `${peer}, ALL, ALLOW`;
  if (n === 6 || n === 17)
    return `${peer}, ${rule.protocol.toUpperCase()}, from port: ${rule.fromPort}, to port: ${rule.toPort}, ALLOW`;
  if (n === 1 || n === 58)
    return `${peer}, ${rule.protocol.toUpperCase()}, type: ${rule.fromPort}, code: ${rule.toPort}, ALLOW`;
  return `${peer}, protocol: ${rule.protocol}, ALLOW`;
}

export function duplicateRule(rule: RuleIdentity): Ec2Error {
  return new Ec2Error(
    "InvalidPermission.Duplicate",
    `the specified rule "${describeRule(rule)}" already exists`,
  );
}

/**
 * Quota usage of one direction (spec 3.9): group references count in both the IPv4 and the IPv6
 * table, a prefix list counts its MaxEntries, CIDRs count in their own family's table.
 */
export function quotaUsage(
  rules: readonly RuleIdentity[],
  egress: boolean,
  prefixListWeight: (id: string) => number,
): number {
  let shared = 0;
  let v4 = 0;
  let v6 = 0;
  for (const rule of rules) {
    if (rule.egress !== egress) continue;
    if (rule.peer.kind === "group") shared += 1;
    else if (rule.peer.kind === "prefix-list") shared += prefixListWeight(rule.peer.prefixListId);
    else if (rule.peer.kind === "ipv4") v4 += 1;
    else v6 += 1;
  }
  return shared + Math.max(v4, v6);
}
