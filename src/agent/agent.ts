// The host agent: follows the controller's policy stream for one instance, enforces each policy in
// one nft transaction through a HostEnforcer, saves it, repairs drift and reports status.
//
// When the controller is away the kernel keeps the last table (it lives in the kernel, not in this
// process) and the agent reconnects with capped exponential backoff; on return the controller sends
// the current policy first and the enforcer applies only the difference. Start-up order: saved
// policy (if any) first, else the lockdown table (fail closed), then the controller.

import { hostname } from "node:os";
import type { HostPolicy } from "../compile/host-policy.js";
import type { CompileOptions } from "../compile/nftables.js";
import {
  type AgentStatus,
  type ControllerEndpoint,
  ControllerRefused,
  type PolicyMessage,
  reportStatus,
  watchPolicy,
} from "./controller-client.js";
import { type ApplyOutcome, HostEnforcer } from "./enforcer.js";
import type { NftKernel } from "./kernel.js";
import { PolicyState } from "./policy-state.js";

/** How often an agent reports its status unless told otherwise. */
export const STATUS_INTERVAL_MS = 30_000;

export interface AgentOptions extends ControllerEndpoint {
  readonly kernel: NftKernel;
  /** Where the last applied policy is kept; without it a restart starts from lockdown. */
  readonly stateDir?: string;
  /** How often the kernel's table is checked against what was applied (default 30 s). */
  readonly repairIntervalMs?: number;
  /** How often status is reported besides after each apply (default 30 s). */
  readonly statusIntervalMs?: number;
  /** A stream silent this long is taken as dead (default 30 s: three missed heartbeats). */
  readonly idleTimeoutMs?: number;
  /** Reconnect delays: doubling from `initialMs` up to `maxMs` (default 500 ms .. 30 s). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly compile?: CompileOptions;
  /**
   * Compile options that need the network, such as the controller's address (DNS may not be up at
   * boot). The saved policy or the lockdown is enforced first without them; they are resolved
   * before each connection attempt until they are, and the table is then compiled again with them.
   */
  readonly resolveCompile?: () => Promise<CompileOptions>;
  readonly log?: (line: string) => void;
}

export type AgentEvent =
  | { readonly kind: "applied"; readonly outcome: ApplyOutcome }
  | {
      readonly kind: "apply-failed";
      readonly revision: number;
      readonly error: string;
      /** When the same policy is tried again; absent when it will not be (another host's policy). */
      readonly retryInMs?: number;
    }
  | { readonly kind: "state-unreadable"; readonly error: string }
  | { readonly kind: "control-channel-unresolved"; readonly error: string }
  | { readonly kind: "restored"; readonly revision: number }
  | { readonly kind: "lockdown" }
  | { readonly kind: "connected" }
  | { readonly kind: "disconnected"; readonly error: string; readonly retryInMs: number }
  | { readonly kind: "heartbeat"; readonly revision: number }
  | { readonly kind: "repaired" }
  | { readonly kind: "status-sent"; readonly status: AgentStatus }
  | { readonly kind: "status-failed"; readonly error: string };

