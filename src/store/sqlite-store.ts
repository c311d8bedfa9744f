// The embedded store: every record lives in memory for reads and in SQLite (WAL) for durability.
// A request runs against a Transaction; its commit is visible in memory at once, so the next
// request sees it, and reaches SQLite with the next revision and its change-feed entry in one SQL
// transaction shared by every commit of that turn of the event loop (group commit). Nothing is
// acknowledged, and no reader outside a request (the agent feed, the lab) is shown anything,
// before it is durable; a batch that cannot be written is undone in memory by reloading from disk.
// A security group's rules are rows of their own, so a rule change writes that rule and not the
// whole group. Rule rows are keyed by a sequence number, not by their random `sgr-` id: new rules
// append to the table's last page, where keys in random order would each dirty a page of an index
// (measured: 12.8 WAL frames for a batch of eight one-rule commits before, about a third after).

import { EventEmitter } from "node:events";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { GroupRecord, ResourceKind, ResourceRecord, RuleRecord } from "../model/resources.js";
import { deepFreeze, emptyRecordMaps, type RecordMaps, Transaction } from "./transaction.js";

export interface ChangeMeta {
  account: string;
  region: string;
  action: string;
  requestId: string;
}

export interface Change extends ChangeMeta {
  revision: number;
  at: string;
  /** Ids of the records written or deleted. */
  ids: string[];
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  createdAt: string;
}

export interface AgentStatus {
  instanceId: string;
  /** null while the agent holds no policy of the controller yet (locked down, or refused one). */
  appliedRevision: number | null;
  healthy: boolean;
  message?: string;
  hostname?: string;
  pid?: number;
  reportedAt: string;
}

export type Durability = "normal" | "full";

interface PendingCommit {
  tx: Transaction;
  change: Change;
  /** The committed versions of the groups this transaction rewrites, to write only changed rules. */
  previousGroups: Map<string, GroupRecord>;
}

