// Application sets (see lint-space) as people write them (`80`, `udp/53`) and read them.

import { IntervalSet } from "../net/interval-set.js";
import { protocolName } from "../net/protocol.js";
import { ALL_APPS, APP_BLOCK } from "./lint-space.js";
import { parseApplication } from "./policy-test-apps.js";

/** Ports that should never face the internet, with what usually listens there. */
export const SENSITIVE_PORTS: ReadonlyMap<number, string> = new Map([
  [20, "ftp-data"],
  [21, "ftp"],
  [22, "ssh"],
  [23, "telnet"],
  [25, "smtp"],
  [53, "dns"],
  [88, "kerberos"],
  [110, "pop3"],
  [135, "msrpc"],
  [137, "netbios-ns"],
  [138, "netbios-dgm"],
  [139, "netbios-ssn"],
  [143, "imap"],
  [389, "ldap"],
  [445, "smb"],
  [636, "ldaps"],
  [1433, "mssql"],
  [1434, "mssql-browser"],
  [1521, "oracle"],
  [2049, "nfs"],
  [3306, "mysql"],
  [3389, "rdp"],
  [5432, "postgresql"],
  [5601, "kibana"],
  [6379, "redis"],
  [8080, "http-alt"],
  [9042, "cassandra"],
  [9200, "elasticsearch"],
  [9300, "elasticsearch-transport"],
  [11211, "memcached"],
  [27017, "mongodb"],
]);

export class AppListError extends Error {}

/**
 * Parses a comma-separated application list: a bare port or range (`80`, `8000-8100`) means tcp
 * and udp; anything else is the query PROTO/PORT syntax (`udp/53`, `tcp/8000-8100`, `icmp/8`, `47`).
 */
export function parseAppList(text: string): IntervalSet {
  let out = IntervalSet.EMPTY;
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const forms = /^\d[\d-]*$/.test(item) ? [`tcp/${item}`, `udp/${item}`] : [item];
    try {
      for (const form of forms) out = out.union(parseApplication(form));
    } catch (error) {
      throw new AppListError(error instanceof Error ? error.message : String(error));
    }
  }
  return out;
}

/** Human text of an application set, one item per protocol block: `tcp/22`, `udp/0-65535`, `icmp 8/0`. */
export function formatApps(apps: IntervalSet): string[] {
  if (apps.covers(ALL_APPS)) return ["all traffic"];
  const out: string[] = [];
  for (const interval of apps.intervals) {
    let lo = interval.lo;
    while (lo <= interval.hi) {
      const proto = Number(lo / APP_BLOCK);
      const blockEnd = BigInt(proto + 1) * APP_BLOCK - 1n;
      const hi = interval.hi < blockEnd ? interval.hi : blockEnd;
      out.push(formatBlockPart(proto, Number(lo % APP_BLOCK), Number(hi % APP_BLOCK)));
      lo = hi + 1n;
    }
  }
  return out;
}

function formatBlockPart(proto: number, from: number, to: number): string {
  const name = protocolName(proto);
  if (proto === 6 || proto === 17) return from === to ? `${name}/${from}` : `${name}/${from}-${to}`;
  if (from === 0 && to === 65535) return name;
  if (proto === 1 || proto === 58) {
    const typeCode = (k: number) => `${k >> 8}/${k & 255}`;
    if (from === to) return `${name} ${typeCode(from)}`;
    // every code of one type reads as the type alone
    if ((from & 255) === 0 && to === from + 255) return `${name} ${from >> 8}`;
    return `${name} ${typeCode(from)}..${typeCode(to)}`;
  }
  return name;
}
