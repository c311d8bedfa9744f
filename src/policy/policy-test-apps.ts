// Applications as policy tests write them, in the query PROTO/PORT syntax (selectors.ts:
// `tcp/3306`, `udp/1000-2000`, `icmp/8`, `icmp/8:0`, `47`, `all`), as sets of application keys
// (see lint-space) so that one piece of a range can fail on its own and `only` can take the rest.

import type { Family } from "../net/address.js";
import { IntervalSet } from "../net/interval-set.js";
import { PROTOCOL_NUMBERS } from "../net/protocol.js";
import { ALL_APPS, icmpApps, portApps, protocolApps } from "./lint-space.js";
import type { Traffic } from "./policy-index.js";
import { parseTrafficList } from "./selectors.js";

export function trafficApps(t: Traffic): IntervalSet {
  if (t.protocol < 0) return ALL_APPS;
  if (t.protocol === 6 || t.protocol === 17) {
    return t.port === undefined ? protocolApps(t.protocol) : portApps(t.protocol, t.port, t.port);
  }
  if (t.protocol === 1 || t.protocol === 58) return icmpApps(t.protocol, t.icmpType ?? -1, t.icmpCode ?? -1);
  return protocolApps(t.protocol);
}

/**
 * The applications of `text` that exist in a family's flows. Throws TrafficSyntaxError. A test
 * covers both families at once, so `icmp/8` is ICMP's echo and nothing in IPv6, never ICMPv6's type
 * 8 (a query, asked in one family, reads `icmp` as that family's ICMP).
 */
export function parseApplication(text: string, family: Family = 4): IntervalSet {
  const foreign = family === 4 ? PROTOCOL_NUMBERS.icmpv6 : PROTOCOL_NUMBERS.icmp;
  return IntervalSet.of(
    parseTrafficList(text, 4, 65536)
      .filter((t) => t.protocol !== foreign)
      .flatMap((t) => trafficApps(t).intervals),
  );
}