/** How long the first lookup of the controller may take before the host is locked down. */
const LOOKUP_BEFORE_LOCKDOWN_MS = 3000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Agent {
  readonly enforcer: HostEnforcer;
  private readonly state: PolicyState | undefined;
  private readonly stopping = new AbortController();
  private readonly listeners: ((event: AgentEvent) => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private loop: Promise<void> | undefined;
  /** The controller revision this host is known to be current at (policy or heartbeat). */
  private currentRevision: number | undefined;
  private healthy = true;
  private message = "starting";
  private wake: (() => void) | undefined;
  /**
   * The last policy the controller sent while the kernel does not hold it yet: tried again with
   * backoff until it is applied or a newer one replaces it. Until then the host is not current.
   */
  private unapplied: { readonly revision: number; readonly policy: HostPolicy } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  /** Applies (and the state saves after them) run one at a time, in the order they were asked for. */
  private enforcing: Promise<void> = Promise.resolve();
  /** The last drift check failed, which made the host unhealthy until one passes. */
  private repairFailing = false;
  /** The compile options last resolved with `resolveCompile`; undefined until one answers. */
  private resolvedCompile: CompileOptions | undefined;

  constructor(private readonly options: AgentOptions) {
    this.enforcer = new HostEnforcer(options.kernel, options.compile ? { compile: options.compile } : {});
    this.state = options.stateDir ? new PolicyState(options.stateDir) : undefined;
    this.retryDelayMs = this.backoff.initialMs;
  }

  private get backoff(): { readonly initialMs: number; readonly maxMs: number } {
    return this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
  }

  /** Test and CLI hook: every state change of the agent, in order. */
  onEvent(listener: (event: AgentEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(event: AgentEvent): void {
    for (const listener of this.listeners) listener(event);
    // heartbeats and successful reports are routine: the log keeps what changed
    if (event.kind === "heartbeat" || event.kind === "status-sent") return;
    this.options.log?.(JSON.stringify({ time: new Date().toISOString(), ...event }));
  }

  get appliedRevision(): number | undefined {
    return this.currentRevision;
  }

  /** Restores or locks down, then follows the controller in the background until stop(). */
  async start(): Promise<void> {
    let saved: Awaited<ReturnType<PolicyState["load"]>>;
    try {
      saved = await this.state?.load(this.options.instanceId);
    } catch (error) {
      // an unreadable state file must not keep the host unfiltered: lock down, ask the controller
      this.emit({ kind: "state-unreadable", error: errorText(error) });
    }
    if (saved) {
      try {
        await this.enforcer.apply(saved.revision, saved.policy);
        this.currentRevision = saved.revision;
        this.message = `enforcing saved revision ${saved.revision}`;
        this.emit({ kind: "restored", revision: saved.revision });
      } catch (error) {
        this.emit({ kind: "apply-failed", revision: saved.revision, error: errorText(error) });
      }
    }
    if (this.enforcer.appliedRevision === undefined) {
      // Under the lockdown table only /etc/hosts or an address can name the controller, so the
      // name is looked up first, briefly: if DNS answers, the lockdown lets the agent through.
      await this.resolveCompileOptions(LOOKUP_BEFORE_LOCKDOWN_MS).catch(() => undefined);
      await this.enforcer.applyLockdown();
      this.message = "no policy yet: locked down (loopback and established connections only)";
      this.emit({ kind: "lockdown" });
    }
    const repairEvery = this.options.repairIntervalMs ?? 30_000;
    this.timers.push(setInterval(() => void this.repair(), repairEvery));
    const statusEvery = this.options.statusIntervalMs ?? STATUS_INTERVAL_MS;
    this.timers.push(setInterval(() => void this.sendStatus(), statusEvery));
    this.loop = this.follow();
  }

  /** Stops following; the kernel keeps the table (fail closed). */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.retryTimer);
    this.stopping.abort(new Error("agent stopping"));
    this.wake?.();
    await this.loop;
    await this.enforcing;
  }

  private async follow(): Promise<void> {
    const { initialMs: initial, maxMs: max } = this.backoff;
    let delay = initial;
    while (!this.stopping.signal.aborted) {
      let gotMessage = false;
      try {
        // once the name has answered, a lookup that hangs (DNS the policy does not let out) must
        // not keep the agent from its controller longer than the first one could
        await this.resolveCompileOptions(this.resolvedCompile ? LOOKUP_BEFORE_LOCKDOWN_MS : undefined);
        await watchPolicy(
          this.options,
          async (message) => {
            if (!gotMessage) {
              gotMessage = true;
              delay = initial;
              this.emit({ kind: "connected" });
            }
            await this.receive(message);
          },
          { signal: this.stopping.signal, idleTimeoutMs: this.options.idleTimeoutMs ?? 30_000 },
        );
        if (this.stopping.signal.aborted) break;
        this.emit({ kind: "disconnected", error: "stream ended", retryInMs: delay });
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        // a refused token will not heal by itself quickly: wait the longest
        if (error instanceof ControllerRefused) delay = max;
        this.emit({ kind: "disconnected", error: errorText(error), retryInMs: delay });
      }
      await this.sleep(delay);
      delay = Math.min(max, delay * 2);
    }
  }

  /**
   * Asks for the compile options that need the network before each connection (the controller's
   * name may have moved to another address, which the table must then let through) and compiles
   * the enforced table again when they changed; a lookup that fails keeps the options last
   * resolved.
   */
  private async resolveCompileOptions(timeoutMs?: number): Promise<void> {
    if (!this.options.resolveCompile) return;
    let resolved: CompileOptions;
    try {
      const lookup = this.options.resolveCompile();
      resolved =
        timeoutMs === undefined
          ? await lookup
          : await Promise.race([
              lookup,
              new Promise<never>((_, reject) => {
                const timer = setTimeout(
                  () => reject(new Error(`no answer within ${timeoutMs} ms`)),
                  timeoutMs,
                );
                void lookup.finally(() => clearTimeout(timer)).catch(() => undefined);
              }),
            ]);
    } catch (error) {
      this.emit({ kind: "control-channel-unresolved", error: errorText(error) });
      if (this.resolvedCompile !== undefined) return;
      throw error;
    }
    const options = { ...this.options.compile, ...resolved };
    if (JSON.stringify(options) === JSON.stringify(this.resolvedCompile)) return;
    await this.enforcer.reconfigure(options);
    this.resolvedCompile = options;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = () => done();
      this.wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private async receive(message: PolicyMessage): Promise<void> {
    if (message.refused !== undefined) {
      // the table stays as it is; the controller learns why from the status, and the stream
      // goes on, so the next good policy is applied as soon as it comes
      this.healthy = false;
      this.message = `revision ${message.revision} carries a malformed policy, not applied: ${message.refused}`;
      this.emit({ kind: "apply-failed", revision: message.revision, error: this.message });
      await this.sendStatus();
      return;
    }
    if (!message.policy) {
      // the controller sends a changed policy before any later heartbeat, so we are current,
      // unless that policy is not in the kernel yet
      if (this.healthy && this.unapplied === undefined && this.enforcer.appliedRevision !== undefined)
        this.currentRevision = message.revision;
      this.emit({ kind: "heartbeat", revision: message.revision });
      return;
    }
    if (message.policy.instanceId !== this.options.instanceId) {
      // never enforce another host's policy, whatever the controller sends
      this.healthy = false;
      this.message = `revision ${message.revision} carries the policy of ${message.policy.instanceId}, not ${this.options.instanceId}; ignored`;
      this.emit({ kind: "apply-failed", revision: message.revision, error: this.message });
      await this.sendStatus();
      return;
    }
    await this.enforce(message.revision, message.policy);
  }

  private enforce(revision: number, policy: HostPolicy): Promise<void> {
    clearTimeout(this.retryTimer);
    this.unapplied = { revision, policy };
    const next = this.enforcing.then(() => this.enforceNow(revision, policy));
    this.enforcing = next;
    return next;
  }

  private async enforceNow(revision: number, policy: HostPolicy): Promise<void> {
    // a newer policy asked for meanwhile makes this one moot: its own turn applies it
    if (this.unapplied?.revision !== revision || this.stopping.signal.aborted) return;
    try {
      const outcome = await this.enforcer.apply(revision, policy);
      // a newer policy that arrived meanwhile is applied after this one, by its own call
      if (this.unapplied?.revision === revision) {
        this.unapplied = undefined;
        this.retryDelayMs = this.backoff.initialMs;
      }
      this.currentRevision = revision;
      this.healthy = true;
      this.message = `applied revision ${revision} (${outcome.mode}, ${outcome.statements} statements)`;
      this.emit({ kind: "applied", outcome });
      try {
        await this.state?.save({ instanceId: this.options.instanceId, revision, policy });
      } catch (error) {
        this.message += `; could not save state: ${errorText(error)}`;
      }
    } catch (error) {
      this.healthy = false;
      this.message = `could not apply revision ${revision}: ${errorText(error)}`;
      let retryInMs: number | undefined;
      if (this.unapplied?.revision === revision && !this.stopping.signal.aborted) {
        retryInMs = this.retryDelayMs;
        this.message += `; trying again in ${retryInMs} ms`;
        this.retryDelayMs = Math.min(this.backoff.maxMs, retryInMs * 2);
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => {
          const wanted = this.unapplied;
          // enforceNow checks again whether the agent is stopping by the time its turn comes
          if (wanted) void this.enforce(wanted.revision, wanted.policy);
        }, retryInMs);
      }
      this.emit({
        kind: "apply-failed",
        revision,
        error: errorText(error),
        ...(retryInMs === undefined ? {} : { retryInMs }),
      });
    }
    await this.sendStatus();
  }

  private async repair(): Promise<void> {
    try {
      const repaired = await this.enforcer.repair();
      // a check that fails once (nft killed under it) must not leave the host unhealthy for good
      const recovered = this.repairFailing;
      this.repairFailing = false;
      if (!repaired && !recovered) return;
      const at = new Date().toISOString();
      this.message = repaired
        ? `repaired drift of the ringfence table at ${at}`
        : `drift check passes again at ${at}`;
      // the table written again is the one in force, which is not yet the wanted one
      if (this.unapplied) this.message += `; revision ${this.unapplied.revision} is not applied yet`;
      else this.healthy = true;
      if (repaired) this.emit({ kind: "repaired" });
      await this.sendStatus();
    } catch (error) {
      this.healthy = false;
      this.repairFailing = true;
      this.message = `drift repair failed: ${errorText(error)}`;
      await this.sendStatus();
    }
  }

  status(): AgentStatus {
    return {
      appliedRevision: this.currentRevision ?? null,
      healthy: this.healthy,
      message: this.message,
      hostname: hostname(),
      pid: process.pid,
    };
  }

  private async sendStatus(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    const status = this.status();
    try {
      await reportStatus(this.options, status);
      this.emit({ kind: "status-sent", status });
    } catch (error) {
      this.emit({ kind: "status-failed", error: errorText(error) });
    }
  }
}
