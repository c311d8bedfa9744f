// The order of ids and names in compiled tables and host policies: by UTF-16 code unit, the same on
// every machine (localeCompare is not). A module of its own so that the agent, which compiles
// tables, does not load the policy index with the host-policy module.

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
