// The real kernel: one long-lived `nft -i` per host (in the caller's network namespace, or inside
// `ip netns exec NAME`), fed one command line at a time. Starting nft costs more than the kernel
// transaction itself (10-20 ms a run, measured on a 250-statement table, against 3 ms for the same
// change sent to a running nft), and the agent changes its table at every policy change, so it,
// and the lab with one per host, keep nft running. A script is sent as one line (statements joined
// by ';'), or as a file that one line includes when it is long, which nft runs as one atomic
// transaction, followed by a `describe` whose fixed answer marks the end of the command's output.

import { type ChildProcessByStdio, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { ListingDigests, NftApplyError, type NftKernel, type ObjectDigests } from "./kernel.js";

const MARKER_COMMAND = "describe tcp dport";
const MARKER =
  "payload expression, datatype inet_service (internet network service) (basetype integer), 16 bits\n";

/**
 * The longest command line written to nft's stdin: at most PIPE_BUF bytes reach a pipe in one
 * piece or not at all. nft -i runs whatever part of a line it holds when its input ends, so a
 * longer line cut short by the death of this process could commit half a table (the old one
 * deleted, the hooks not yet added). A longer script goes in a file that a short line includes.
 */
const ATOMIC_WRITE = 4096;

/** The least output handed on at a time (but for the end of an answer): its start tells what it is. */
const PIECE = 16 * 1024;

const TABLE = "inet ringfence";

export class NftError extends Error {}

/** The statements of an `nft -f` script as one line. */
export function scriptLine(script: string): string {
  return script
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("#"))
    .join("; ");
}

/**
 * Receives one command's output piece by piece, then its end; `failure` when nft went away before
 * it answered in full, so that what came is not taken for the whole answer.
 */
interface OutputReader {
  piece(text: string): void;
  end(failure?: string): void;
}

/** Collects a command's output whole; `text` rejects with NftError when nft went away. */
function collect(): OutputReader & { readonly text: Promise<string> } {
  const pieces: string[] = [];
  let done: (text: string) => void = () => {};
  let fail: (error: Error) => void = () => {};
  const text = new Promise<string>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  // awaited only once the command has been written: until then a rejection is not unhandled
  text.catch(() => {});
  return {
    piece: (p) => pieces.push(p),
    end: (failure) => (failure === undefined ? done(pieces.join("")) : fail(new NftError(failure))),
    text,
  };
}

export class NftSession {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>;
  /** Output not yet handed to a reader: at most a marker's length, unless no command is waiting. */
  private pending = "";
  /** One per command written and not yet answered, in order. */
  private readonly waiting: OutputReader[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private exited = false;
  /** ` in NAMESPACE`, for messages. */
  private readonly where: string;
  /** A directory of its own for the scripts too long for one line, made when first needed. */
  private scripts: string | undefined;
  private scriptCount = 0;
  /** Settles once nft has exited and the scripts' directory is removed. */
  private readonly gone: Promise<void>;

  /** Without a namespace, nft runs in this process's own. */
  constructor(readonly namespace?: string) {
    this.where = namespace ? ` in ${namespace}` : "";
    // stderr joins stdout so that an error arrives before the marker that follows it.
    // nft -i keeps a history of its input in $HOME/.nft.history, read at start and rewritten at
    // exit: every script ever sent, megabytes in root's home. A HOME that cannot hold it keeps
    // nothing.
    const shell = ["sh", "-c", "exec nft -i 2>&1"];
    const [command, ...args] = namespace ? ["ip", "netns", "exec", namespace, ...shell] : shell;
    this.child = spawn(command as string, args, {
      stdio: ["pipe", "pipe", "ignore"],
      env: { ...process.env, HOME: "/dev/null" },
    });
    this.child.stdin.on("error", () => {});
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => this.read(chunk));
    this.gone = new Promise((resolve) => this.child.once("close", resolve)).then(async () => {
      if (this.scripts) await rm(this.scripts, { recursive: true, force: true });
    });
    this.child.on("close", () => {
      this.exited = true;
      const rest = this.pending;
      this.pending = "";
      for (const [k, reader] of this.waiting.splice(0).entries()) {
        // what arrived unclaimed belongs to the oldest command
        if (k === 0 && rest !== "") reader.piece(rest);
        reader.end(`nft${this.where} exited before it answered`);
      }
    });
    this.child.on("error", () => {
      this.exited = true;
    });
  }

  /**
   * Hands output to the oldest waiting command as it arrives, in pieces of at least PIECE
   * characters (or the whole answer, when shorter), keeping back only what could be the start of
   * the marker, so that a long listing is never held whole here.
   */
  private read(chunk: string): void {
    this.pending += chunk;
    for (;;) {
      const reader = this.waiting[0];
      if (!reader) return;
      const end = this.pending.indexOf(MARKER);
      if (end < 0) {
        const ready = this.pending.length - (MARKER.length - 1);
        if (ready >= PIECE) {
          reader.piece(this.pending.slice(0, ready));
          this.pending = this.pending.slice(ready);
        }
        return;
      }
      if (end > 0) reader.piece(this.pending.slice(0, end));
      this.pending = this.pending.slice(end + MARKER.length);
      this.waiting.shift();
      reader.end();
    }
  }