/** The commits of one turn of the event loop, written to SQLite together. */
interface Batch {
  readonly commits: PendingCommit[];
  /** Resolves when the batch is on disk, rejects when it could not be written. */
  readonly durable: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The layout's version, in `PRAGMA user_version`. */
const LAYOUT_VERSION = 2;
const RULES_TABLE =
  "rules (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, group_id TEXT NOT NULL, doc TEXT NOT NULL)";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS resources (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ${RULES_TABLE};
CREATE TABLE IF NOT EXISTS changes (
  revision INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  action TEXT NOT NULL,
  request_id TEXT NOT NULL,
  ids TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
  access_key_id TEXT PRIMARY KEY,
  secret_access_key TEXT NOT NULL,
  account_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agent_tokens (
  token_sha256 TEXT PRIMARY KEY,
  instance_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agent_status (
  instance_id TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS regions (
  account TEXT NOT NULL,
  region TEXT NOT NULL,
  PRIMARY KEY (account, region)
);
`;

/** Creates the data directory if need be: it holds the access keys' secrets, so for its owner only. */
export function makeDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

export class SqliteStore {
  private readonly db: Database.Database;
  private records: RecordMaps = emptyRecordMaps();
  private readonly events = new EventEmitter();
  private currentRevision = 0;
  private regions = new Set<string>();
  /** Every request looks its key up: keys live in memory, written through to SQLite. */
  private readonly keys = new Map<string, AccessKey>();
  private readonly commitStatement: (
    batch: readonly PendingCommit[],
    statuses: readonly AgentStatus[],
  ) => void;
  /** Status reports waiting for the next flush, the newest of each instance. */
  private statuses = new Map<string, AgentStatus>();
  /** Commits applied in memory and waiting for the next group flush to SQLite. */
  private batch?: Batch;
  /** Set when memory could not be brought back to what is on disk: nothing more is served. */
  private failure?: Error;
  /** The row of every stored rule, by rule id. */
  private ruleRows = new Map<string, number>();
  private lastRuleRow = 0;
  private readonly clock = new IsoClock();

  /** `mustExist`: refuse a directory without a database instead of starting an empty one there. */
  constructor(dataDir: string, durability: Durability = "normal", options: { mustExist?: boolean } = {}) {
    const path = join(dataDir, "ringfence.db");
    if (options.mustExist && !existsSync(path)) {
      throw new Error(
        `${dataDir} holds no ringfence data (start \`ringfence server --data ${dataDir}\` first)`,
      );
    }
    makeDataDir(dataDir);
    this.db = new Database(path);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      try {
        if (existsSync(file)) chmodSync(file, 0o600);
      } catch {
        // another user's files (root reading them, say) are theirs to keep as they are
      }
    }
    this.db.pragma("journal_mode = WAL");
    // WAL + NORMAL survives a crash of the process (kill -9); FULL also survives power loss.
    this.db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.pragma("foreign_keys = ON");
    // Before any table is created: a newer release's data directory is left exactly as it is.
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version > LAYOUT_VERSION) {
      this.db.close();
      throw new Error(
        `the data directory has layout ${version}, written by a newer ringfence; this one reads layout ${LAYOUT_VERSION} and older`,
      );
    }
    this.db.exec(SCHEMA);
    this.events.setMaxListeners(0);
    this.migrate();
    this.loadRecords();
    for (const row of this.db.prepare("SELECT * FROM access_keys ORDER BY created_at").all() as {
      access_key_id: string;
      secret_access_key: string;
      account_id: string;
      created_at: string;
    }[]) {
      this.keys.set(row.access_key_id, {
        accessKeyId: row.access_key_id,
        secretAccessKey: row.secret_access_key,
        accountId: row.account_id,
        createdAt: row.created_at,
      });
    }

    const upsert = this.db.prepare(
      "INSERT INTO resources (id, kind, account, region, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc",
    );
    const remove = this.db.prepare("DELETE FROM resources WHERE id = ?");
    const setUp = this.db.prepare("INSERT OR IGNORE INTO regions (account, region) VALUES (?, ?)");
    const append = this.db.prepare(
      "INSERT INTO changes (revision, at, account, region, action, request_id, ids) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const insertRule = this.db.prepare("INSERT INTO rules (seq, id, group_id, doc) VALUES (?, ?, ?, ?)");
    const updateRule = this.db.prepare("UPDATE rules SET doc = ? WHERE seq = ?");
    const removeRule = this.db.prepare("DELETE FROM rules WHERE seq = ?");
    const saveStatus = this.db.prepare(
      "INSERT INTO agent_status (instance_id, doc) VALUES (?, ?) ON CONFLICT(instance_id) DO UPDATE SET doc = excluded.doc",
    );
    this.commitStatement = this.db.transaction(
      (batch: readonly PendingCommit[], statuses: readonly AgentStatus[]) => {
        for (const entry of batch) writeOne(entry);
        for (const status of statuses) saveStatus.run(status.instanceId, JSON.stringify(status));
      },
    );
    // Rules are immutable values, so an unchanged rule is the very same object in both versions.
    const removeRow = (rule: RuleRecord) => {
      const row = this.ruleRows.get(rule.id);
      if (row === undefined) return;
      removeRule.run(row);
      this.ruleRows.delete(rule.id);
    };
    const writeRow = (groupId: string, rule: RuleRecord) => {
      const row = this.ruleRows.get(rule.id);
      if (row !== undefined) {
        updateRule.run(JSON.stringify(rule), row);
        return;
      }
      this.lastRuleRow += 1;
      insertRule.run(this.lastRuleRow, rule.id, groupId, JSON.stringify(rule));
      this.ruleRows.set(rule.id, this.lastRuleRow);
    };
    const writeRules = (groupId: string, before: GroupRecord | undefined, after: GroupRecord | null) => {
      const old = before?.rules ?? [];
      const now = after?.rules ?? [];
      // An authorize appends rules and a revoke removes some, both keeping the order of the rest:
      // one walk over both lists finds that, without sets of every rule (measured at 15-25 µs a
      // request with 10-30 rules a group).
      if (now.length >= old.length && old.every((rule, k) => now[k] === rule)) {
        for (let k = old.length; k < now.length; k++) writeRow(groupId, now[k] as RuleRecord);
        return;
      }
      if (now.length < old.length) {
        const removed: RuleRecord[] = [];
        let k = 0;
        for (const rule of old) {
          if (now[k] === rule) k++;
          else removed.push(rule);
        }
        if (k === now.length) {
          for (const rule of removed) removeRow(rule);
          return;
        }
      }
      const nowIds = new Set(now.map((rule) => rule.id));
      for (const rule of old) if (!nowIds.has(rule.id)) removeRow(rule);
      const previous = new Set(old);
      for (const rule of now) if (!previous.has(rule)) writeRow(groupId, rule);
    };
    const writeOne = ({ tx, change, previousGroups }: PendingCommit) => {
      for (const { account, region } of tx.regionsSetUp) setUp.run(account, region);
      for (const [id, write] of tx.writes) {
        const record = write.record;
        if (write.kind === "group") {
          const previous = previousGroups.get(id);
          writeRules(id, previous, record as GroupRecord | null);
          // Most group writes change only rules; the group's own row stays as it is then.
          if (previous && record && sameExceptRules(previous, record as GroupRecord)) continue;
        }
        if (record === null) remove.run(id);
        else upsert.run(id, write.kind, record.account, record.region, JSON.stringify(storedDoc(record)));
      }
      append.run(
        change.revision,
        change.at,
        change.account,
        change.region,
        change.action,
        change.requestId,
        JSON.stringify(change.ids),
      );
    };
  }

  /**
   * Schema 2 keys rule rows by sequence; schema 1 keyed them by rule id; schema 0 stored rules
   * inside the group's document.
   */
  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    if (version === LAYOUT_VERSION) return;

    this.db.transaction(() => {
      if (version === 1) {
        this.db.exec(`ALTER TABLE rules RENAME TO rules_by_id;
          CREATE TABLE ${RULES_TABLE};
          INSERT INTO rules (id, group_id, doc) SELECT id, group_id, doc FROM rules_by_id ORDER BY rowid;
          DROP TABLE rules_by_id;`);
      } else {
        const rewrite = this.db.prepare("UPDATE resources SET doc = ? WHERE id = ?");
        const insertRule = this.db.prepare("INSERT INTO rules (id, group_id, doc) VALUES (?, ?, ?)");
        for (const row of this.db.prepare("SELECT doc FROM resources WHERE kind = 'group'").all() as {
          doc: string;
        }[]) {
          const group = JSON.parse(row.doc) as GroupRecord;
          for (const rule of group.rules ?? []) insertRule.run(rule.id, group.id, JSON.stringify(rule));
          rewrite.run(JSON.stringify(storedDoc(group)), group.id);
        }
      }
      this.db.pragma(`user_version = ${LAYOUT_VERSION}`);
    })();
  }

