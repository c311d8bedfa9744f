// The last policy an agent applied, kept on disk so that a restarted agent enforces it at once,
// before it reaches the controller. Written to a temporary file and renamed: a crash mid-write
// leaves the previous state, never half of one.

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HostPolicy } from "../compile/host-policy.js";
import { hostPolicyProblem } from "../compile/host-policy-shape.js";

export interface SavedPolicy {
  readonly instanceId: string;
  readonly revision: number;
  readonly policy: HostPolicy;
}

const FILE = "policy.json";

export class PolicyState {
  constructor(readonly directory: string) {}

  async load(instanceId: string): Promise<SavedPolicy | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.directory, FILE), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    let saved: Partial<SavedPolicy>;
    try {
      saved = JSON.parse(text) as Partial<SavedPolicy>;
    } catch (error) {
      throw new Error(`${join(this.directory, FILE)} is not a saved policy: ${String(error)}`);
    }
    // a state directory reused for another instance must not impose that instance's policy
    if (saved.instanceId !== instanceId || typeof saved.revision !== "number" || !saved.policy)
      return undefined;
    const problem = hostPolicyProblem(saved.policy);
    if (problem) throw new Error(`${join(this.directory, FILE)} is not a saved policy: ${problem}`);
    return saved as SavedPolicy;
  }

  async save(saved: SavedPolicy): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const temporary = join(this.directory, `${FILE}.${process.pid}.tmp`);
    await writeFile(temporary, JSON.stringify(saved), { mode: 0o600 });
    await rename(temporary, join(this.directory, FILE));
  }
}