  /** Runs an `nft -f` script as one transaction; rejects with nft's message if it failed. */
  async run(script: string): Promise<void> {
    const line = scriptLine(script);
    if (line.length === 0) return;
    const reader = collect();
    if (fitsOneWrite(line)) await this.send(line, reader);
    else await this.sendIncluded(script, reader);
    const text = await reader.text;
    if (text.includes("Error:")) throw new NftError(`nft${this.where}: ${text.trim().slice(0, 2000)}`);
  }

  /** Runs one command and returns what nft printed (a listing, or an `Error:` text). */
  async query(command: string): Promise<string> {
    const reader = collect();
    await this.send(scriptLine(command), reader);
    return reader.text;
  }

  /** Runs one command, handing its output to `reader` piece by piece. */
  stream(command: string, reader: OutputReader): Promise<void> {
    return this.send(scriptLine(command), reader);
  }

  /** A long script as a file of its own, included by one short line: one transaction still. */
  private async sendIncluded(script: string, reader: OutputReader): Promise<void> {
    if (this.exited) return this.send("", reader);
    this.scripts ??= await mkdtemp(join(tmpdir(), "ringfence-nft-"));
    const file = join(this.scripts, `script-${++this.scriptCount}.nft`);
    await writeFile(file, script, { mode: 0o600 });
    try {
      await this.send(`include "${file}"`, reader);
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Writes the line and its marker in one write; resolves once `reader` has had the whole answer. */
  private send(line: string, reader: OutputReader): Promise<void> {
    if (!fitsOneWrite(line))
      throw new Error(`an nft command line of ${line.length} characters is too long to send whole`);
    const sent = this.queue.then(async () => {
      if (this.exited) {
        reader.end(`nft${this.where} has exited`);
        return;
      }
      const answered = new Promise<void>((resolve) => {
        // The marker after the line gives it exactly one answer (maybe "").
        this.waiting.push({
          piece: (p) => reader.piece(p),
          end: (failure) => {
            reader.end(failure);
            resolve();
          },
        });
      });
      this.child.stdin.write(`${line}\n${MARKER_COMMAND}\n`);
      // the next command is written only once this one is answered: one transaction at a time
      await answered;
    });
    this.queue = sent.catch(() => {});
    return sent;
  }

  get alive(): boolean {
    return !this.exited;
  }

  close(): Promise<void> {
    if (!this.exited) this.child.stdin.end();
    return this.gone;
  }
}

function fitsOneWrite(line: string): boolean {
  return Buffer.byteLength(line) + MARKER_COMMAND.length + 2 <= ATOMIC_WRITE;
}

/** The agent's kernel boundary (NftKernel) served by an NftSession, started again if nft exits. */
export class NftSessionKernel implements NftKernel {
  private session: NftSession;

  constructor(readonly options: { readonly netns?: string } = {}) {
    this.session = new NftSession(options.netns);
  }

  private live(): NftSession {
    if (!this.session.alive) this.session = new NftSession(this.options.netns);
    return this.session;
  }

  async apply(script: string): Promise<void> {
    try {
      await this.live().run(script);
    } catch (error) {
      throw new NftApplyError(error instanceof Error ? error.message : String(error), script);
    }
  }

  async listTable(): Promise<string | undefined> {
    const text = await this.live().query(`list table ${TABLE}`);
    if (text.startsWith("table ")) return text;
    return this.absent(`list table ${TABLE}`, text);
  }

  async objectDigests(objects?: readonly string[]): Promise<ObjectDigests | undefined> {
    if (objects === undefined) return this.listed(`list table ${TABLE}`);
    const found = new Map<string, string>();
    for (const key of objects) {
      // `set NAME` is listed by `list set inet ringfence NAME`; a kind may be two words (`ct timeout`)
      const space = key.lastIndexOf(" ");
      const listed = await this.listed(`list ${key.slice(0, space)} ${TABLE} ${key.slice(space + 1)}`);
      const digest = listed?.get(key);
      if (digest !== undefined) found.set(key, digest);
    }
    return found;
  }

  /** A listing digested as nft prints it (a large table's is a megabyte); undefined if absent. */
  private async listed(command: string): Promise<ObjectDigests | undefined> {
    const digests = new ListingDigests();
    let first: string | undefined;
    let failed: string | undefined;
    await this.live().stream(command, {
      piece: (piece) => {
        first ??= piece;
        if (first.startsWith("table ")) digests.update(piece);
      },
      end: (failure) => {
        failed = failure;
      },
    });
    if (failed !== undefined) throw new NftError(`${command}: ${failed}`);
    if (first?.startsWith("table ")) return digests.result();
    return this.absent(command, first ?? "");
  }

  /** nft's answer to a listing that is not one: undefined when the object does not exist. */
  private absent(command: string, text: string): undefined {
    if (/No such file or directory/.test(text)) return undefined;
    const where = this.options.netns ? ` in ${this.options.netns}` : "";
    throw new Error(`nft ${command}${where}: ${text.trim().slice(0, 2000)}`);
  }

  async deleteTable(): Promise<void> {
    // `add` first so that the delete succeeds whether or not the table exists
    await this.apply(`add table ${TABLE}\ndelete table ${TABLE}\n`);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
