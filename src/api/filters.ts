// Describe filters (`Filter.N.Name` / `Filter.N.Value.M`): filters AND, values OR, `*` and `?`
// wildcards with backslash escapes, and the tag filters every taggable resource has.

import { Ec2Error, invalidCombination, invalidValue } from "../model/errors.js";
import { ID_KINDS, type IdKindName, isIdOf } from "../model/ids.js";
import type { Tags } from "../model/resources.js";
import type { ActionContext } from "./context.js";

/** The values a resource has for one filter name; a filter matches when any value matches. */
export type FilterFields<R> = Record<
  string,
  (resource: R) => Iterable<string | number | boolean | undefined>
>;

/**
 * Filters the model documents for values ringfence's responses never carry (outposts,
 * customer-owned pools, operators, ...): accepted, as EC2 accepts them, and matching nothing.
 */
export function withoutValue<R>(...names: string[]): FilterFields<R> {
  return Object.fromEntries(names.map((name) => [name, () => []]));
}

/** A shown text value; EC2 shows an absent one as "" (a public DNS name), which no filter matches. */
export const shown = (value: string | undefined): string[] => (value ? [value] : []);

const ANY_RUN = -1;
const ANY_ONE = -2;

/**
 * A filter value with `*` (any run of characters), `?` (one character) and backslash escapes.
 * Matched by one walk that returns to the last `*` on a mismatch, so that the time is bounded by
 * the lengths of value and text: a regular expression backtracks exponentially on `*a*a*a*b`, and
 * one such filter would stop the server for every account.
 */
export class WildcardPattern {
  /** Code points, or ANY_RUN / ANY_ONE. */
  private readonly tokens: number[] = [];
  /** The text before the first wildcard and after the last: every match starts and ends so. */
  readonly prefix: string;
  readonly suffix: string;
  /** The text the pattern stands for when it has no wildcard (after its escapes). */
  readonly literal?: string;

  constructor(value: string) {
    const chars = Array.from(value);
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i] as string;
      if (c === "\\" && i + 1 < chars.length)
        this.tokens.push((chars[++i] as string).codePointAt(0) as number);
      else if (c === "*") {
        if (this.tokens.at(-1) !== ANY_RUN) this.tokens.push(ANY_RUN);
      } else if (c === "?") this.tokens.push(ANY_ONE);
      else this.tokens.push(c.codePointAt(0) as number);
    }
    const first = this.tokens.findIndex((t) => t < 0);
    // not fromCodePoint(...tokens): a value may be a megabyte long, beyond any argument list
    const text = (tokens: number[]) => tokens.map((t) => String.fromCodePoint(t)).join("");
    if (first < 0) {
      this.literal = text(this.tokens);
      this.prefix = this.literal;
      this.suffix = "";
      return;
    }
    let last = this.tokens.length - 1;
    while ((this.tokens[last] as number) >= 0) last--;
    this.prefix = text(this.tokens.slice(0, first));
    this.suffix = text(this.tokens.slice(last + 1));
  }

  test(text: string): boolean {
    return this.testPoints(Array.from(text, (c) => c.codePointAt(0) as number));
  }

  /** `test` of a text given as its code points. */
  testPoints(chars: readonly number[]): boolean {
    const tokens = this.tokens;
    let p = 0;
    let t = 0;
    let star = -1;
    let resume = 0;
    while (t < chars.length) {
      const token = tokens[p];
      if (token === ANY_ONE || (token !== undefined && token === chars[t])) {
        p++;
        t++;
      } else if (token === ANY_RUN) {
        star = p++;
        resume = t;
      } else if (star >= 0) {
        p = star + 1;
        t = ++resume;
      } else return false;
    }
    while (tokens[p] === ANY_RUN) p++;
    return p === tokens.length;
  }
}

/**
 * The values of one filter, as one test of a text. Values without a wildcard are one set lookup
 * together. Wildcard values are indexed by their literal prefix (or, without one, their suffix):
 * a text meets only the values whose prefix it starts with, found by one lookup per distinct
 * prefix length. Each distinct text is decided once per request. A thousand values against every
 * rule of an estate then cost about what a few do.
 */
export class FilterValues {
  private readonly literals = new Set<string>();
  private readonly byPrefix = new Map<number, Map<string, WildcardPattern[]>>();
  private readonly bySuffix = new Map<number, Map<string, WildcardPattern[]>>();
  /** Values that start and end with a wildcard: each is walked for every text. */
  private readonly open: WildcardPattern[] = [];
  private readonly decided = new Map<string, boolean>();

