// Policy-test files: YAML, one `tests:` list (docs/policy-tests.md). Everything that can be
// checked without an estate is checked on load, and every problem is reported with the file, the
// line, the test and the key, all at once.

import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import type { Family } from "../net/address.js";
import type { PolicyTest } from "./policy-test.js";
import { parseApplication } from "./policy-test-apps.js";

export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(problems.join("\n"));
    this.name = "PolicyFileError";
  }
}

const TOP_KEYS = ["tests"];
const TEST_KEYS = ["name", "from", "to", "permits", "denies", "only", "only_from", "only_to", "on", "family"];
const APP_KEYS = new Set(["permits", "denies", "only", "on"]);

/** Parses the text of one file; `file` names it in messages. Throws PolicyFileError. */
export function parsePolicyTests(text: string, file: string): PolicyTest[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}`;
  };
  if (doc.errors.length > 0) {
    throw new PolicyFileError(
      file,
      doc.errors.map((e) => `${at(e.pos[0])}: invalid YAML: ${e.message.split("\n")[0]}`),
    );
  }
  const problems: string[] = [];
  const root = doc.contents;
  if (!isMap(root)) throw new PolicyFileError(file, [`${file}: expected a mapping with a 'tests' list`]);
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!TOP_KEYS.includes(key))
      problems.push(`${at(nodeStart(pair.key))}: unknown top-level key '${key}' (expected: tests)`);
  }
  const list = root.get("tests", true);
  if (!isSeq(list)) {
    problems.push(`${file}: 'tests' must be a list of tests`);
    throw new PolicyFileError(file, problems);
  }
  const tests: PolicyTest[] = [];
  const names = new Map<string, number>();
  list.items.forEach((item, k) => {
    const where = at(nodeStart(item));
    if (!isMap(item)) {
      problems.push(`${where}: test #${k + 1}: expected a mapping with name, to and an expectation`);
      return;
    }
    const rawName = item.get("name");
    if (typeof rawName === "string" && rawName.trim() !== "") {
      const name = rawName.trim();
      const previous = names.get(name);
      if (previous !== undefined) {
        problems.push(`${where}: test '${name}': the name is already used by test #${previous + 1}`);
      } else names.set(name, k);
    }
    const test = readTest(item, k, where, (message) => problems.push(message));
    if (test) tests.push({ ...test, file });
  });
  if (list.items.length === 0) problems.push(`${file}: 'tests' is empty`);
  if (problems.length > 0) throw new PolicyFileError(file, problems);
  return tests;
}

export async function loadPolicyTests(file: string): Promise<PolicyTest[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new PolicyFileError(file, [
      `${file}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
    ]);
  }
  return parsePolicyTests(text, file);
}

function nodeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function readTest(
  map: YAMLMap,
  k: number,
  where: string,
  problem: (message: string) => void,
): Omit<PolicyTest, "file"> | undefined {
  const values = new Map<string, unknown>(Object.entries(map.toJSON() as Record<string, unknown>));
  const rawName = values.get("name");
  const name = typeof rawName === "string" && rawName.trim() !== "" ? rawName.trim() : undefined;
  const label = name === undefined ? `test #${k + 1}` : `test '${name}'`;
  let problems = 0;
  const report = (key: string | undefined, message: string) => {
    problems++;
    problem(`${where}: ${label}${key === undefined ? "" : `: key '${key}'`}: ${message}`);
  };
  if (name === undefined) report("name", "required, a non-empty text");
  for (const key of values.keys()) {
    if (!TEST_KEYS.includes(key)) report(key, `unknown key (expected one of: ${TEST_KEYS.join(", ")})`);
  }
  const list = (key: string): string[] | undefined => {
    if (!values.has(key)) return undefined;
    const v = values.get(key);
    const items =
      typeof v === "string" || typeof v === "number" ? [String(v)] : Array.isArray(v) ? v : undefined;
    if (!items || items.length === 0 || !items.every((x) => typeof x === "string" || typeof x === "number")) {
      report(key, "expected a text or a non-empty list of texts");
      return undefined;
    }
    const texts = items.map((x) => String(x).trim());
    if (APP_KEYS.has(key)) {
      for (const t of texts) {
        try {
          parseApplication(t);
        } catch (error) {
          report(key, error instanceof Error ? error.message : String(error));
        }
      }
    }
    return texts;
  };
  const from = list("from");
  const to = list("to");
  const permits = list("permits");
  const denies = list("denies");
  const only = list("only");
  const onlyFrom = list("only_from");
  const onlyTo = list("only_to");
  const on = list("on");
  const kinds = [
    values.has("permits") || values.has("denies") ? "permits/denies" : "",
    values.has("only") ? "only" : "",
    values.has("only_from") ? "only_from" : "",
    values.has("only_to") ? "only_to" : "",
  ].filter(Boolean);
  if (kinds.length === 0) {
    report(undefined, "states no expectation: give permits, denies, only, or only_from/only_to with on");
  }
  if (kinds.length > 1) {
    report(
      undefined,
      `combine only one of permits/denies, only, only_from, only_to (found ${kinds.join(", ")})`,
    );
  }
  const listKey = values.has("only_from") ? "only_from" : values.has("only_to") ? "only_to" : undefined;
  // with only_from the sources are the listed ones and everyone else; with only_to the destinations
  const implied = listKey === "only_from" ? "from" : listKey === "only_to" ? "to" : undefined;
  for (const [key, what] of [
    ["from", "the source selector(s)"],
    ["to", "the destination selector(s)"],
  ] as const) {
    if (key === implied && values.has(key)) report(key, `not used with ${listKey}: ${listKey} names them`);
    if (key !== implied && !values.has(key)) report(key, `required: ${what}`);
  }
  if (listKey !== undefined && !values.has("on")) {
    report("on", `required with ${listKey}: the applications to check`);
  }
  if (listKey === undefined && values.has("on")) report("on", "only used with only_from or only_to");
  let family: Family | undefined;
  if (values.has("family")) {
    const f = String(values.get("family")).toLowerCase();
    if (f === "4" || f === "ipv4") family = 4;
    else if (f === "6" || f === "ipv6") family = 6;
    else report("family", `'${f}' is not ipv4 or ipv6`);
  }
  if (problems > 0 || name === undefined) return undefined;
  return {
    name,
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(permits ? { permits } : {}),
    ...(denies ? { denies } : {}),
    ...(only ? { only } : {}),
    ...(onlyFrom ? { onlyFrom } : {}),
    ...(onlyTo ? { onlyTo } : {}),
    ...(on ? { on } : {}),
    ...(family ? { family } : {}),
  };
}
