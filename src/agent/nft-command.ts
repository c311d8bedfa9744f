// The real kernel: the `nft` command, in the caller's network namespace or, with `netns`, inside
// `ip netns exec NAME` (the lab's instances and the tests' namespaces).

import { spawn } from "node:child_process";
import { checksumOfListing, NftApplyError, type NftKernel } from "./kernel.js";

export interface NftCommandOptions {
  /** Run inside this network namespace (`ip netns exec NAME nft ...`). */
  readonly netns?: string;
  /** The nft binary; default `nft` from PATH. */
  readonly nft?: string;
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const TABLE_ARGS = ["inet", "ringfence"];

export class NftCommandKernel implements NftKernel {
  constructor(private readonly options: NftCommandOptions = {}) {}

  private run(args: string[], input?: string): Promise<RunResult> {
    const nft = this.options.nft ?? "nft";
    const [command, argv] = this.options.netns
      ? ["ip", ["netns", "exec", this.options.netns, nft, ...args]]
      : [nft, args];
    return new Promise((resolve, reject) => {
      const child = spawn(command as string, argv as string[], { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      child.on("error", reject);
      child.on("close", (code) =>
        resolve({
          code: code ?? 1,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
      child.stdin.on("error", () => {}); // nft may exit before reading everything; `close` reports it
      child.stdin.end(input ?? "");
    });
  }

  async apply(script: string): Promise<void> {
    const result = await this.run(["-f", "-"], script);
    if (result.code !== 0) {
      throw new NftApplyError(`nft -f failed (exit ${result.code}): ${result.stderr.trim()}`, script);
    }
  }

  async listTable(): Promise<string | undefined> {
    const result = await this.run(["-j", "list", "table", ...TABLE_ARGS]);
    if (result.code !== 0) {
      if (/No such file or directory/.test(result.stderr)) return undefined;
      throw new Error(`nft list table failed (exit ${result.code}): ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  async tableChecksum(): Promise<string | undefined> {
    // the text listing is a third of the JSON one: less for the agent to hold every 30 s
    const listing = await this.listText();
    return listing === undefined ? undefined : checksumOfListing(listing);
  }

  async deleteTable(): Promise<void> {
    // `add` first so that the delete succeeds whether or not the table exists
    await this.apply(`add table ${TABLE_ARGS.join(" ")}\ndelete table ${TABLE_ARGS.join(" ")}\n`);
  }

  /** The human-readable listing (`nft list table inet ringfence`), with counters. */
  async listText(): Promise<string | undefined> {
    const result = await this.run(["list", "table", ...TABLE_ARGS]);
    return result.code === 0 ? result.stdout : undefined;
  }
}
