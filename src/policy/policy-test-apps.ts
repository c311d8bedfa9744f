// Applications as policy tests write them (`tcp/3306`, `udp/1000-2000`, `icmp/8:0`, `gre`, `all`),
// as sets of application keys (see lint-space) so that `only` can take the complement.

import type { IntervalSet } from "../net/interval-set.js";
import { normaliseRuleProtocol, protocolNumber } from "../net/protocol.js";
import { ALL_APPS, icmpApps, portApps, protocolApps } from "./lint-space.js";

export class ApplicationSyntaxError extends Error {}

const PROTOCOL_ALIASES: Readonly<Record<string, string>> = { gre: "47", esp: "50", ah: "51", sctp: "132" };

function bounded(text: string, max: number, what: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > max) {
    throw new ApplicationSyntaxError(`'${whole}': '${text}' is not ${what} (0-${max})`);
  }
  return Number(text);
}

export function parseApplication(text: string): IntervalSet {
  const whole = text.trim();
  if (whole.toLowerCase() === "all" || whole === "-1") return ALL_APPS;
  const slash = whole.indexOf("/");
  const protoText = (slash < 0 ? whole : whole.slice(0, slash)).toLowerCase();
  const rest = slash < 0 ? "" : whole.slice(slash + 1);
  const protocol = normaliseRuleProtocol(PROTOCOL_ALIASES[protoText] ?? protoText);
  if (protocol === undefined || protocol === "-1") {
    throw new ApplicationSyntaxError(
      `'${whole}': unknown protocol '${protoText}' (tcp, udp, icmp, icmpv6, gre, esp, ah, sctp, a number, all)`,
    );
  }
  const n = protocolNumber(protocol);
  if (n === 6 || n === 17) {
    const m = /^([^-]+)(?:-(.+))?$/.exec(rest);
    if (!m)
      throw new ApplicationSyntaxError(`'${whole}': ${protocol} needs a port or range, e.g. ${protocol}/443`);
    const from = bounded(m[1] as string, 65535, "a port", whole);
    const to = m[2] === undefined ? from : bounded(m[2], 65535, "a port", whole);
    if (from > to) throw new ApplicationSyntaxError(`'${whole}': range ${from}-${to} is empty`);
    return portApps(n, from, to);
  }
  if (n === 1 || n === 58) {
    if (rest === "") return protocolApps(n);
    const [typeText, codeText, extra] = rest.split(":");
    if (extra !== undefined) throw new ApplicationSyntaxError(`'${whole}': expected TYPE or TYPE:CODE`);
    const type = bounded(typeText ?? "", 255, "an ICMP type", whole);
    const code = codeText === undefined ? -1 : bounded(codeText, 255, "an ICMP code", whole);
    return icmpApps(n, type, code);
  }
  if (rest !== "") throw new ApplicationSyntaxError(`'${whole}': protocol ${protoText} has no ports`);
  return protocolApps(n);
}
