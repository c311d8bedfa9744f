// What an agent accepts as a HostPolicy: the controller's stream and the agent's saved state are
// JSON from outside the process, and every address and port of a policy ends up in the text of an
// nft script. A policy is taken whole or not at all, so the kernel keeps its table rather than
// meet a port of 22.5 or an address with nft syntax in it. A module of its own, so that the agent
// does not load the policy index with host-policy.ts.

import { formatIp, parseIp } from "../net/address.js";
import { formatCidr, parseCidr } from "../net/cidr.js";

type Check = (value: unknown, at: string) => string | undefined;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const text: Check = (value, at) => (typeof value === "string" ? undefined : `${at} is not a string`);

// Ids name chains and sets; nft names allow these characters, so two ids never share a name.
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const id: Check = (value, at) =>
  typeof value === "string" && ID.test(value) ? undefined : `${at} is not an id (letters, digits, _ . -)`;

const integer =
  (min: number, max: number): Check =>
  (value, at) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `${at} is not an integer from ${min} to ${max}`;

const listOf =
  (check: Check): Check =>
  (value, at) => {
    if (!Array.isArray(value)) return `${at} is not a list`;
    for (let k = 0; k < value.length; k++) {
      const problem = check(value[k], `${at}[${k}]`);
      if (problem) return problem;
    }
    return undefined;
  };

const fields =
  (shape: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (value, at) => {
    if (!isObject(value)) return `${at} is not an object`;
    for (const [name, check] of Object.entries(shape)) {
      const problem = check(value[name], `${at}.${name}`);
      if (problem) return problem;
    }
    for (const [name, check] of Object.entries(optional)) {
      if (value[name] === undefined) continue;
      const problem = check(value[name], `${at}.${name}`);
      if (problem) return problem;
    }
    return undefined;
  };

/** The text is the canonical form of an address of the family (as the controller writes it). */
function isAddress(text: string, family: 4 | 6): boolean {
  const ip = parseIp(text);
  return ip?.family === family && formatIp(ip) === text;
}

function isCidr(text: string, family?: 4 | 6): boolean {
  const parsed = parseCidr(text);
  return (
    parsed !== undefined &&
    (family === undefined || parsed.cidr.family === family) &&
    formatCidr(parsed.cidr) === text
  );
}

const address =
  (family: 4 | 6): Check =>
  (value, at) =>
    typeof value === "string" && isAddress(value, family)
      ? undefined
      : `${at} is not an IPv${family} address`;

/** An address, a CIDR or a range `lo-hi` with lo below hi, each in canonical form. */
function isElement(text: string, family: 4 | 6): boolean {
  if (text.includes("/")) return isCidr(text, family);
  const dash = text.indexOf("-");
  if (dash < 0) return isAddress(text, family);
  const lo = text.slice(0, dash);
  const hi = text.slice(dash + 1);
  if (!isAddress(lo, family) || !isAddress(hi, family)) return false;
  return (parseIp(lo)?.value ?? 0n) < (parseIp(hi)?.value ?? 0n);
}

const element =
  (family: 4 | 6): Check =>
  (value, at) =>
    typeof value === "string" && isElement(value, family)
      ? undefined
      : `${at} is not an IPv${family} address, CIDR or range`;

const peer: Check = (value, at) => {
  if (!isObject(value)) return `${at} is not an object`;
  switch (value.kind) {
    case "cidr":
      return typeof value.cidr === "string" && isCidr(value.cidr) ? undefined : `${at}.cidr is not a CIDR`;
    case "prefix-list":
      return id(value.prefixListId, `${at}.prefixListId`);
    case "group":
      return id(value.groupId, `${at}.groupId`);
    default:
      return `${at}.kind is not cidr, prefix-list or group`;
  }
};

const ruleFields = fields({
  id,
  groupId: id,
  protocol: integer(-1, 255),
  fromPort: integer(-1, 65535),
  toPort: integer(-1, 65535),
  peer,
});

// an ICMP rule's "ports" are its type and code, one byte each
const icmpField = integer(-1, 255);

const rule: Check = (value, at) => {
  const problem = ruleFields(value, at);
  if (problem) return problem;
  const r = value as { protocol: number; fromPort: number; toPort: number };
  if (r.protocol !== 1 && r.protocol !== 58) return undefined;
  return (
    icmpField(r.fromPort, `${at}.fromPort (ICMP type)`) ?? icmpField(r.toPort, `${at}.toPort (ICMP code)`)
  );
};

const seconds = integer(1, 432000);

const hostInterface = fields(
  {
    id,
    ipv4: listOf(address(4)),
    ipv6: listOf(address(6)),
    groupIds: listOf(id),
    ingress: listOf(rule),
    egress: listOf(rule),
  },
  {
    connectionTracking: fields({
      tcpEstablishedTimeout: seconds,
      udpStreamTimeout: seconds,
      udpTimeout: seconds,
    }),
  },
);

const entries = (name: string) => fields({ [name]: id, ipv4: listOf(element(4)), ipv6: listOf(element(6)) });

const policy = fields({
  instanceId: text,
  interfaces: listOf(hostInterface),
  groups: listOf(entries("groupId")),
  prefixLists: listOf(entries("prefixListId")),
});

/** What is wrong with a value taken for a HostPolicy (the first thing found), or undefined. */
export function hostPolicyProblem(value: unknown): string | undefined {
  return policy(value, "policy");
}
