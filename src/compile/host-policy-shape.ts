// What an agent accepts as a HostPolicy: the controller's stream and the agent's saved state are
// JSON from outside the process, and every address and port of a policy ends up in the text of an
// nft script. A policy is taken whole or not at all, so the kernel keeps its table rather than
// meet a port of 22.5 or an address with nft syntax in it. A module of its own, so that the agent
// does not load the policy index with host-policy.ts.

import { parseIp } from "../net/address.js";
import { parseCidr } from "../net/cidr.js";
import { elementInterval } from "./address-elements.js";

type Check = (value: unknown, at: string) => string | undefined;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const text: Check = (value, at) => (typeof value === "string" ? undefined : `${at} is not a string`);

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

const address =
  (family: 4 | 6): Check =>
  (value, at) =>
    typeof value === "string" && parseIp(value)?.family === family
      ? undefined
      : `${at} is not an IPv${family} address`;

const element =
  (family: 4 | 6): Check =>
  (value, at) =>
    typeof value === "string" && elementInterval(value, family) !== undefined
      ? undefined
      : `${at} is not an IPv${family} address, CIDR or range`;

const peer: Check = (value, at) => {
  if (!isObject(value)) return `${at} is not an object`;
  switch (value.kind) {
    case "cidr":
      return typeof value.cidr === "string" && parseCidr(value.cidr) !== undefined
        ? undefined
        : `${at}.cidr is not a CIDR`;
    case "prefix-list":
      return text(value.prefixListId, `${at}.prefixListId`);
    case "group":
      return text(value.groupId, `${at}.groupId`);
    default:
      return `${at}.kind is not cidr, prefix-list or group`;
  }
};

const rule = fields({
  id: text,
  groupId: text,
  protocol: integer(-1, 255),
  fromPort: integer(-1, 65535),
  toPort: integer(-1, 65535),
  peer,
});

const seconds = integer(1, 432000);

const hostInterface = fields(
  {
    id: text,
    ipv4: listOf(address(4)),
    ipv6: listOf(address(6)),
    groupIds: listOf(text),
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

const entries = (id: string) => fields({ [id]: text, ipv4: listOf(element(4)), ipv6: listOf(element(6)) });

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
