// Policy tests: unit tests for a firewall, after Mozilla's fwunit. A test names sources and
// destinations with selectors and states what must hold between them; every application is
// checked on its own and for every source/destination pair, so a rule that lets some pairs
// through and not others shows up as PARTIAL with the pairs that fail, and a selector that
// matches nothing is an ERROR rather than a silent pass. The same checks drive `ringfence test`
// (YAML files, see docs/policy-tests.md) and TypeScript tests:
//
//   import { expectPermits, expectDenies } from "ringfence/dist/src/policy/policy-test.js";
//   expectPermits(estate, "group:appserver", "group:dbserver", ["tcp/3306"]);   // throws PolicyTestFailure
//   expectDenies(estate, "internet", "group:dbserver", ["all"]);

import type { Estate } from "../model/estate.js";
import { type Family, formatIp, parseIp } from "../net/address.js";
import { IntervalSet } from "../net/interval-set.js";
import { renderVerdict } from "./evaluate.js";
import { formatApps } from "./lint-apps.js";
import { ALL_APPS } from "./lint-space.js";
import { PolicyIndex } from "./policy-index.js";
import { parseApplication } from "./policy-test-apps.js";
import {
  decidePair,
  endpointLabel,
  explainPair,
  FAMILY_SPACE,
  type FlowPair,
  flowPairs,
  type PairDecision,
  sharedDecisionKey,
  type TestEndpoint,
} from "./policy-test-flows.js";
import { resolveSelector } from "./policy-test-selectors.js";

