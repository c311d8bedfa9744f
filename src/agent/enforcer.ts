// Keeps one host's kernel table equal to the last policy it was given. Knows nothing about the
// network: the agent feeds it from the controller, the lab feeds it directly (one per namespace).
//
// Invariants: the kernel always holds a complete table (every change is one nft transaction);
// `appliedRevision` is the revision whose table the kernel holds; after any failure the kernel
// still holds the previous table; a delta is only ever applied on top of the table this enforcer
// itself wrote and checked (otherwise, and whenever a delta fails, the whole table is replaced).

import { fullReplacement, type TableDelta, tableDelta } from "../compile/delta.js";
import type { HostPolicy } from "../compile/host-policy.js";
import type { NftTable } from "../compile/nft-table.js";
import { type CompileOptions, compileHostPolicy, lockdownTable } from "../compile/nftables.js";
import type { NftKernel } from "./kernel.js";

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
   * Whether this enforcer notices edits made to its table by others (default true): it lists the
   * table after each apply, to know what it wrote, and before each delta, to send the delta only
   * onto that table; `repair` needs it. Each listing costs more than a small delta itself. The lab
   * turns it off: nobody but the lab writes its instances' tables, and it runs no repair.
   */
  readonly tracksDrift?: boolean;
}

export class HostEnforcer {
  private table: NftTable | undefined;
  private checksum: string | undefined;
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
      // An edit made since the last check would survive a delta, and its checksum would then be
      // taken for the table this enforcer wrote: a delta goes only onto the table this enforcer
      // wrote, else the whole table replaces it. (An edit in the milliseconds between this listing
      // and the delta is not seen; nft has no compare-and-swap.)
      drifted = this.tracksDrift && (await this.kernel.tableChecksum()) !== this.checksum;
      if (!drifted) {
        try {
          await this.kernel.apply(delta.script);
          await this.settle(table);
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

  private async settle(table: NftTable): Promise<void> {
    this.table = table;
    if (this.tracksDrift) this.checksum = await this.kernel.tableChecksum();
  }

  /**
   * Drift repair: when the kernel's table is not what this enforcer wrote (flushed, edited,
   * deleted), writes the whole table again. Returns whether it had to; never without `tracksDrift`.
   */
  repair(): Promise<boolean> {
    return this.serialise(async () => {
      if (!this.table || !this.tracksDrift) return false;
      const now = await this.kernel.tableChecksum();
      if (now !== undefined && now === this.checksum) return false;
      await this.kernel.apply(fullReplacement(this.table).script);
      this.checksum = await this.kernel.tableChecksum();
      return true;
    });
  }

  /** Removes the table from the kernel (the host is then unfiltered) and forgets what it applied. */
  remove(): Promise<void> {
    return this.serialise(async () => {
      await this.kernel.deleteTable();
      this.table = undefined;
      this.checksum = undefined;
      this.revision = undefined;
      this.policy = undefined;
    });
  }
}
