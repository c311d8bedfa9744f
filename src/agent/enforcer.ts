// Keeps one host's kernel table equal to the last policy it was given. Knows nothing about the
// network: the agent feeds it from the controller, the lab feeds it directly (one per namespace).
//
// Invariants: the kernel always holds a complete table (every change is one nft transaction);
// `appliedRevision` is the revision whose table the kernel holds; after any failure the kernel
// still holds the previous table; a delta is only ever applied on top of the table this enforcer
// itself wrote and checked (otherwise, and whenever a delta fails, the whole table is replaced).
//
// What "wrote" means is kept per object of the table (each set, map, chain, ct timeout, and the
// table's own lines): the kernel's listing of it right after this enforcer's last write of it. A
// delta that changes only a few sets and maps (a membership or CIDR change) reads back only those,
// before and after; any other lists the whole table, as the repair interval does, which costs nft
// a hundred times more than listing a set.

import { fullReplacement, type TableDelta, tableDelta } from "../compile/delta.js";
import type { HostPolicy } from "../compile/host-policy.js";
import type { NftTable } from "../compile/nft-table.js";
import { type CompileOptions, compileHostPolicy, lockdownTable } from "../compile/nftables.js";
import type { NftKernel, ObjectDigests } from "./kernel.js";

export interface ApplyOutcome {
  readonly revision: number;
  /** `unchanged`: the policy compiled to the table already in place; nothing was sent. */
  readonly mode: "full" | "delta" | "unchanged";
  readonly statements: number;
  readonly bytes: number;
  /** The delta failed and the full table replaced it. */
  readonly fellBack: boolean;
  /** The kernel's table had been changed by someone else, so the full table replaced it. */
  readonly drifted: boolean;
}

export interface HostEnforcerOptions {
  readonly compile?: CompileOptions;
  /**
   * Whether this enforcer notices edits made to its table by others (default true): it lists what
   * it changes after each apply, to know what it wrote, and before each delta, to send the delta
   * only onto that; `repair` needs it. The lab turns it off: nobody but the lab writes its
   * instances' tables, and it runs no repair.
   */
  readonly tracksDrift?: boolean;
}

/** The most objects a delta reads back one by one; past that, the whole table is listed. */
const MOST_LISTED_ALONE = 16;

/**
 * The objects of a delta to read back one by one, or undefined to list the whole table: nft lists a
 * set or a map alone in a millisecond or two, but a chain only after reading every rule of the
 * table (measured with the 1,000-rule policy of the compile benchmark: a set 1.6 ms, a chain 140
 * ms, the whole table 360 ms).
 */
function listedAlone(objects: readonly string[] | undefined): readonly string[] | undefined {
  if (!objects || objects.length > MOST_LISTED_ALONE) return undefined;
  return objects.every((key) => key.startsWith("set ") || key.startsWith("map ")) ? objects : undefined;
}

export class HostEnforcer {
  private table: NftTable | undefined;
  /** Each object as the kernel listed it after this enforcer wrote it; undefined before a write. */
  private digests: Map<string, string> | undefined;
  private revision: number | undefined;
  private policy: HostPolicy | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private compileOptions: CompileOptions | undefined;
  private readonly tracksDrift: boolean;

  constructor(
    private readonly kernel: NftKernel,
    options: HostEnforcerOptions = {},
  ) {
    this.compileOptions = options.compile;
    this.tracksDrift = options.tracksDrift ?? true;
  }

  /** The revision whose policy the kernel enforces; undefined before the first apply. */
  get appliedRevision(): number | undefined {
    return this.revision;
  }

  get appliedPolicy(): HostPolicy | undefined {
    return this.policy;
  }