export const OUTCOMES = ["PASS", "PARTIAL", "FAIL", "ERROR"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One test as written in a file (see docs/policy-tests.md for every key). */
export interface PolicyTest {
  readonly name: string;
  /** Source selectors; required except with `onlyFrom`. */
  readonly from?: readonly string[];
  /** Destination selectors; required except with `onlyTo`. */
  readonly to?: readonly string[];
  readonly permits?: readonly string[];
  readonly denies?: readonly string[];
  /** These applications are permitted and everything else between from and to is denied. */
  readonly only?: readonly string[];
  /** These sources are permitted `on` the applications and every other source is denied. */
  readonly onlyFrom?: readonly string[];
  /** These destinations are reached `on` the applications and every other destination is not. */
  readonly onlyTo?: readonly string[];
  readonly on?: readonly string[];
  /** Check only this IP family (default: every family both ends have). */
  readonly family?: Family;
  /** Where the test was written, for messages. */
  readonly file?: string;
}

export interface PairFailure {
  readonly source: string;
  readonly destination: string;
  readonly family: Family;
  /** The applications that went the wrong way for this pair. */
  readonly applications: readonly string[];
  /**
   * The evaluator's explanation of one of those flows; only the first EXPLAINED_FAILURES failures
   * of an expectation carry one (explaining thousands of pairs would cost more than checking them).
   */
  readonly explanation?: string;
}

/** One checked statement: one application of one test (a JUnit testcase). */
export interface ExpectationResult {
  readonly test: string;
  readonly file?: string;
  /** `permits tcp/3306`, `denies all`, `denies everything else`, `denies tcp/22 from everyone else`. */
  readonly expectation: string;
  readonly outcome: Outcome;
  readonly message: string;
  readonly checkedPairs: number;
  readonly failures: readonly PairFailure[];
}

export interface PolicyTestResult {
  readonly name: string;
  readonly file?: string;
  readonly outcome: Outcome;
  readonly expectations: readonly ExpectationResult[];
}

export interface PolicyTestReport {
  readonly results: readonly PolicyTestResult[];
  readonly counts: Readonly<Record<Outcome, number>>;
  readonly passed: boolean;
}

/** Selector text to endpoints; throws (or returns none) when the selector is unknown. */
export type SelectorResolver = (index: PolicyIndex, selector: string) => readonly TestEndpoint[];

export interface PolicyTestOptions {
  readonly resolve?: SelectorResolver;
}

export const EXPLAINED_FAILURES = 10;

export class PolicyTestFailure extends Error {
  constructor(readonly result: PolicyTestResult) {
    super(formatFailure(result));
    this.name = "PolicyTestFailure";
  }
}

const indexes = new WeakMap<Estate, PolicyIndex>();

function indexOf(target: Estate | PolicyIndex): PolicyIndex {
  if (target instanceof PolicyIndex) return target;
  let index = indexes.get(target);
  if (!index) {
    index = PolicyIndex.build(target);
    indexes.set(target, index);
  }
  return index;
}

function worst(outcomes: readonly Outcome[]): Outcome {
  let rank = 0;
  for (const o of outcomes) rank = Math.max(rank, OUTCOMES.indexOf(o));
  return OUTCOMES[rank] as Outcome;
}

interface Context {
  readonly index: PolicyIndex;
  readonly resolve: SelectorResolver;
  readonly test: PolicyTest;
}

function endpointsOf(ctx: Context, selectors: readonly string[]): TestEndpoint[] {
  const out: TestEndpoint[] = [];
  const seen = new Set<string>();
  for (const selector of selectors) {
    let found: readonly TestEndpoint[];
    try {
      found = ctx.resolve(ctx.index, selector);
    } catch (error) {
      throw new Error(`selector '${selector}': ${error instanceof Error ? error.message : String(error)}`);
    }
    if (found.length === 0) throw new Error(`selector '${selector}' matches nothing in the estate`);
    for (const e of found) {
      // `internet` is a space of each family under one label
      const key = `${e.kind}:${e.kind === "space" ? e.family : ""}:${endpointLabel(e)}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(e);
      }
    }
  }
  return out;
}

function result(
  ctx: Context,
  expectation: string,
  outcome: Outcome,
  message: string,
  checkedPairs = 0,
  failures: readonly PairFailure[] = [],
): ExpectationResult {
  return {
    test: ctx.test.name,
    ...(ctx.test.file !== undefined ? { file: ctx.test.file } : {}),
    expectation,
    outcome,
    message,
    checkedPairs,
    failures,
  };
}

/** Checks that every pair has every application of `apps` allowed (or none of it). */
function checkPairs(
  ctx: Context,
  expectation: string,
  formed: readonly FlowPair[],
  apps: AppsOf,
  want: "allowed" | "denied",
): ExpectationResult {
  if (formed.length === 0) {
    return result(
      ctx,
      expectation,
      "ERROR",
      "no source/destination pair to check (no common IP family, or only an interface with itself)",
    );
  }
  // icmp flows only in IPv4 and icmpv6 only in IPv6: a pair of the other family has nothing to check
  const pairs = formed.filter((pair) => !apps(pair.family).isEmpty);
  if (pairs.length === 0) {
    return result(
      ctx,
      expectation,
      "ERROR",
      `no source/destination pair of a family these applications exist in (icmp is IPv4's, icmpv6 IPv6's; the pairs are IPv${[...new Set(formed.map((p) => p.family))].join(" and IPv")})`,
    );
  }

  const failures: PairFailure[] = [];
  const caches = { 4: new Map(), 6: new Map() };
  const decisions = new Map<string, PairDecision>();
  for (const pair of pairs) {
    const key = sharedDecisionKey(ctx.index, pair);
    let decision = key === undefined ? undefined : decisions.get(key);
    if (!decision) {
      decision = decidePair(ctx.index, pair, apps(pair.family), caches[pair.family]);
      if (key !== undefined) decisions.set(key, decision);
    }
    const wrong = want === "allowed" ? decision.denied : decision.allowed;
    const sample = want === "allowed" ? decision.firstDenied : decision.firstAllowed;
    if (wrong.isEmpty || !sample) continue;
    failures.push({
      source: endpointLabel(pair.source),
      destination: endpointLabel(pair.destination),
      family: pair.family,
      applications: formatApps(wrong),
      ...(failures.length < EXPLAINED_FAILURES
        ? { explanation: renderVerdict(explainPair(ctx.index, pair, sample)) }
        : {}),
    });
  }
  const wrongWord = want === "allowed" ? "denied" : "allowed";
  if (failures.length === 0)
    return result(ctx, expectation, "PASS", `${pairs.length} pair(s) checked`, pairs.length);
  const outcome: Outcome = failures.length === pairs.length ? "FAIL" : "PARTIAL";
  const listed = failures
    .slice(0, 5)
    .map((f) => `${f.source} -> ${f.destination} (IPv${f.family}): ${f.applications.slice(0, 4).join(", ")}`);
  const more = failures.length > 5 ? `; and ${failures.length - 5} more` : "";
  const message =
    outcome === "FAIL"
      ? `${wrongWord} for all ${pairs.length} pair(s): ${listed.join("; ")}${more}`
      : `${wrongWord} for ${failures.length} of ${pairs.length} pair(s): ${listed.join("; ")}${more}`;
  return result(ctx, expectation, outcome, message, pairs.length, failures);
}

/**
 * Endpoints other than the listed ones: every other interface, and every address outside all
 * interfaces and outside the listed addresses (expanded per pair into representatives).
 */
function everyoneElse(ctx: Context, listed: readonly TestEndpoint[]): TestEndpoint[] {
  // an interface listed as a whole is no one else; one listed by an address still is at its others
  const whole = new Set<string>();
  const pinned = new Map<string, Set<string>>();
  for (const e of listed) {
    if (e.kind !== "interface") continue;
    if (e.address === undefined) whole.add(e.interfaceId);
    else pinned.set(e.interfaceId, (pinned.get(e.interfaceId) ?? new Set()).add(e.address));
  }
  const others: TestEndpoint[] = [];
  const outside: Record<Family, IntervalSet> = { 4: FAMILY_SPACE[4], 6: FAMILY_SPACE[6] };
  const remove = (family: Family, set: IntervalSet) => {
    outside[family] = outside[family].subtract(set);
  };
  for (const e of listed) {
    if (e.kind === "space") remove(e.family, e.space);
    if (e.kind === "address") {
      const a = parseIp(e.address);
      if (a) remove(a.family, IntervalSet.range(a.value, a.value));
    }
  }
  for (const iface of ctx.index.interfaces.values()) {
    for (const a of iface.addresses) remove(a.family, IntervalSet.range(a.value, a.value));
    const id = iface.eni.id;
    if (whole.has(id)) continue;
    const taken = pinned.get(id);
    if (!taken) {
      others.push({ kind: "interface", interfaceId: id });
      continue;
    }
    for (const a of iface.addresses) {
      const address = formatIp(a);
      if (!taken.has(address)) others.push({ kind: "interface", interfaceId: id, address });
    }
  }
  for (const family of [4, 6] as const) {
    if (!outside[family].isEmpty) {
      others.push({ kind: "space", label: "outside", family, space: outside[family] });
    }
  }
  return others;
}

/** Applications per IP family: `icmp` exists in IPv4 flows only, `icmpv6` in IPv6 ones. */
type AppsOf = (family: Family) => IntervalSet;

function appList(key: string, texts: readonly string[]): { text: string; apps: AppsOf }[] {
  return texts.map((text) => {
    try {
      const byFamily = { 4: parseApplication(text, 4), 6: parseApplication(text, 6) };
      return { text, apps: (f: Family) => byFamily[f] };
    } catch (error) {
      throw new Error(`${key}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

function families(test: PolicyTest): readonly Family[] | undefined {
  return test.family === undefined ? undefined : [test.family];
}

/** Runs one test against an estate (or a prebuilt index). Never throws for a bad test: ERROR. */
export function checkPolicyTest(
  target: Estate | PolicyIndex,
  test: PolicyTest,
  options: PolicyTestOptions = {},
): PolicyTestResult {
  const ctx: Context = {
    index: indexOf(target),
    resolve: options.resolve ?? resolveSelector,
    test,
  };
  const expectations: ExpectationResult[] = [];
  try {
    if (test.onlyTo !== undefined) {
      const sources = endpointsOf(ctx, test.from ?? []);
      const listed = endpointsOf(ctx, test.onlyTo);
      const others = everyoneElse(ctx, listed);
      for (const { text, apps } of appList("on", test.on ?? [])) {
        expectations.push(
          checkPairs(
            ctx,
            `permits ${text} to ${test.onlyTo.join(", ")}`,
            flowPairs(ctx.index, sources, listed, families(test)),
            apps,
            "allowed",
          ),
        );
        const pairs = flowPairs(ctx.index, sources, others, families(test));
        expectations.push(checkPairs(ctx, `denies ${text} to everyone else`, pairs, apps, "denied"));
      }
    } else if (test.onlyFrom !== undefined) {
      const destinations = endpointsOf(ctx, test.to ?? []);
      const listed = endpointsOf(ctx, test.onlyFrom);
      const others = everyoneElse(ctx, listed);
      for (const { text, apps } of appList("on", test.on ?? [])) {
        expectations.push(
          checkPairs(
            ctx,
            `permits ${text} from ${test.onlyFrom.join(", ")}`,
            flowPairs(ctx.index, listed, destinations, families(test)),
            apps,
            "allowed",
          ),
        );
        const pairs = flowPairs(ctx.index, others, destinations, families(test));
        expectations.push(checkPairs(ctx, `denies ${text} from everyone else`, pairs, apps, "denied"));
      }
    } else {
      const sources = endpointsOf(ctx, test.from ?? []);
      const destinations = endpointsOf(ctx, test.to ?? []);
      const pairs = flowPairs(ctx.index, sources, destinations, families(test));
      for (const { text, apps } of appList("permits", test.permits ?? [])) {
        expectations.push(checkPairs(ctx, `permits ${text}`, pairs, apps, "allowed"));
      }
      for (const { text, apps } of appList("denies", test.denies ?? [])) {
        expectations.push(checkPairs(ctx, `denies ${text}`, pairs, apps, "denied"));
      }
      if (test.only !== undefined) {
        const listed = appList("only", test.only);
        for (const { text, apps } of listed) {
          expectations.push(checkPairs(ctx, `permits ${text}`, pairs, apps, "allowed"));
        }
        const rest = (f: Family) => listed.reduce((set, { apps }) => set.subtract(apps(f)), ALL_APPS);
        if (!rest(4).isEmpty || !rest(6).isEmpty) {
          expectations.push(checkPairs(ctx, "denies everything else", pairs, rest, "denied"));
        }
      }
    }
    if (expectations.length === 0)
      expectations.push(result(ctx, "(nothing)", "ERROR", "the test states no expectation"));
  } catch (error) {
    expectations.push(
      result(ctx, "(setup)", "ERROR", error instanceof Error ? error.message : String(error)),
    );
  }
  return {
    name: test.name,
    ...(test.file !== undefined ? { file: test.file } : {}),
    outcome: worst(expectations.map((e) => e.outcome)),
    expectations,
  };
}

export function runPolicyTests(
  target: Estate | PolicyIndex,
  tests: readonly PolicyTest[],
  options: PolicyTestOptions = {},
): PolicyTestReport {
  const index = indexOf(target);
  const results = tests.map((t) => checkPolicyTest(index, t, options));
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const r of results) counts[r.outcome]++;
  return { results, counts, passed: results.every((r) => r.outcome === "PASS") };
}

function asList(x: string | readonly string[]): readonly string[] {
  return typeof x === "string" ? [x] : x;
}

function expectPass(
  target: Estate | PolicyIndex,
  test: PolicyTest,
  options?: PolicyTestOptions,
): PolicyTestResult {
  const r = checkPolicyTest(target, test, options);
  if (r.outcome !== "PASS") throw new PolicyTestFailure(r);
  return r;
}

/** A check between sources and destinations on applications, of one kind. */
function expectBetween(kind: "permits" | "denies" | "only") {
  return (
    target: Estate | PolicyIndex,
    from: string | readonly string[],
    to: string | readonly string[],
    applications: string | readonly string[],
    options?: PolicyTestOptions,
  ): PolicyTestResult => {
    const [sources, destinations, apps] = [asList(from), asList(to), asList(applications)];
    const name = `${sources.join(", ")} -> ${destinations.join(", ")} ${kind} ${apps.join(", ")}`;
    const test: PolicyTest = { name, from: sources, to: destinations, [kind]: apps };
    return expectPass(target, test, options);
  };
}

/** Throws PolicyTestFailure unless every source reaches every destination on every application. */
export const expectPermits = expectBetween("permits");

/** Throws PolicyTestFailure if any source reaches any destination on any of the applications. */
export const expectDenies = expectBetween("denies");

/** The applications are permitted, and nothing else, between the sources and destinations. */
export const expectOnly = expectBetween("only");

/** The listed sources, and no other, reach the destinations on the applications. */
export function expectOnlyFrom(
  target: Estate | PolicyIndex,
  to: string | readonly string[],
  sources: string | readonly string[],
  applications: string | readonly string[],
  options?: PolicyTestOptions,
): PolicyTestResult {
  const name = `only ${asList(sources).join(", ")} -> ${asList(to).join(", ")} on ${asList(applications).join(", ")}`;
  return expectPass(
    target,
    { name, to: asList(to), onlyFrom: asList(sources), on: asList(applications) },
    options,
  );
}

/** The sources reach the listed destinations on the applications, and no other destination. */
export function expectOnlyTo(
  target: Estate | PolicyIndex,
  from: string | readonly string[],
  destinations: string | readonly string[],
  applications: string | readonly string[],
  options?: PolicyTestOptions,
): PolicyTestResult {
  const name = `${asList(from).join(", ")} -> only ${asList(destinations).join(", ")} on ${asList(applications).join(", ")}`;
  return expectPass(
    target,
    { name, from: asList(from), onlyTo: asList(destinations), on: asList(applications) },
    options,
  );
}

function formatFailure(r: PolicyTestResult): string {
  const lines = [`policy test '${r.name}': ${r.outcome}`];
  for (const e of r.expectations) {
    if (e.outcome === "PASS") continue;
    lines.push(`  ${e.outcome} ${e.expectation}: ${e.message}`);
    const first = e.failures[0];
    if (first?.explanation) lines.push(...first.explanation.split("\n").map((l) => `    ${l}`));
  }
  return lines.join("\n");
}
