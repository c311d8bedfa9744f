// NftTable -> `nft -f` text. Scripts are flat command lists (one statement a line), which nft runs
// as one transaction: either every line takes effect or none does.

import {
  type IpFamily,
  type NftAction,
  type NftAddressMap,
  type NftAddressSet,
  type NftChain,
  type NftCtTimeout,
  type NftMatch,
  type NftRule,
  type NftTable,
  nftComment,
  TABLE_FAMILY,
  TABLE_NAME,
} from "./nft-table.js";

export const TABLE = `${TABLE_FAMILY} ${TABLE_NAME}`;

const FAMILY_KEYWORD: Record<IpFamily, string> = { 4: "ip", 6: "ip6" };
const ADDRESS_TYPE: Record<IpFamily, string> = { 4: "ipv4_addr", 6: "ipv6_addr" };

function markText(bits: number): string {
  return `0x${bits.toString(16).padStart(8, "0")}`;
}

function portText(from: number, to: number): string {
  return from === to ? String(from) : `${from}-${to}`;
}

function renderMatch(match: NftMatch): string {
  switch (match.m) {
    case "iif-lo":
      return 'iif "lo"';
    case "oif-lo":
      return 'oif "lo"';
    case "ct":
      return `ct state ${match.states.join(",")}`;
    case "addr-set":
      return `${FAMILY_KEYWORD[match.family]} ${match.field} @${match.set}`;
    case "addr-list": {
      const list = match.addresses.length === 1 ? match.addresses[0] : `{ ${match.addresses.join(", ")} }`;
      return `${FAMILY_KEYWORD[match.family]} ${match.field} ${list}`;
    }
    case "l4proto": {
      const operator = match.negate ? "!= " : "";
      return match.protocols.length === 1
        ? `meta l4proto ${operator}${match.protocols[0]}`
        : `meta l4proto ${operator}{ ${match.protocols.join(", ")} }`;
    }
    case "nfproto":
      return `meta nfproto ${match.family === 4 ? "ipv4" : "ipv6"}`;
    case "ct-mark":
      return `ct mark & ${markText(match.mask)} ${match.any ? "!=" : "=="} 0`;
    case "tcp-not-syn":
      return "tcp flags & (fin | syn | rst | ack) != syn";
    case "port":
      return `${match.protocol} ${match.field} ${portText(match.from, match.to)}`;
    case "icmp": {
      const word = match.v6 ? "icmpv6" : "icmp";
      const parts: string[] = [];
      if (match.type !== undefined) parts.push(`${word} type ${match.type}`);
      if (match.code !== undefined) parts.push(`${word} code ${match.code}`);
      return parts.join(" ");
    }
    case "icmpv6-types":
      return `icmpv6 type { ${match.types.join(", ")} }`;
  }
}

function renderAction(action: NftAction): string {
  switch (action.a) {
    case "accept":
    case "drop":
      return action.a;
    case "ct-mark-or":
      return `ct mark set ct mark | ${markText(action.bits)}`;
    case "ct-timeout":
      return `ct timeout set "${action.timeout}"`;
    case "continue":
      return "";
    case "jump":
      return `jump ${action.chain}`;
    case "addr-vmap":
      return `${FAMILY_KEYWORD[action.family]} ${action.field} vmap @${action.map}`;
    case "l4proto-vmap":
      return `meta l4proto vmap { ${action.entries.map((e) => `${e.protocol} : jump ${e.chain}`).join(", ")} }`;
    case "port-vmap":
      return `${action.protocol} dport vmap { ${action.entries.map((e) => `${portText(e.from, e.to)} : jump ${e.chain}`).join(", ")} }`;
  }
}

const rendered = new WeakMap<NftRule, string>();

/**
 * The text of a rule, remembered per rule object: the agent's deltas compare the previous table's
 * rules again and again. (Full scripts use renderRule, which remembers nothing: a fleet compile
 * would fill the weak map with rules nobody asks for twice.)
 */
export function renderRuleOnce(rule: NftRule): string {
  let text = rendered.get(rule);
  if (text === undefined) {
    text = renderRule(rule);
    rendered.set(rule, text);
  }
  return text;
}

