// Starts a real control plane on a loopback port with a fresh data directory, and gives tests the
// two real clients: the AWS SDK for JavaScript v3 and the aws CLI.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EC2Client } from "@aws-sdk/client-ec2";
import { type RunningServer, type ServerOptions, startServer } from "../../src/api/server.js";

export interface TestControlPlane {
  server: RunningServer;
  dataDir: string;
  ec2: EC2Client;
  /** A client for another account's key (created on demand). */
  clientFor(accessKeyId: string, secretAccessKey: string, region?: string): EC2Client;
  /** Runs `aws --endpoint-url URL ec2 ARGS... --output json` and parses its output. */
  aws(args: string[], options?: { region?: string }): Promise<AwsResult>;
  close(): Promise<void>;
}

export interface AwsResult {
  code: number;
  stdout: string;
  stderr: string;
  json: unknown;
}

/** The Debian awscli (v2) when present, else whatever `aws` is on the PATH. */
export const AWS_CLI = process.env.RINGFENCE_TEST_AWS_CLI ?? "/usr/bin/aws";

export async function startControlPlane(options: Partial<ServerOptions> = {}): Promise<TestControlPlane> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "ringfence-test-"));
  const server = await startServer({ listen: "127.0.0.1:0", ...options, dataDir });
  const clientFor = (accessKeyId: string, secretAccessKey: string, region = "us-east-1") =>
    new EC2Client({
      endpoint: server.url,
      region,
      credentials: { accessKeyId, secretAccessKey },
      maxAttempts: 1,
    });
  const ec2 = clientFor(server.accessKeyId, server.secretAccessKey);
  return {
    server,
    dataDir,
    ec2,
    clientFor,
    aws(args, awsOptions = {}) {
      return new Promise((resolve) => {
        execFile(
          AWS_CLI,
          ["--endpoint-url", server.url, "--output", "json", "ec2", ...args],
          {
            env: {
              PATH: process.env.PATH,
              HOME: dataDir,
              AWS_ACCESS_KEY_ID: server.accessKeyId,
              AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
              AWS_DEFAULT_REGION: awsOptions.region ?? "us-east-1",
              AWS_PAGER: "",
              AWS_EC2_METADATA_DISABLED: "true",
            },
            timeout: 60_000,
          },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
            let json: unknown;
            try {
              json = stdout.trim() ? JSON.parse(stdout) : undefined;
            } catch {
              json = undefined;
            }
            resolve({ code, stdout, stderr, json });
          },
        );
      });
    },
    async close() {
      ec2.destroy();
      await server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The EC2 error code of a rejected SDK call (fails the test if the call succeeded). */
export async function errorCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return (error as { name?: string; Code?: string }).Code ?? (error as Error).name;
  }
  throw new Error("expected the call to fail, it succeeded");
}
