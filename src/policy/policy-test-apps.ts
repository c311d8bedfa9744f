// Applications as policy tests write them, in the query PROTO/PORT syntax (selectors.ts:
// `tcp/3306`, `udp/1000-2000`, `icmp/8`, `icmp/8:0`, `47`, `all`), as sets of application keys
// (see lint-space) so that one piece of a range can fail on its own and `only` can take the rest.

import type { Family } from "../net/address.js";
import { IntervalSet } from "../net/interval-set.js";
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

/** Throws TrafficSyntaxError. `icmp` means icmpv6 for IPv6 flows, as in the queries. */
export function parseApplication(text: string, family: Family = 4): IntervalSet {
  return IntervalSet.of(parseTrafficList(text, family, 65536).flatMap((t) => trafficApps(t).intervals));
}
