import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";

// One long-lived `nft -j -i` inside a namespace. Starting nft costs milliseconds of CPU (more than
// the kernel transaction itself), and a change to a group used by many hosts updates all of them at
// once, so the lab keeps one nft per host and feeds it commands: a script is sent as one line
// (statements joined by ';'), which nft runs as one atomic transaction, followed by a `describe`
// whose fixed answer marks the end of the command's output. Listings come back as JSON (-j).

const MARKER_COMMAND = "describe tcp dport";
const MARKER =
  "payload expression, datatype inet_service (internet network service) (basetype integer), 16 bits\n";

export class NftError extends Error {}

/** The statements of an `nft -f` script as one line. */
export function scriptLine(script: string): string {
  return script
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"))
    .join("; ");
}

export class NftSession {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  private output = "";
  /** One per command written and not yet answered, in order. */
  private readonly waiting: ((text: string) => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;

  constructor(readonly namespace: string) {
    // stderr joins stdout so that an error arrives before the marker that follows it.
    // nft -i keeps a history of its input in $HOME/.nft.history, read at start and rewritten at
    // exit: every script the lab ever sent, megabytes in root's home. A HOME that cannot hold it
    // keeps nothing.
    this.child = spawn("ip", ["netns", "exec", namespace, "sh", "-c", "exec nft -j -i 2>&1"], {
      stdio: ["pipe", "pipe", "ignore"],
      env: { ...process.env, HOME: "/dev/null" },
    });
    this.child.stdin.on("error", () => {});
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      this.output += chunk;
      for (;;) {
        const end = this.output.indexOf(MARKER);
        if (end < 0 || this.waiting.length === 0) break;
        const text = this.output.slice(0, end);
        this.output = this.output.slice(end + MARKER.length);
        this.waiting.shift()?.(text);
      }
    });
    this.child.on("close", () => {
      this.exited = true;
      for (const done of this.waiting.splice(0)) done(`Error: nft in ${namespace} exited\n${this.output}`);
    });
    this.child.on("error", () => {
      this.exited = true;
    });
  }

  /** Runs an `nft -f` script as one transaction; rejects with nft's message if it failed. */
  async run(script: string): Promise<void> {
    const line = scriptLine(script);
    if (line.length === 0) return;
    const text = await this.send(line);
    if (text.includes("Error:"))
      throw new NftError(`nft in ${this.namespace}: ${text.trim().slice(0, 2000)}`);
  }

  /** Runs one command and returns what nft printed (JSON for listings, or an `Error:` text). */
  query(command: string): Promise<string> {
    return this.send(scriptLine(command));
  }

  private send(line: string): Promise<string> {
    const sent = this.queue.then(() => {
      if (this.exited) throw new NftError(`nft in ${this.namespace} has exited`);
      // The marker after the line gives it exactly one answer (maybe "").
      const answer = new Promise<string>((resolve) => this.waiting.push(resolve));
      this.child.stdin.write(`${line}\n${MARKER_COMMAND}\n`);
      return answer;
    });
    this.queue = sent.catch(() => {});
    return sent;
  }

  get alive(): boolean {
    return !this.exited;
  }

  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("close", () => resolve());
      this.child.stdin.end();
    });
  }
}
