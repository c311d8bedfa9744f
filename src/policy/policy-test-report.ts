// Policy-test results for people (a plain report) and for CI (JUnit XML: one testsuite per file,
// one testcase per expectation, FAIL and PARTIAL as <failure>, ERROR as <error>).

import { OUTCOMES, type PolicyTestReport } from "./policy-test.js";

const MAX_EXPLAINED = 3;

export function formatPolicyReport(report: PolicyTestReport): string {
  const lines: string[] = [];
  for (const r of report.results) {
    lines.push(`${r.outcome.padEnd(7)}  ${r.name}${r.file ? `  (${r.file})` : ""}`);
    if (r.outcome === "PASS") continue;
    for (const e of r.expectations) {
      lines.push(`    ${e.outcome.padEnd(7)}  ${e.expectation}: ${e.message}`);
      for (const f of e.failures.slice(0, MAX_EXPLAINED)) {
        lines.push(...(f.explanation ?? "").split("\n").map((l) => `        ${l}`));
      }
      if (e.failures.length > MAX_EXPLAINED) {
        lines.push(`        (${e.failures.length - MAX_EXPLAINED} more failing pair(s) not explained)`);
      }
    }
  }
  const summary = OUTCOMES.map((o) => `${report.counts[o]} ${o}`).join(", ");
  lines.push("", `${report.results.length} test(s): ${summary}`);
  return lines.join("\n");
}

export function xmlEscape(text: string): string {
  return (
    text
      // characters XML 1.0 cannot carry at all
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

export function toJUnitXml(report: PolicyTestReport, suiteName = "ringfence policy tests"): string {
  const byFile = new Map<string, PolicyTestReport["results"][number][]>();
  for (const r of report.results) {
    const key = r.file ?? "policy-tests";
    byFile.set(key, [...(byFile.get(key) ?? []), r]);
  }
  let tests = 0;
  let failures = 0;
  let errors = 0;
  const suites: string[] = [];
  for (const [file, results] of byFile) {
    const cases: string[] = [];
    let suiteFailures = 0;
    let suiteErrors = 0;
    for (const r of results) {
      for (const e of r.expectations) {
        const open = `    <testcase classname="${xmlEscape(`${file}: ${r.name}`)}" name="${xmlEscape(e.expectation)}">`;
        const detail = [
          e.message,
          ...e.failures.slice(0, MAX_EXPLAINED).map((f) => f.explanation ?? ""),
        ].join("\n\n");
        if (e.outcome === "PASS") cases.push(`${open}</testcase>`);
        else if (e.outcome === "ERROR") {
          suiteErrors++;
          cases.push(
            `${open}\n      <error type="ERROR" message="${xmlEscape(e.message)}">${xmlEscape(detail)}</error>\n    </testcase>`,
          );
        } else {
          suiteFailures++;
          cases.push(
            `${open}\n      <failure type="${e.outcome}" message="${xmlEscape(`${e.outcome}: ${e.message}`)}">${xmlEscape(detail)}</failure>\n    </testcase>`,
          );
        }
      }
    }
    tests += cases.length;
    failures += suiteFailures;
    errors += suiteErrors;
    suites.push(
      `  <testsuite name="${xmlEscape(file)}" tests="${cases.length}" failures="${suiteFailures}" errors="${suiteErrors}">\n${cases.join("\n")}\n  </testsuite>`,
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlEscape(suiteName)}" tests="${tests}" failures="${failures}" errors="${errors}">`,
    ...suites,
    "</testsuites>",
    "",
  ].join("\n");
}
