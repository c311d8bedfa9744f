import type { Command } from "./command.js";

export const controlCommands: Command[] = [];
