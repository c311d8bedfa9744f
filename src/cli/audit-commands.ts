// `ringfence lint` and `ringfence test`: checks of an estate that fail CI when the firewall is
// dangerous or drifts from intent. Exit codes: 0 clean, 1 findings or failed tests, 2 errors.

import { writeFile } from "node:fs/promises";
import {
  atLeast,
  countBySeverity,
  DEFAULT_ALLOWED_APPS,
  formatLintTable,
  isSeverity,
  type LintOptions,
  lintEstate,
  SEVERITIES,
  type Severity,
} from "../policy/lint.js";
import { AppListError, parseAppList } from "../policy/lint-apps.js";
import type { PolicyTest, PolicyTestReport } from "../policy/policy-test.js";
import { runPolicyTests } from "../policy/policy-test.js";
import { loadPolicyTests, PolicyFileError } from "../policy/policy-test-file.js";
import { formatPolicyReport, toJUnitXml } from "../policy/policy-test-report.js";
import { loadEstate, loadIndex, parseCommandArgs, SOURCE_OPTIONS, SOURCE_USAGE } from "./analysis-source.js";
import { type Command, UsageError } from "./command.js";

const lint: Command = {
  name: "lint",
  summary: "find dangerous, dead and sloppy security-group and network-ACL rules",
  usage: `Usage: ringfence lint [--fail-on SEVERITY] [--allow-ports LIST] [--quota N] [ESTATE] [--json]

Reports findings (${SEVERITIES.join(", ")}), each naming the group, rule (sgr-...) or NACL entry
(acl-...#N) and a one-line reason. See docs/lint.md for every check.

Options:
  --fail-on SEVERITY   exit 1 when a finding is at least this severe (default high)
  --allow-ports LIST   what may face the internet (default ${DEFAULT_ALLOWED_APPS}): ports or ranges
                       (tcp and udp), PROTO/PORT[-PORT], or a protocol name such as icmp
  --quota N            rules per group, direction and IP family (default 60)

${SOURCE_USAGE} (findings, counts, failOn, failed)

Exit status: 0 no finding at or above --fail-on, 1 otherwise, 2 on error.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      ...SOURCE_OPTIONS,
      "fail-on": { type: "string" },
      "allow-ports": { type: "string" },
      quota: { type: "string" },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const failOn = values["fail-on"] ?? "high";
    if (!isSeverity(failOn))
      throw new UsageError(`--fail-on: '${failOn}' is not one of ${SEVERITIES.join(", ")}`);
    const options: Partial<LintOptions> = {};
    const allow = values["allow-ports"];
    if (allow !== undefined) {
      try {
        Object.assign(options, { allowedApps: parseAppList(allow) });
      } catch (error) {
        if (error instanceof AppListError) throw new UsageError(`--allow-ports: ${error.message}`);
        throw error;
      }
    }
    if (values.quota !== undefined) {
      if (!/^\d+$/.test(values.quota) || Number(values.quota) < 1) {
        throw new UsageError(`--quota: '${values.quota}' is not a positive number`);
      }
      Object.assign(options, { ruleQuota: Number(values.quota) });
    }
    const estate = await loadEstate(values);
    const findings = lintEstate(estate, options);
    const failed = findings.some((f) => atLeast(f.severity, failOn as Severity));
    if (values.json) {
      console.log(JSON.stringify({ findings, counts: countBySeverity(findings), failOn, failed }));
    } else {
      console.log(formatLintTable(findings));
    }
    return failed ? 1 : 0;
  },
};

const policyTest: Command = {
  name: "test",
  summary: "run policy tests (YAML expectations of who may reach what) against an estate",
  usage: `Usage: ringfence test FILE... [--junit OUT.xml] [ESTATE] [--json]

Each FILE holds a \`tests:\` list (see docs/policy-tests.md). Every application of every test is
checked for every source/destination pair: PASS, FAIL (no pair as expected), PARTIAL (some pairs
not as expected, listed with the evaluator's explanation) or ERROR (e.g. a selector that matches
nothing).

Options:
  --junit FILE         also write JUnit XML (one testcase per expectation) for CI

${SOURCE_USAGE} (the whole report)

Exit status: 0 all tests pass, 1 any FAIL, PARTIAL or ERROR, 2 on a bad file or source.`,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { ...SOURCE_OPTIONS, junit: { type: "string" } });
    if (positionals.length === 0) throw new UsageError("give at least one policy-test FILE");
    const tests: PolicyTest[] = [];
    const invalid: PolicyFileError[] = [];
    for (const file of positionals) {
      try {
        tests.push(...(await loadPolicyTests(file)));
      } catch (error) {
        if (!(error instanceof PolicyFileError)) throw error;
        invalid.push(error);
      }
    }
    if (invalid.length > 0) {
      const problems = invalid.flatMap((e) => e.problems);
      console.error(
        `ringfence test: invalid policy-test file(s):\n${problems.map((p) => `  ${p}`).join("\n")}`,
      );
      // CI still gets a report to show: one error per unreadable file
      if (values.junit !== undefined) await writeFile(values.junit, toJUnitXml(fileErrorReport(invalid)));
      return 2;
    }
    const report = runPolicyTests(await loadIndex(values), tests);
    if (values.junit !== undefined) await writeFile(values.junit, toJUnitXml(report));
    console.log(values.json ? JSON.stringify(report) : formatPolicyReport(report));
    return report.passed ? 0 : 1;
  },
};

function fileErrorReport(invalid: readonly PolicyFileError[]): PolicyTestReport {
  const results = invalid.map((e) => ({
    name: "(file)",
    file: e.file,
    outcome: "ERROR" as const,
    expectations: [
      {
        test: "(file)",
        file: e.file,
        expectation: "is a valid policy-test file",
        outcome: "ERROR" as const,
        message: e.problems.join("\n"),
        checkedPairs: 0,
        failures: [],
      },
    ],
  }));
  return { results, counts: { PASS: 0, PARTIAL: 0, FAIL: 0, ERROR: results.length }, passed: false };
}

export const auditCommands: Command[] = [lint, policyTest];
