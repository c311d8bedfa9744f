import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";

// The lab's only way into the kernel's network configuration: iproute2, always aimed at a named
// namespace (`ip -n NS`) except for creating and deleting namespaces themselves, and batched
// (`-batch -`) so that a whole host is wired by one process.

export class IpCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`ip ${args.join(" ")} failed (${code}): ${stderr.trim()}`);
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion, feeding `input` on stdin. Never throws for a non-zero exit. */
export function runProgram(program: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => {});
    child.stdin.end(input ?? "");
  });
}

async function ip(args: readonly string[], input?: string): Promise<string> {
  const result = await runProgram("ip", args, input);
  if (result.code !== 0) throw new IpCommandError(args, result.code, result.stderr);
  return result.stdout;
}

/**
 * Runs iproute2 commands (one per line, without the leading `ip`) in one process. With a
 * namespace, every command runs inside it; without one, only `netns ...` commands are allowed,
 * so that nothing here can configure the machine's own namespace.
 */
export async function ipBatch(namespace: string | undefined, commands: readonly string[]): Promise<void> {
  if (commands.length === 0) return;
  if (namespace === undefined && commands.some((c) => !c.startsWith("netns "))) {
    throw new Error("the lab runs only `ip netns` commands outside its own namespaces");
  }
  const args = namespace === undefined ? ["-batch", "-"] : ["-n", namespace, "-batch", "-"];
  await ip(args, `${commands.join("\n")}\n`);
}

/** Where `ip netns add` mounts a named namespace (iproute2's NETNS_RUN_DIR). */
const NETNS_RUN_DIR = "/run/netns";

/**
 * Names of all named network namespaces, as `ip netns list` shows them: the entries of its run
 * directory, read without starting a process, since every sync of the lab looks.
 */
export async function listNamespaces(): Promise<string[]> {
  try {
    return (await readdir(NETNS_RUN_DIR)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Deletes namespaces that exist; missing ones are ignored. */
export async function deleteNamespaces(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const existing = new Set(await listNamespaces());
  const doomed = names.filter((n) => existing.has(n));
  if (doomed.length === 0) return;
  await ipBatch(
    undefined,
    doomed.map((n) => `netns del ${n}`),
  );
}

/** Runs a program inside a namespace (`ip netns exec NS ...`). */
export function execInNamespace(
  namespace: string,
  command: readonly string[],
  input?: string,
): Promise<CommandResult> {
  return runProgram("ip", ["netns", "exec", namespace, ...command], input);
}
