// `npm run bench -- NAME [--json] [options]`: each benchmark is bench/NAME.ts exporting `run`.
// A benchmark prints a readable table; with --json its last line is one JSON object.

export interface BenchOptions {
  json: boolean;
  /** Arguments after NAME other than --json, for the benchmark's own options. */
  args: string[];
}

export type Bench = (options: BenchOptions) => Promise<void>;

const NAMES = ["api", "analysis", "compile", "propagation", "dataplane"] as const;

async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (!name || !NAMES.includes(name as (typeof NAMES)[number])) {
    console.error(`usage: npm run bench -- NAME [--json]\nbenchmarks: ${NAMES.join(", ")}`);
    return 2;
  }
  const module = (await import(`./${name}.js`)) as { run: Bench };
  const rest = argv.slice(1);
  await module.run({ json: rest.includes("--json"), args: rest.filter((a) => a !== "--json") });
  return 0;
}

// as in the CLI: the AWS SDK's Node-version notice would open the output of benchmarks that use it
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