  constructor(values: readonly string[]) {
    const index = (
      by: Map<number, Map<string, WildcardPattern[]>>,
      key: string,
      pattern: WildcardPattern,
    ) => {
      let group = by.get(key.length);
      if (!group) {
        group = new Map();
        by.set(key.length, group);
      }
      const list = group.get(key);
      if (list) list.push(pattern);
      else group.set(key, [pattern]);
    };
    for (const value of values) {
      const pattern = wildcardPattern(value);
      if (pattern.literal !== undefined) this.literals.add(pattern.literal);
      else if (pattern.prefix !== "") index(this.byPrefix, pattern.prefix, pattern);
      else if (pattern.suffix !== "") index(this.bySuffix, pattern.suffix, pattern);
      else this.open.push(pattern);
    }
  }

  matches(text: string): boolean {
    if (this.literals.has(text)) return true;
    let answer = this.decided.get(text);
    if (answer === undefined) {
      answer = this.wildcardsMatch(text);
      this.decided.set(text, answer);
    }
    return answer;
  }

  private wildcardsMatch(text: string): boolean {
    let points: number[] | undefined;
    const walk = (patterns: readonly WildcardPattern[]) => {
      for (const pattern of patterns) {
        points ??= Array.from(text, (c) => c.codePointAt(0) as number);
        if (pattern.testPoints(points)) return true;
      }
      return false;
    };
    for (const [length, group] of this.byPrefix) {
      const patterns = length <= text.length ? group.get(text.slice(0, length)) : undefined;
      if (patterns && walk(patterns)) return true;
    }
    for (const [length, group] of this.bySuffix) {
      const patterns = length <= text.length ? group.get(text.slice(text.length - length)) : undefined;
      if (patterns && walk(patterns)) return true;
    }
    return walk(this.open);
  }
}

const patternCache = new Map<string, WildcardPattern>();

export function wildcardPattern(value: string): WildcardPattern {
  let pattern = patternCache.get(value);
  if (!pattern) {
    pattern = new WildcardPattern(value);
    // values as long as EC2's names and tags are remembered; a longer one (a body may carry a
    // megabyte of it) is not kept beyond its request
    if (value.length > 512) return pattern;
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(value, pattern);
  }
  return pattern;
}

interface ParsedFilter {
  name: string;
  values: FilterValues;
}

function tagMatcher(name: string, values: FilterValues): ((tags: Tags) => boolean) | undefined {
  const matches = (v: string) => values.matches(v);
  if (name.startsWith("tag:")) {
    const key = name.slice(4);
    return (tags) => Object.hasOwn(tags, key) && matches(tags[key] as string);
  }
  if (name === "tag-key") return (tags) => Object.keys(tags).some(matches);
  if (name === "tag-value") return (tags) => Object.values(tags).some(matches);
  return undefined;
}

/** Filters whose values are ids: a value that is no such id (and no pattern) is refused, as EC2 does. */
const ID_FILTERS = new Map<string, IdKindName>(
  Object.entries({
    "vpc-id": "vpc",
    "subnet-id": "subnet",
    "group-id": "group",
    "instance-id": "instance",
    "network-interface-id": "networkInterface",
    "allocation-id": "allocation",
    "prefix-list-id": "prefixList",
    "network-acl-id": "networkAcl",
    "security-group-rule-id": "rule",
  } satisfies Record<string, IdKindName>),
);

export function parseFilters(ctx: ActionContext): ParsedFilter[] {
  return ctx.params.list("Filters", "Filter").map((filter) => {
    const name = filter.requiredString("Name", `${filter.path}.Name`);
    const values = filter.strings("Values");
    if (values.length === 0) throw invalidValue(`The filter '${name}' needs at least one value`);
    const idKind = ID_FILTERS.get(name);
    for (const value of idKind ? values : []) {
      if (!/[*?]/.test(value) && !isIdOf(idKind as IdKindName, value)) {
        throw invalidValue(
          `The filter value '${value}' for filter '${name}' is not a valid ${ID_KINDS[idKind as IdKindName].prefix}- id`,
        );
      }
    }
    return { name, values: new FilterValues(values) };
  });
}

export function applyFilters<R extends { tags: Tags }>(
  ctx: ActionContext,
  resources: Iterable<R>,
  fields: FilterFields<R>,
): R[] {
  const filters = parseFilters(ctx);
  const tests = filters.map(({ name, values }) => {
    const tag = tagMatcher(name, values);
    if (tag) return (r: R) => tag(r.tags);
    // own fields only: `constructor` is no filter, although every object answers to it
    const field = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (!field) throw invalidValue(`The filter '${name}' is invalid`);
    return (r: R) => {
      for (const value of field(r)) {
        if (value !== undefined && values.matches(String(value))) return true;
      }
      return false;
    };
  });
  const out: R[] = [];
  for (const resource of resources) if (tests.every((test) => test(resource))) out.push(resource);
  return out;
}

/** The pagination key of a record: its id. */
export const byId = (record: { id: string }): string => record.id;

export interface PageBounds {
  min: number;
  max: number;
}

const INVALID_TOKEN = () =>
  new Ec2Error("InvalidPaginationToken", "The specified pagination token is not valid or is expired.");