  /**
   * Memory := disk: the records, their rule rows, the regions set up and the revision. Everything
   * is read first and only then put in place, so a read that fails leaves memory as it was. (No
   * transaction outlives the request that began it, so none holds the maps being replaced.)
   */
  private loadRecords(): void {
    const records = emptyRecordMaps();
    const ruleRows = new Map<string, number>();
    let lastRuleRow = 0;
    const groupRules = new Map<string, RuleRecord[]>();
    for (const row of this.db
      .prepare("SELECT seq, group_id, doc FROM rules ORDER BY seq")
      .iterate() as Iterable<{
      seq: number;
      group_id: string;
      doc: string;
    }>) {
      const rules = groupRules.get(row.group_id) ?? [];
      if (rules.length === 0) groupRules.set(row.group_id, rules);
      const rule = JSON.parse(row.doc) as RuleRecord;
      rules.push(rule);
      ruleRows.set(rule.id, row.seq);
      lastRuleRow = row.seq;
    }
    for (const row of this.db
      .prepare("SELECT kind, doc FROM resources ORDER BY rowid")
      .iterate() as Iterable<{
      kind: ResourceKind;
      doc: string;
    }>) {
      let record = JSON.parse(row.doc) as ResourceRecord;
      if (record.kind === "group") record = { ...record, rules: groupRules.get(record.id) ?? [] };
      (records[row.kind] as Map<string, ResourceRecord>).set(record.id, deepFreeze(record));
    }
    const regions = new Set(
      (
        this.db.prepare("SELECT account, region FROM regions").all() as { account: string; region: string }[]
      ).map((row) => `${row.account}/${row.region}`),
    );
    const last = this.db.prepare("SELECT MAX(revision) AS revision FROM changes").get() as {
      revision: number | null;
    };
    this.records = records;
    this.ruleRows = ruleRows;
    this.lastRuleRow = lastRuleRow;
    this.regions = regions;
    this.currentRevision = last.revision ?? 0;
  }

