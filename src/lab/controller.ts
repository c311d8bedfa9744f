import { DEFAULT_ENDPOINT, pullSnapshotFiles } from "../importers/ec2-api.js";
import { estateFromResponses } from "../importers/snapshot.js";
import type { Estate } from "../model/estate.js";

// How the lab commands learn instances, addresses and policy when they do not run inside the
// server: the controller's own EC2 API, read back through the same importer as an AWS dump.

export { DEFAULT_ENDPOINT };

export interface ControllerConnection {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Endpoint from the option, credentials from RINGFENCE_* or else AWS_* variables. */
export function controllerFromEnvironment(
  endpoint: string | undefined,
  env = process.env,
): ControllerConnection {
  const accessKeyId = env.RINGFENCE_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.RINGFENCE_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error(
      "no credentials: set RINGFENCE_ACCESS_KEY_ID and RINGFENCE_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
    );
  }
  return {
    endpoint: endpoint ?? env.RINGFENCE_ENDPOINT ?? DEFAULT_ENDPOINT,
    region: env.RINGFENCE_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    accessKeyId,
    secretAccessKey,
  };
}

/** The estate the controller holds, read through its EC2 API like any live estate. */
export async function fetchControllerEstate(connection: ControllerConnection): Promise<Estate> {
  const files = await pullSnapshotFiles({
    endpoint: connection.endpoint,
    region: connection.region,
    env: {
      RINGFENCE_ACCESS_KEY_ID: connection.accessKeyId,
      RINGFENCE_SECRET_ACCESS_KEY: connection.secretAccessKey,
    },
  });
  return estateFromResponses(files);
}
