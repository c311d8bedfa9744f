// The real kernel: the `nft` command, in the caller's network namespace or, with `netns`, inside
// `ip netns exec NAME` (the lab's instances and the tests' namespaces).

import { spawn } from "node:child_process";
import { ListingDigest, NftApplyError, type NftKernel } from "./kernel.js";

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

/**
 * How much of a script is handed to nft's stdin at a time. `end(script)` would first copy a large
 * table's whole script (half a megabyte for 1,000 rules) into one native buffer; slices of it,
 * written as the pipe drains, keep that copy small.
 */
const STDIN_SLICE = 64 * 1024;

export class NftCommandKernel implements NftKernel {
  constructor(private readonly options: NftCommandOptions = {}) {}

  /**
   * Runs nft once. With `onStdout`, the output goes there piece by piece instead of being
   * collected: a large table's listing is digested as it arrives, never held whole.
   */
  private run(args: string[], input = "", onStdout?: (piece: string) => void): Promise<RunResult> {
    const nft = this.options.nft ?? "nft";
    const [command, argv] = this.options.netns
      ? ["ip", ["netns", "exec", this.options.netns, nft, ...args]]
      : [nft, args];
    return new Promise((resolve, reject) => {
      const child = spawn(command as string, argv as string[], { stdio: ["pipe", "pipe", "pipe"] });
      const out: string[] = [];
      const err: string[] = [];
      child.stdout.setEncoding("utf8");
      child.stderr.setEncoding("utf8");
      child.stdout.on("data", onStdout ?? ((piece: string) => out.push(piece)));
      child.stderr.on("data", (piece: string) => err.push(piece));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? 1, stdout: out.join(""), stderr: err.join("") }));
      child.stdin.on("error", () => {}); // nft may exit before reading everything; `close` reports it
      let offset = 0;
      const feed = () => {
        while (offset < input.length) {
          const slice = input.slice(offset, offset + STDIN_SLICE);
          offset += STDIN_SLICE;
          if (!child.stdin.write(slice)) return void child.stdin.once("drain", feed);
        }
        child.stdin.end();
      };
      feed();
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
    // the text listing is a third of the JSON one, and is digested as nft prints it
    const digest = new ListingDigest();
    const result = await this.run(["list", "table", ...TABLE_ARGS], "", (piece) => digest.update(piece));
    return result.code === 0 ? digest.digest() : undefined;
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