/**
 * A NextToken is a continuation marker, not an offset: it names the action, the caller's account
 * and region, the key of the last item returned and the key of the item after it. The next page
 * starts after the last item, in the listing's creation order, so a deletion in between neither
 * skips nor repeats anything; if that item itself is gone (a caller deleting as it pages), it
 * starts at the item that followed it. A token of another action, account or region is refused.
 */
/**
 * Where a page ended: the keys of its last items (latest first) and of the items after it (in
 * order), as many as fit, so that the next page starts at the first survivor when the items at
 * the boundary are deleted in between (a group's rules go together when the group does).
 */
interface Marker {
  action: string;
  account: string;
  region: string;
  behind: string[];
  ahead: string[];
}

/** The raw size a token may reach: its base64 stays under the model's 1,024 characters. */
const MARKER_BYTES = 700;
const WINDOW = { behind: 4, ahead: 8 };

function encodeMarker(marker: Marker): string {
  const fields = ["rf3", marker.action, marker.account, marker.region];
  const behind: string[] = [];
  const ahead: string[] = [];
  let size = Buffer.byteLength(JSON.stringify([...fields, [], []]));
  // the boundary's own two first, then outwards while they fit
  for (let k = 0; k < Math.max(WINDOW.behind, WINDOW.ahead); k++) {
    for (const [from, to] of [
      [marker.behind, behind],
      [marker.ahead, ahead],
    ] as const) {
      const key = from[k];
      if (key === undefined) continue;
      const cost = Buffer.byteLength(JSON.stringify(key)) + 1;
      if (size + cost > MARKER_BYTES && to.length > 0) continue;
      size += cost;
      to.push(key);
    }
  }
  return Buffer.from(JSON.stringify([...fields, behind, ahead]), "utf8").toString("base64url");
}

function decodeMarker(ctx: ActionContext, token: string): Marker {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw INVALID_TOKEN();
  }
  if (!Array.isArray(fields) || fields.length !== 6 || fields[0] !== "rf3") throw INVALID_TOKEN();
  const [, action, account, region, behind, ahead] = fields as unknown[];
  const keys = (v: unknown): v is string[] =>
    Array.isArray(v) && v.length <= 16 && v.every((k) => typeof k === "string");
  if (action !== ctx.action || account !== ctx.account || region !== ctx.region) throw INVALID_TOKEN();
  if (!keys(behind) || !keys(ahead) || behind.length + ahead.length === 0) throw INVALID_TOKEN();
  return { action, account, region, behind, ahead };
}

/**
 * MaxResults/NextToken over items in creation order, each named by `key` (an id, or what
 * identifies a row); without MaxResults everything from the token on.
 */
export function paginate<T>(
  ctx: ActionContext,
  items: T[],
  bounds: PageBounds,
  key: (item: T) => string,
): { page: T[]; nextToken?: string } {
  const maxResults = ctx.params.int("MaxResults");
  const token = ctx.params.string("NextToken");
  if (maxResults !== undefined && (maxResults < bounds.min || maxResults > bounds.max)) {
    // below the minimum as EC2 words it (spec 1.8); EC2's words for above the maximum are not recorded
    throw invalidValue(
      maxResults < bounds.min
        ? `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value greater than ${bounds.min}.`
        : `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value less than or equal to ${bounds.max}.`,
    );
  }
  let start = 0;
  if (token !== undefined) {
    const marker = decodeMarker(ctx, token);
    const at = new Map(items.map((item, k) => [key(item), k]));
    const firstLeft = (keys: readonly string[]) => keys.map((k) => at.get(k)).find((k) => k !== undefined);
    // after the page's last item; else at the first item after it that is left; else after the
    // latest item of the page that is left
    const last = at.get(marker.behind[0] ?? "");
    const next = firstLeft(marker.ahead);
    const earlier = firstLeft(marker.behind.slice(1));
    if (last !== undefined) start = last + 1;
    else if (next !== undefined) start = next;
    else if (earlier !== undefined) start = earlier + 1;
    else throw INVALID_TOKEN();
  }
  if (maxResults === undefined) return { page: items.slice(start) };
  const end = start + maxResults;
  const page = items.slice(start, end);
  if (end >= items.length) return { page };
  const nextToken = encodeMarker({
    action: ctx.action,
    account: ctx.account,
    region: ctx.region,
    behind: page
      .slice(-WINDOW.behind)
      .reverse()
      .map((item) => key(item)),
    ahead: items.slice(end, end + WINDOW.ahead).map((item) => key(item)),
  });
  return { page, nextToken };
}

export function rejectIdsWithMaxResults(ctx: ActionContext, ids: string[], listName: string): void {
  if (ids.length > 0 && ctx.params.has("MaxResults")) {
    throw invalidCombination(`The parameter ${listName} cannot be used with the parameter maxResults`);
  }
}
