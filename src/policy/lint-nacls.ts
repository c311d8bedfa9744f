// Lint checks over network ACLs, which are ordered and stateless: the first matching entry decides.

import type { Estate, NetworkAcl, NetworkAclEntry } from "../model/estate.js";
import { parseCidr } from "../net/cidr.js";
import { IntervalSet } from "../net/interval-set.js";
import type { LintFinding, LintOptions } from "./lint.js";
import { formatApps } from "./lint-apps.js";
import {
  ALL_APPS,
  cidrTextPeers,
  coveringSpaces,
  icmpApps,
  internetCoverage,
  portApps,
  protocolApps,
  type TrafficSpace,
} from "./lint-space.js";

/** Entries from this number on are EC2's catch-all denies (`*`), not the user's. */
const CATCH_ALL_FROM = 32767;

/** The traffic one entry matches (spec 3.11, network ACL decision). */
export function naclEntrySpace(entry: NetworkAclEntry): TrafficSpace {
  const peers = cidrTextPeers(entry.cidr);
  const n = Number(entry.protocol);
  let apps: IntervalSet;
  if (n < 0) apps = ALL_APPS;
  else if (n === 6 || n === 17) {
    apps = entry.portRange ? portApps(n, entry.portRange.from, entry.portRange.to) : protocolApps(n);
  } else if ((n === 1 || (n === 58 && parseCidr(entry.cidr)?.cidr.family === 6)) && entry.icmp) {
    apps = icmpApps(n, entry.icmp.type, entry.icmp.code);
  } else apps = protocolApps(n);
  return { apps, peers };
}

export function lintNetworkAcls(estate: Estate, options: LintOptions): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const acl of estate.networkAcls) {
    for (const egress of [false, true]) {
      const entries = acl.entries
        .filter((e) => e.egress === egress)
        .sort((a, b) => a.ruleNumber - b.ruleNumber);
      const spaces = entries.map(naclEntrySpace);
      if (!egress) findings.push(...sensitivePorts(acl, entries, spaces, options));
      findings.push(...hiddenDenies(acl, egress, entries, spaces));
    }
  }
  return findings;
}

/**
 * Per allow entry, the sensitive ports it lets in from the internet: the sources of port p that
 * reach entry k are its CIDR minus those of earlier entries that also match p.
 */
function sensitivePorts(
  acl: NetworkAcl,
  entries: readonly NetworkAclEntry[],
  spaces: readonly TrafficSpace[],
  options: LintOptions,
): LintFinding[] {
  const findings: LintFinding[] = [];
  entries.forEach((entry, k) => {
    if (entry.action !== "allow") return;
    const space = spaces[k] as TrafficSpace;
    let opened = IntervalSet.EMPTY;
    const names: string[] = [];
    for (const [port, service] of options.sensitivePorts) {
      let portOpened = false;
      for (const proto of [6, 17]) {
        const app = portApps(proto, port, port);
        if (!space.apps.covers(app)) continue;
        let earlier = IntervalSet.EMPTY;
        for (let j = 0; j < k; j++) {
          const s = spaces[j] as TrafficSpace;
          if (s.apps.covers(app)) earlier = earlier.union(s.peers);
        }
        const coverage = internetCoverage(space.peers.subtract(earlier));
        if (coverage.ipv4 || coverage.ipv6) {
          opened = opened.union(app);
          portOpened = true;
        }
      }
      if (portOpened) names.push(`${port} (${service})`);
    }
    if (names.length === 0) return;
    const protocols = formatApps(opened).map((a) => a.split("/")[0]);
    findings.push({
      check: "nacl-internet-sensitive-port",
      severity: "medium",
      resource: `${acl.id}#${entry.ruleNumber}`,
      reason: `inbound entry ${entry.ruleNumber} allows sensitive ports from ${entry.cidr} (${[...new Set(protocols)].join("/")}): ${names.join(", ")}`,
      vpcId: acl.vpcId,
      networkAclId: acl.id,
      ruleNumbers: [entry.ruleNumber],
    });
  });
  return findings;
}

function hiddenDenies(
  acl: NetworkAcl,
  egress: boolean,
  entries: readonly NetworkAclEntry[],
  spaces: readonly TrafficSpace[],
): LintFinding[] {
  const findings: LintFinding[] = [];
  entries.forEach((entry, k) => {
    if (entry.action !== "deny" || entry.ruleNumber >= CATCH_ALL_FROM) return;
    const earlier = entries.slice(0, k);
    const cover = coveringSpaces(spaces[k] as TrafficSpace, spaces.slice(0, k));
    if (!cover) return;
    const allows = cover.map((j) => earlier[j] as NetworkAclEntry).filter((e) => e.action === "allow");
    // covered by earlier denies alone, it is merely redundant and denies anyway
    if (allows.length === 0) return;
    const numbers = allows.map((e) => e.ruleNumber);
    findings.push({
      check: "nacl-hidden-deny",
      severity: "medium",
      resource: `${acl.id}#${entry.ruleNumber}`,
      reason: `${egress ? "outbound" : "inbound"} deny ${entry.ruleNumber} (${formatApps(spaces[k]?.apps ?? ALL_APPS).join(" ")} ${egress ? "to" : "from"} ${entry.cidr}) never fires: allow ${numbers.join(", ")} match${numbers.length === 1 ? "es" : ""} its traffic first`,
      vpcId: acl.vpcId,
      networkAclId: acl.id,
      ruleNumbers: [entry.ruleNumber, ...numbers],
    });
  });
  return findings;
}
