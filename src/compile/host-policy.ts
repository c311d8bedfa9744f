// The policy of one host: what its agent must enforce, and nothing it does not need. It is the
// message the controller streams to the agent, so it is plain JSON, and it is sorted so that two
// computations of the same state are deep-equal (the agent and the delta compare them).

import type { ConnectionTracking } from "../model/connection-tracking.js";
import type { Estate } from "../model/estate.js";
import { PolicyIndex } from "../policy/policy-index.js";
import { EstateRules } from "./estate-rules.js";

export type HostPeer =
  | { readonly kind: "cidr"; readonly cidr: string }
  | { readonly kind: "prefix-list"; readonly prefixListId: string }
  | { readonly kind: "group"; readonly groupId: string };

export interface HostRule {
  /** `sgr-...`: the tag of the rule's counter in the kernel. */
  readonly id: string;
  readonly groupId: string;
  /** IP protocol number; -1 = every protocol. */
  readonly protocol: number;
  /** Port range for tcp/udp; ICMP type/code for icmp/icmpv6 (-1 = any); -1/-1 otherwise. */
  readonly fromPort: number;
  readonly toPort: number;
  readonly peer: HostPeer;
}

export interface HostInterface {
  readonly id: string;
  /** Private addresses, primary first. */
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
  readonly groupIds: readonly string[];
  /** Rules of every attached group, by rule id. */
  readonly ingress: readonly HostRule[];
  readonly egress: readonly HostRule[];
  /** Idle timeouts of tracked connections in seconds, all three, where the interface sets any. */
  readonly connectionTracking?: Required<ConnectionTracking>;
}

/**
 * The private addresses of the interfaces that currently carry a group (any account), as disjoint
 * nft set elements: addresses, CIDRs or ranges `a-b` (see address-elements).
 */
export interface GroupMembers {
  readonly groupId: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

/** The current entries of a prefix list, as disjoint set elements of each family. */
export interface PrefixListEntries {
  readonly prefixListId: string;
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

export interface HostPolicy {
  readonly instanceId: string;
  readonly interfaces: readonly HostInterface[];
  /** Every group referenced by a rule above; an unknown (stale) group has no members. */
  readonly groups: readonly GroupMembers[];
  /** Every prefix list referenced by a rule above; an unknown list has no entries. */
  readonly prefixLists: readonly PrefixListEntries[];
}

const rulesByEstate = new WeakMap<Estate, EstateRules>();
const rulesByIndex = new WeakMap<PolicyIndex, EstateRules>();

function rulesOfIndex(index: PolicyIndex): EstateRules {
  let rules = rulesByIndex.get(index);
  if (!rules) {
    rules = new EstateRules(index);
    rulesByIndex.set(index, rules);
  }
  return rules;
}

/** The indexes over one Estate object, built once and reused for every host of it. */
export function estateRules(estate: Estate): EstateRules {
  let rules = rulesByEstate.get(estate);
  if (!rules) {
    rules = rulesOfIndex(PolicyIndex.build(estate));
    rulesByEstate.set(estate, rules);
  }
  return rules;
}

/** The policy of one instance, or undefined when the estate has no such instance or it is terminated. */
export function hostPolicyFor(estate: Estate, instanceId: string): HostPolicy | undefined {
  return estateRules(estate).hostPolicy(instanceId);
}

/** The same, from a PolicyIndex the caller already built (the controller keeps one per revision). */
export function hostPolicyFromIndex(index: PolicyIndex, instanceId: string): HostPolicy | undefined {
  return rulesOfIndex(index).hostPolicy(instanceId);
}
