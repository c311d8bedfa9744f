// One subcommand of the `ringfence` binary. Each family of commands lives in its own module and
// exports a list of these; main.ts only dispatches.

export interface Command {
  /** The words that select it, e.g. "server" or "agents token". */
  readonly name: string;
  /** One line for `ringfence --help`. */
  readonly summary: string;
  /** Full help for `ringfence NAME --help`. */
  readonly usage: string;
  /** Exit code. Throwing a UsageError prints its message and the usage, exit 2. */
  run(args: string[]): Promise<number>;
}

export class UsageError extends Error {}

/** Runs node's parseArgs (or anything that parses), turning its errors into usage errors. */
export function parseOptions<R>(parse: () => R): R {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
