// IP protocol numbers and the way EC2 names them.

export const PROTOCOL_NUMBERS = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58 } as const;
export type NamedProtocol = keyof typeof PROTOCOL_NUMBERS;

const NAMES_BY_NUMBER = new Map<number, NamedProtocol>(
  Object.entries(PROTOCOL_NUMBERS).map(([name, n]) => [n, name as NamedProtocol]),
);
// A map, not the object: a word like `constructor` must not find what every object inherits.
const NUMBERS_BY_NAME = new Map<string, number>(Object.entries(PROTOCOL_NUMBERS));

/** -1 means every protocol. */
export const ALL_PROTOCOLS = -1;

/**
 * The protocol of a security-group rule as EC2 stores it: `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or
 * another number 0-255 as text. Numbers of the four named protocols become names; names are
 * accepted in any case. Returns undefined for anything else (including the word `all`).
 */
export function normaliseRuleProtocol(text: string): string | undefined {
  const lower = text.trim().toLowerCase();
  if (NUMBERS_BY_NAME.has(lower)) return lower;
  if (!/^-?\d{1,3}$/.test(lower)) return undefined;
  const n = Number(lower);
  if (n === ALL_PROTOCOLS) return "-1";
  if (n < 0 || n > 255) return undefined;
  return NAMES_BY_NUMBER.get(n) ?? String(n);
}

/**
 * The protocol number of a stored rule protocol (-1 for all); NaN for text that is not one, which
 * every reader of rules takes to match nothing, never everything.
 */
export function protocolNumber(protocol: string): number {
  const named = NUMBERS_BY_NAME.get(protocol);
  if (named !== undefined) return named;
  if (!/^-?\d{1,3}$/.test(protocol)) return Number.NaN;
  const n = Number(protocol);
  return n >= ALL_PROTOCOLS && n <= 255 ? n : Number.NaN;
}

/** Whether the protocol's rules carry ports (tcp, udp) or ICMP type/code (icmp, icmpv6). */
export function protocolHasPorts(protocol: string): boolean {
  const n = protocolNumber(protocol);
  return n === 6 || n === 17 || n === 1 || n === 58;
}

export function protocolName(n: number): string {
  if (n === ALL_PROTOCOLS) return "all";
  return NAMES_BY_NUMBER.get(n) ?? String(n);
}
