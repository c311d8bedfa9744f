// Which module holds which commands, so that main.ts loads only the family of the chosen command.

import type { Command } from "./command.js";

/**
 * The command families, each with the first words of its commands. A family's module loads only
 * when one of its commands is chosen: `ringfence agent` on a host then carries neither the API
 * server, SQLite, the importers nor the analysis (measured: 57 -> 50 MB resident at start).
 */
export const FAMILIES: readonly { words: readonly string[]; load: () => Promise<Command[]> }[] = [
  {
    words: ["server", "keys", "agents"],
    load: async () => (await import("./control-commands.js")).controlCommands,
  },
  {
    words: ["can", "who-can-reach", "reachable-from", "exposure", "matrix", "diff", "snapshot"],
    load: async () => (await import("./analysis-commands.js")).analysisCommands,
  },
  { words: ["lint", "test"], load: async () => (await import("./audit-commands.js")).auditCommands },
  { words: ["agent"], load: async () => (await import("./enforcement-commands.js")).enforcementCommands },
  { words: ["lab"], load: async () => (await import("./lab-commands.js")).labCommands },
];