  private readonly statements = new Map<string, Database.Statement>();

  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  get revision(): number {
    return this.currentRevision;
  }

  begin(): Transaction {
    return new Transaction(this.records);
  }

  /**
   * Makes the transaction's writes visible at once, so the next request sees them, and durable
   * together with every other commit of this turn of the event loop in one SQL transaction (group
   * commit). A request may be answered only when `durable` has resolved; a request without writes
   * waits too when it may have read a commit that is not yet on disk.
   */
  commit(tx: Transaction, meta: ChangeMeta): { revision: number; durable: Promise<void> } {
    if (this.failure) throw this.failure;
    if (!tx.hasWrites) {
      return { revision: this.currentRevision, durable: this.batch?.durable ?? Promise.resolve() };
    }
    const change: Change = {
      ...meta,
      revision: this.currentRevision + 1,
      at: this.clock.now(),
      ids: [...tx.writes.keys()],
    };
    this.currentRevision = change.revision;
    for (const { account, region } of tx.regionsSetUp) this.regions.add(`${account}/${region}`);
    const previousGroups = new Map<string, GroupRecord>();
    for (const [id, write] of tx.writes) {
      const map = this.records[write.kind] as Map<string, ResourceRecord>;
      if (write.kind === "group") {
        const previous = map.get(id) as GroupRecord | undefined;
        if (previous) previousGroups.set(id, previous);
      }
      if (write.record === null) map.delete(id);
      else map.set(id, write.record);
    }
    const batch = this.batch ?? this.openBatch();
    batch.commits.push({ tx, change, previousGroups });
    return { revision: change.revision, durable: batch.durable };
  }

  private openBatch(): Batch {
    let resolve = () => {};
    let reject: (error: Error) => void = () => {};
    const durable = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    // every commit of the batch awaits it; this keeps a failure nobody else awaits from being unhandled
    durable.catch(() => {});
    const batch = { commits: [], durable, resolve, reject };
    this.batch = batch;
    setImmediate(() => this.flush());
    return batch;
  }

  private flush(): void {
    const batch = this.batch;
    if (!batch) return;
    this.batch = undefined;
    const statuses = [...this.statuses.values()];
    this.statuses = new Map();
    try {
      this.commitStatement(batch.commits, statuses);
    } catch (error) {
      // SQLite rolled the batch back; memory follows it, and the revisions are handed out again.
      try {
        this.loadRecords();
      } catch (reloadError) {
        this.failure = new Error(`the store cannot read its data back and stopped: ${String(reloadError)}`);
      }
      batch.reject(new Error(`the store could not write to disk: ${String(error)}`));
      return;
    }
    batch.resolve();
    for (const entry of batch.commits) this.events.emit("change", entry.change);
  }

  /**
   * Resolves once nothing is waiting to be written: what is in memory then is on disk. Readers
   * outside a request (the agent feed, the lab) read only then, so they never see a commit that
   * might be undone.
   */
  async settled(): Promise<void> {
    while (this.batch) await this.batch.durable.catch(() => {});
    // memory that could not be brought back to what is on disk must not be read as if it were
    if (this.failure) throw this.failure;
  }

  /** Read-only view of the committed state. */
  view(): Transaction {
    return new Transaction(this.records);
  }

  onChange(listener: (change: Change) => void): () => void {
    this.events.on("change", listener);
    return () => this.events.off("change", listener);
  }

