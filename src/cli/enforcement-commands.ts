import type { Command } from "./command.js";

export const enforcementCommands: Command[] = [];