/** The text of a rule after `add rule inet ringfence CHAIN`. */
export function renderRule(rule: NftRule): string {
  let text = "";
  for (const match of rule.match) text = text === "" ? renderMatch(match) : `${text} ${renderMatch(match)}`;
  if (rule.counter) text = text === "" ? "counter" : `${text} counter`;
  const action = renderAction(rule.action);
  if (action) text = text === "" ? action : `${text} ${action}`;
  if (rule.comment) {
    const comment = `comment "${nftComment(rule.comment)}"`;
    text = text === "" ? comment : `${text} ${comment}`;
  }
  return text;
}

export function addCtTimeoutStatement(timeout: NftCtTimeout): string {
  const policy = timeout.policy.map(([state, seconds]) => `${state}: ${seconds}`).join(", ");
  return `add ct timeout ${TABLE} ${timeout.name} { protocol ${timeout.protocol}; l3proto ${FAMILY_KEYWORD[timeout.family]}; policy = { ${policy} }; }`;
}

export function addSetStatement(set: NftAddressSet): string {
  return `add set ${TABLE} ${set.name} { type ${ADDRESS_TYPE[set.family]}; flags interval; }`;
}

export function addMapStatement(map: NftAddressMap): string {
  return `add map ${TABLE} ${map.name} { type ${ADDRESS_TYPE[map.family]} : verdict; }`;
}

export function addChainStatement(chain: NftChain): string {
  const hook = chain.hook;
  if (!hook) return `add chain ${TABLE} ${chain.name}`;
  return `add chain ${TABLE} ${chain.name} { type filter hook ${hook.hook} priority ${hook.priority}; policy ${hook.policy}; }`;
}

/** Elements per statement, so that no line grows without bound. */
const ELEMENTS_PER_STATEMENT = 500;

/** Element statements, in batches so that no line grows without bound. */
export function elementStatements(
  verb: "add" | "delete",
  setName: string,
  elements: readonly string[],
): string[] {
  const lines: string[] = [];
  for (let i = 0; i < elements.length; i += ELEMENTS_PER_STATEMENT) {
    // one statement holds most sets whole: no copy of their elements then
    const batch =
      elements.length <= ELEMENTS_PER_STATEMENT ? elements : elements.slice(i, i + ELEMENTS_PER_STATEMENT);
    lines.push(`${verb} element ${TABLE} ${setName} { ${batch.join(", ")} }`);
  }
  return lines;
}

export function mapElement(entry: { address: string; chain: string }): string {
  return `${entry.address} : jump ${entry.chain}`;
}

export function ruleStatements(chain: NftChain): string[] {
  const prefix = `add rule ${TABLE} ${chain.name} `;
  return chain.rules.map((rule) => prefix + renderRule(rule));
}

/**
 * Replaces whatever `inet ringfence` holds (or creates it) in one transaction: the `add table`
 * makes the `delete table` valid on a host that has none, and no packet ever sees the host
 * without the table. Sets, timeouts and chains come before the rules and map elements that refer
 * to them. The text grows by concatenation, which V8 keeps as a rope until it is read: no array
 * of lines, no copy per line.
 */
export function fullScript(table: NftTable): string {
  let text = `add table ${TABLE}\ndelete table ${TABLE}\nadd table ${TABLE}\n`;
  const add = (lines: readonly string[]) => {
    for (const line of lines) text += `${line}\n`;
  };
  for (const timeout of table.timeouts ?? []) text += `${addCtTimeoutStatement(timeout)}\n`;
  for (const set of table.sets) {
    text += `${addSetStatement(set)}\n`;
    add(elementStatements("add", set.name, set.elements));
  }
  for (const map of table.maps) text += `${addMapStatement(map)}\n`;
  for (const chain of table.chains) text += `${addChainStatement(chain)}\n`;
  for (const map of table.maps) add(elementStatements("add", map.name, map.entries.map(mapElement)));
  for (const chain of table.chains) add(ruleStatements(chain));
  return text;
}