  changesSince(revision: number, limit = 1000): Change[] {
    const rows = this.statement("SELECT * FROM changes WHERE revision > ? ORDER BY revision LIMIT ?").all(
      revision,
      limit,
    ) as {
      revision: number;
      at: string;
      account: string;
      region: string;
      action: string;
      request_id: string;
      ids: string;
    }[];
    return rows.map((row) => ({
      revision: row.revision,
      at: row.at,
      account: row.account,
      region: row.region,
      action: row.action,
      requestId: row.request_id,
      ids: JSON.parse(row.ids) as string[],
    }));
  }

  /** Whether the account's region was set up (default VPC and so on) by a committed transaction. */
  isRegionSetUp(account: string, region: string): boolean {
    return this.regions.has(`${account}/${region}`);
  }

  addAccessKey(key: AccessKey): void {
    this.statement(
      "INSERT INTO access_keys (access_key_id, secret_access_key, account_id, created_at) VALUES (?, ?, ?, ?)",
    ).run(key.accessKeyId, key.secretAccessKey, key.accountId, key.createdAt);
    this.keys.set(key.accessKeyId, key);
  }

  /** Keys added by `ringfence keys add` while the server runs are found in SQLite on first use. */
  accessKey(accessKeyId: string): AccessKey | undefined {
    const cached = this.keys.get(accessKeyId);
    if (cached) return cached;
    const row = this.statement("SELECT * FROM access_keys WHERE access_key_id = ?").get(accessKeyId) as
      | { access_key_id: string; secret_access_key: string; account_id: string; created_at: string }
      | undefined;
    if (!row) return undefined;
    const key = {
      accessKeyId: row.access_key_id,
      secretAccessKey: row.secret_access_key,
      accountId: row.account_id,
      createdAt: row.created_at,
    };
    this.keys.set(key.accessKeyId, key);
    return key;
  }

  accessKeys(): AccessKey[] {
    return [...this.keys.values()];
  }

  addAgentToken(tokenSha256: string, instanceId: string): void {
    this.statement("INSERT INTO agent_tokens (token_sha256, instance_id, created_at) VALUES (?, ?, ?)").run(
      tokenSha256,
      instanceId,
      new Date().toISOString(),
    );
  }

  /** Removes every token of the instance; returns how many there were. */
  removeAgentTokens(instanceId: string): number {
    return this.statement("DELETE FROM agent_tokens WHERE instance_id = ?").run(instanceId).changes;
  }

  agentTokenInstance(tokenSha256: string): string | undefined {
    const row = this.statement("SELECT instance_id FROM agent_tokens WHERE token_sha256 = ?").get(
      tokenSha256,
    ) as { instance_id: string } | undefined;
    return row?.instance_id;
  }

  /**
   * Status reports are kept until the next group flush, the newest per instance: a fleet's reports
   * share one SQL transaction (one fsync with `--durability full`) instead of one each.
   */
  saveAgentStatus(status: AgentStatus): Promise<void> {
    this.statuses.set(status.instanceId, status);
    return (this.batch ?? this.openBatch()).durable;
  }

  agentStatuses(): AgentStatus[] {
    return (
      this.statement("SELECT doc FROM agent_status ORDER BY instance_id").all() as { doc: string }[]
    ).map((row) => JSON.parse(row.doc) as AgentStatus);
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}

/** The stored form of a record: a group without its rules, which are rows of their own. */
function storedDoc(record: ResourceRecord): unknown {
  if (record.kind !== "group") return record;
  const { rules: _rules, ...group } = record;
  return group;
}

/** Whether two versions of a group agree on everything but their rules (records are immutable). */
function sameExceptRules(a: GroupRecord, b: GroupRecord): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (key !== "rules" && a[key as keyof GroupRecord] !== b[key as keyof GroupRecord]) return false;
  }
  return true;
}

/**
 * The time as ISO text, formatted once per millisecond: under load several commits share one, and
 * formatting it was half of a commit's bookkeeping in the profile.
 */
class IsoClock {
  private ms = -1;
  private text = "";
  now(): string {
    const ms = Date.now();
    if (ms !== this.ms) {
      this.ms = ms;
      this.text = new Date(ms).toISOString();
    }
    return this.text;
  }
}
