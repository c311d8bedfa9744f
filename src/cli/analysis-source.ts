// Where the analysis commands get their estate: a snapshot directory (--snapshot PATH), ringfence's
// server (--endpoint URL, the default being the local one), or real AWS (--aws, --region).

import { type ParseArgsConfig, parseArgs } from "node:util";
import { DEFAULT_ENDPOINT, type Ec2Source, pullSnapshotFiles } from "../importers/ec2-api.js";
import { estateFromResponses, readSnapshot } from "../importers/snapshot.js";
import type { Estate } from "../model/estate.js";
import { PolicyIndex } from "../policy/policy-index.js";
import { parseOptions, UsageError } from "./command.js";

export const SOURCE_OPTIONS = {
  snapshot: { type: "string" },
  endpoint: { type: "string" },
  aws: { type: "boolean" },
  region: { type: "string" },
  "dynamic-subnet": { type: "string", multiple: true },
  json: { type: "boolean" },
} as const satisfies ParseArgsConfig["options"];

export const SOURCE_USAGE = `Estate (one of):
  --snapshot PATH        a directory of describe-* JSON (see docs/analysis.md), or one JSON file
  --endpoint URL         ringfence's server (default ${DEFAULT_ENDPOINT}); key from
                         RINGFENCE_ACCESS_KEY_ID/RINGFENCE_SECRET_ACCESS_KEY or AWS_* variables
  --aws [--region R]     a real AWS account, default credential chain (read-only ec2:Describe*)
Also:
  --dynamic-subnet NAME  subnet (id or Name tag) of short-lived instances: its instances' groups
                         are taken to cover the whole subnet CIDR (repeatable)
  --json                 machine-readable output`;

export interface SourceValues {
  snapshot?: string | undefined;
  endpoint?: string | undefined;
  aws?: boolean | undefined;
  region?: string | undefined;
  "dynamic-subnet"?: string[] | undefined;
}

/** parseArgs with usage errors instead of exceptions a user would read as crashes. */
export function parseCommandArgs<O extends ParseArgsConfig["options"]>(args: string[], options: O) {
  return parseOptions(() => parseArgs({ args, options, allowPositionals: true, strict: true }));
}

export function ec2Source(values: SourceValues): Ec2Source {
  if (values.aws && values.endpoint) throw new UsageError("--aws and --endpoint exclude each other");
  return {
    ...(values.endpoint !== undefined ? { endpoint: values.endpoint } : {}),
    ...(values.aws ? { aws: true } : {}),
    ...(values.region !== undefined ? { region: values.region } : {}),
  };
}

/** Load one estate: a snapshot path, or `live` / nothing for the endpoint. */
export async function loadEstate(values: SourceValues, snapshot = values.snapshot): Promise<Estate> {
  // --endpoint and --aws say where `live` is, so they go with a snapshot argument (diff's) but
  // not with --snapshot, which replaces the endpoint
  if (
    values.snapshot !== undefined &&
    values.snapshot !== "live" &&
    (values.endpoint !== undefined || values.aws)
  ) {
    throw new UsageError("--snapshot excludes --endpoint and --aws");
  }
  if (snapshot !== undefined && snapshot !== "live") return readSnapshot(snapshot);
  const source = ec2Source(values);
  try {
    return estateFromResponses(await pullSnapshotFiles(source));
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
    const where = source.aws ? "AWS" : `the ringfence server at ${source.endpoint ?? DEFAULT_ENDPOINT}`;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH") {
      throw new Error(
        `cannot reach ${where} (${code}); start it with 'ringfence server' or pass --snapshot PATH`,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    // the SDK found no key at all (a key the server refuses is its AuthFailure, said as it is)
    const noKey =
      (error as { name?: string }).name === "CredentialsProviderError" ||
      /could not load credentials/i.test(message);
    if (!source.aws && noKey) {
      throw new Error(
        `reading ${where}: no access key; set RINGFENCE_ACCESS_KEY_ID and RINGFENCE_SECRET_ACCESS_KEY (the server's key)`,
      );
    }
    throw new Error(`reading ${where}: ${message}`);
  }
}

export async function loadIndex(values: SourceValues, snapshot?: string): Promise<PolicyIndex> {
  const estate = await loadEstate(values, snapshot ?? values.snapshot);
  return PolicyIndex.build(estate, { dynamicSubnets: values["dynamic-subnet"] ?? [] });
}
