import type { Command } from "./command.js";

export const analysisCommands: Command[] = [];
