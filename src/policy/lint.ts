// Lint: dangerous, dead and sloppy rules in an Estate, as findings with a severity, the resource
// they are about and one line of reason. Every check is a pure function of the Estate; see
// docs/lint.md for what each one means and how to tune it.

import type { Estate } from "../model/estate.js";
import type { IntervalSet } from "../net/interval-set.js";
import { parseAppList, SENSITIVE_PORTS } from "./lint-apps.js";
import { lintSecurityGroups } from "./lint-groups.js";
import { lintNetworkAcls } from "./lint-nacls.js";
import { textTable } from "./text-table.js";

export const SEVERITIES = ["critical", "high", "medium", "low", "info"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const LINT_CHECKS = [
  "internet-all-traffic",
  "internet-sensitive-port",
  "internet-port-not-allowed",
  "wide-public-cidr",
  "unrestricted-egress",
  "default-group-rules",
  "default-group-in-use",
  "unused-group",
  "stale-reference",
  "unknown-group",
  "redundant-rule",
  "overlapping-cidrs",
  "rule-quota",
  "group-description",
  "rule-description",
  "nacl-internet-sensitive-port",
  "nacl-hidden-deny",
] as const;
export type LintCheck = (typeof LINT_CHECKS)[number];

export interface LintFinding {
  readonly check: LintCheck;
  readonly severity: Severity;
  /** The most specific thing to fix: `sg-1`, `sg-1/sgr-2`, `acl-1#100`. */
  readonly resource: string;
  readonly reason: string;
  readonly vpcId?: string;
  readonly groupId?: string;
  readonly ruleIds?: readonly string[];
  readonly networkAclId?: string;
  readonly ruleNumbers?: readonly number[];
}

export interface LintOptions {
  /** Applications that may face the internet (default tcp/udp 80 and 443; see parseAppList). */
  readonly allowedApps: IntervalSet;
  /** Ports (tcp and udp) reported one by one when open to the internet. */
  readonly sensitivePorts: ReadonlyMap<number, string>;
  /** Rules per direction and IP family of a group (spec 3.9; default 60). */
  readonly ruleQuota: number;
  /** Share of the quota at which to warn (default 0.8). */
  readonly quotaWarnShare: number;
  /** A public CIDR this wide or wider is reported (defaults /8 and /32). */
  readonly widePrefixIpv4: number;
  readonly widePrefixIpv6: number;
}

export const DEFAULT_ALLOWED_APPS = "80,443";

export function defaultLintOptions(): LintOptions {
  return {
    allowedApps: parseAppList(DEFAULT_ALLOWED_APPS),
    sensitivePorts: SENSITIVE_PORTS,
    ruleQuota: 60,
    quotaWarnShare: 0.8,
    widePrefixIpv4: 8,
    widePrefixIpv6: 32,
  };
}

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Whether `severity` is at least as serious as `threshold`. */
export function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) <= severityRank(threshold);
}

export function isSeverity(text: string): text is Severity {
  return (SEVERITIES as readonly string[]).includes(text);
}

/** All findings, most severe first, then by resource. */
export function lintEstate(estate: Estate, options: Partial<LintOptions> = {}): LintFinding[] {
  const full: LintOptions = { ...defaultLintOptions(), ...options };
  const findings = [...lintSecurityGroups(estate, full), ...lintNetworkAcls(estate, full)];
  return findings.sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      a.resource.localeCompare(b.resource) ||
      a.check.localeCompare(b.check),
  );
}

export function countBySeverity(findings: readonly LintFinding[]): Record<Severity, number> {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity]++;
  return counts;
}

export function formatLintTable(findings: readonly LintFinding[]): string {
  const counts = countBySeverity(findings);
  const summary = `${findings.length} finding(s): ${SEVERITIES.map((s) => `${counts[s]} ${s}`).join(", ")}`;
  if (findings.length === 0) return summary;
  const rows = findings.map((f) => [f.severity, f.check, f.resource, f.reason]);
  return [...textTable(["SEVERITY", "CHECK", "RESOURCE", "REASON"], rows), "", summary].join("\n");
}