  /** One operation at a time: an apply and a drift check must not interleave. */
  private serialise<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }

  apply(revision: number, policy: HostPolicy): Promise<ApplyOutcome> {
    return this.serialise(async () => {
      const table = compileHostPolicy(policy, this.compileOptions);
      const outcome = await this.install(revision, table);
      this.policy = policy;
      this.revision = revision;
      return outcome;
    });
  }

  /**
   * Installs the table of a host without policy (loopback, neighbour discovery and established
   * connections only), unless a policy is already enforced. Used when an agent starts with neither
   * saved state nor a controller: it fails closed.
   */
  applyLockdown(): Promise<ApplyOutcome | undefined> {
    return this.serialise(async () => {
      if (this.table) return undefined;
      return this.install(0, lockdownTable(this.compileOptions));
    });
  }

  /**
   * Compile options that became known later (the controller's address, once DNS answers): the
   * policy or lockdown in force is compiled again with them.
   */
  reconfigure(compile: CompileOptions): Promise<void> {
    return this.serialise(async () => {
      this.compileOptions = compile;
      if (this.policy !== undefined && this.revision !== undefined) {
        await this.install(this.revision, compileHostPolicy(this.policy, compile));
      } else if (this.table) {
        await this.install(0, lockdownTable(compile));
      }
    });
  }

  private async install(revision: number, table: NftTable): Promise<ApplyOutcome> {
    const previous = this.table;
    let fellBack = false;
    let drifted = false;
    const outcome = (mode: ApplyOutcome["mode"], sent?: TableDelta): ApplyOutcome => ({
      revision,
      mode,
      statements: sent?.statements ?? 0,
      bytes: sent?.script.length ?? 0,
      fellBack,
      drifted,
    });
    if (previous) {
      const delta = tableDelta(previous, table);
      // Nothing to send, nothing recorded: drift, if any, is the repair interval's to find.
      if (delta.statements === 0) return outcome("unchanged");
      // An edit made since the last check to an object the delta changes would survive it, and
      // be read back as what this enforcer wrote: a delta goes only onto objects as this enforcer
      // wrote them, else the whole table replaces them. Edits elsewhere stay where the repair finds
      // them, since nothing of them is read back. (An edit in the milliseconds between this listing
      // and the delta is not seen; nft has no compare-and-swap.)
      const scope = listedAlone(delta.objects);
      drifted = this.tracksDrift && !this.same(await this.kernel.objectDigests(scope), scope);
      if (!drifted) {
        try {
          await this.kernel.apply(delta.script);
          await this.settle(table, scope);
          return outcome("delta", delta);
        } catch {
          fellBack = true;
        }
      }
    }
    const full = fullReplacement(table);
    await this.kernel.apply(full.script);
    await this.settle(table);
    return outcome("full", full);
  }

  /** Records what the kernel now lists: of `objects` only, or of the whole table. */
  private async settle(table: NftTable, objects?: readonly string[]): Promise<void> {
    this.table = table;
    if (!this.tracksDrift) return;
    if (objects === undefined || this.digests === undefined) {
      this.digests = new Map(await this.kernel.objectDigests());
      return;
    }
    const now = await this.kernel.objectDigests(objects);
    for (const key of objects) {
      const digest = now?.get(key);
      if (digest === undefined) this.digests.delete(key);
      else this.digests.set(key, digest);
    }
  }

  /** Whether the kernel lists `objects` (or, without, the whole table) as this enforcer wrote them. */
  private same(now: ObjectDigests | undefined, objects?: readonly string[]): boolean {
    const written = this.digests;
    if (now === undefined || written === undefined) return false;
    if (objects) return objects.every((key) => now.get(key) === written.get(key));
    return now.size === written.size && [...now].every(([key, digest]) => written.get(key) === digest);
  }

  /**
   * Drift repair: when the kernel's table is not what this enforcer wrote (flushed, edited,
   * deleted), writes the whole table again. Returns whether it had to; never without `tracksDrift`.
   */
  repair(): Promise<boolean> {
    return this.serialise(async () => {
      if (!this.table || !this.tracksDrift) return false;
      if (this.same(await this.kernel.objectDigests())) return false;
      await this.kernel.apply(fullReplacement(this.table).script);
      await this.settle(this.table);
      return true;
    });
  }

  /** Removes the table from the kernel (the host is then unfiltered) and forgets what it applied. */
  remove(): Promise<void> {
    return this.serialise(async () => {
      await this.kernel.deleteTable();
      this.table = undefined;
      this.digests = undefined;
      this.revision = undefined;
      this.policy = undefined;
    });
  }
}
