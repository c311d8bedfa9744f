import type { Estate, NetworkAcl, NetworkAclEntry } from "../model/estate.js";
import type { VpcRouter } from "./topology.js";

// A VPC's network ACLs, enforced where the lab's subnets meet: in the VPC's router namespace, on
// traffic routed from one subnet's bridge to another's. Traffic within a subnet is bridged and never
// reaches the forward hook, so ACLs are skipped for it as in EC2 (spec 3.11). ACLs are stateless:
// for each routed packet, the outbound entries of the subnet it leaves and then the inbound entries
// of the subnet it enters are walked in rule-number order; the first match allows (return) or
// denies (drop); no match is the catch-all deny. Replies are packets like any other.

export const ACL_TABLE = "inet ringfence_acl";

function chainName(direction: "out" | "in", subnetId: string): string {
  return `${direction}_${subnetId.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/** The nft match of one entry, or undefined when it can match no packet. */
function entryMatch(entry: NetworkAclEntry, remote: "saddr" | "daddr"): string | undefined {
  const v6 = entry.cidr.includes(":");
  const prefix = Number(entry.cidr.split("/")[1]);
  const parts = [
    prefix === 0 ? `meta nfproto ${v6 ? "ipv6" : "ipv4"}` : `${v6 ? "ip6" : "ip"} ${remote} ${entry.cidr}`,
  ];
  const protocol = Number(entry.protocol);
  const range = (from: number, to: number) => (from === to ? `${from}` : `${from}-${to}`);
  if (protocol === -1) {
    // any protocol
  } else if (protocol === 6 || protocol === 17) {
    const name = protocol === 6 ? "tcp" : "udp";
    parts.push(`meta l4proto ${name}`);
    if (entry.portRange) parts.push(`${name} dport ${range(entry.portRange.from, entry.portRange.to)}`);
  } else if (protocol === 1 || (protocol === 58 && v6)) {
    const name = protocol === 1 ? "icmp" : "icmpv6";
    parts.push(`meta l4proto ${protocol === 1 ? "icmp" : "ipv6-icmp"}`);
    if (entry.icmp && entry.icmp.type !== -1) {
      parts.push(`${name} type ${entry.icmp.type}`);
      if (entry.icmp.code !== -1) parts.push(`${name} code ${entry.icmp.code}`);
    }
  } else if (Number.isInteger(protocol) && protocol >= 0 && protocol <= 255) {
    parts.push(`meta l4proto ${protocol}`);
  } else {
    return undefined;
  }
  return parts.join(" ");
}

function aclChain(acl: NetworkAcl, subnetId: string, egress: boolean): string[] {
  const name = chainName(egress ? "out" : "in", subnetId);
  const rules = acl.entries
    .filter((e) => e.egress === egress && e.ruleNumber < 32767)
    .sort((a, b) => a.ruleNumber - b.ruleNumber)
    .flatMap((e) => {
      const match = entryMatch(e, egress ? "daddr" : "saddr");
      return match === undefined
        ? []
        : [`add rule ${ACL_TABLE} ${name} ${match} ${e.action === "allow" ? "return" : "drop"}`];
    });
  return [`add chain ${ACL_TABLE} ${name}`, ...rules, `add rule ${ACL_TABLE} ${name} drop`];
}

/**
 * The router's ACL table as one `nft -f` script that replaces whatever was there, or an empty
 * string when none of the router's subnets has a known ACL (then nothing is filtered).
 */
export function routerAclScript(estate: Estate, router: VpcRouter): string {
  const aclOf = new Map<string, NetworkAcl>();
  for (const acl of estate.networkAcls) for (const s of acl.subnetIds) aclOf.set(s, acl);
  const guarded = router.segments.filter((s) => aclOf.has(s.subnetId));
  if (guarded.length === 0) return "";
  const lines = [
    `add table ${ACL_TABLE}`,
    `delete table ${ACL_TABLE}`,
    `add table ${ACL_TABLE}`,
    `add chain ${ACL_TABLE} forward { type filter hook forward priority 0; policy accept; }`,
  ];
  for (const s of guarded) {
    const acl = aclOf.get(s.subnetId) as NetworkAcl;
    lines.push(...aclChain(acl, s.subnetId, true), ...aclChain(acl, s.subnetId, false));
  }
  // Leaving one subnet for another: that subnet's outbound entries, then the entered one's inbound.
  for (const s of guarded) {
    lines.push(
      `add rule ${ACL_TABLE} forward iifname "${s.bridge}" oifname != "${s.bridge}" jump ${chainName("out", s.subnetId)}`,
    );
  }
  for (const s of guarded) {
    lines.push(
      `add rule ${ACL_TABLE} forward oifname "${s.bridge}" iifname != "${s.bridge}" jump ${chainName("in", s.subnetId)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Removes the router's ACL table (no error when there is none). */
export const REMOVE_ACL_TABLE = `add table ${ACL_TABLE}\ndelete table ${ACL_TABLE}\n`;
