#!/usr/bin/env node
import { type Command, UsageError } from "./command.js";
import { FAMILIES } from "./families.js";

async function allCommands(): Promise<Command[]> {
  return (await Promise.all(FAMILIES.map((family) => family.load()))).flat();
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    "ringfence: EC2 security groups for any Linux fleet",
    "",
    "Usage: ringfence COMMAND [OPTIONS]",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `ringfence COMMAND --help` for the options of one command.",
  ].join("\n");
}

/** The longest command name that prefixes argv ("agents token" before "agents"). */
async function select(argv: string[]): Promise<{ command: Command; rest: string[] } | undefined> {
  const family = FAMILIES.find((f) => f.words.includes(argv[0] as string));
  if (!family) return undefined;
  let best: { command: Command; rest: string[] } | undefined;
  for (const command of await family.load()) {
    const words = command.name.split(" ");
    if (
      words.every((w, i) => argv[i] === w) &&
      (!best || words.length > best.command.name.split(" ").length)
    ) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    console.error(overview(await allCommands()));
    return 2;
  }
  if (argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    console.log(overview(await allCommands()));
    return 0;
  }
  const chosen = await select(argv);
  if (!chosen) {
    // `ringfence lab` or `ringfence lab --help`: the commands that start with that word
    const family = FAMILIES.find((f) => f.words.includes(argv[0] as string));
    const commands = family ? (await family.load()).filter((c) => c.name.split(" ")[0] === argv[0]) : [];
    if (commands.length > 0) {
      const asked = argv.length === 2 && (argv[1] === "--help" || argv[1] === "-h");
      if (asked) {
        console.log(overview(commands));
        return 0;
      }
      const named = argv.length > 1 ? `ringfence: unknown command '${argv.slice(0, 2).join(" ")}'\n\n` : "";
      console.error(`${named}${overview(commands)}`);
      return 2;
    }
    console.error(`ringfence: unknown command '${argv[0]}'\n\n${overview(await allCommands())}`);
    return 2;
  }
  // what follows `--` is a command's own (`lab exec ID -- ls --help`)
  const own = chosen.rest.includes("--") ? chosen.rest.slice(0, chosen.rest.indexOf("--")) : chosen.rest;
  if (own.includes("--help") || own.includes("-h")) {
    console.log(chosen.command.usage);
    return 0;
  }
  try {
    return await chosen.command.run(chosen.rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`ringfence ${chosen.command.name}: ${error.message}\n\n${chosen.command.usage}`);
      return 2;
    }
    throw error;
  }
}

// The AWS SDK's notice that its releases after January 2027 need Node 22 would open the output of
// every command that reads a server; ringfence runs on Node 20 with the SDK its lockfile pins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`ringfence: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  },
);
