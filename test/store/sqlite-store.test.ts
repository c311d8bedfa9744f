// The store's SQLite layout: a group's rules are rows of their own, written only when they change,
// and read back in creation order; data written by the older layout (rules inside the group's
// document) is carried over on open.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import type { GroupRecord, RuleRecord } from "../../src/model/resources.js";
import { SqliteStore } from "../../src/store/sqlite-store.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ringfence-store-"));
  dirs.push(dir);
  return dir;
}

const meta = { account: "123456789012", region: "us-east-1", action: "Test", requestId: "r" };

function rule(id: string, port: number, description?: string): RuleRecord {
  return {
    id,
    egress: false,
    protocol: "tcp",
    fromPort: port,
    toPort: port,
    peer: { kind: "ipv4", cidr: "10.0.0.0/8" },
    // As JSON keeps it: a rule without a description has no such key.
    ...(description === undefined ? {} : { description }),
    tags: {},
  };
}

function group(rules: RuleRecord[]): GroupRecord {
  return {
    kind: "group",
    id: "sg-0123456789abcdef0",
    account: meta.account,
    region: meta.region,
    tags: {},
    vpcId: "vpc-0123456789abcdef0",
    name: "web",
    description: "web servers",
    isDefault: false,
    rules,
  };
}

/** Commits one change to the group: its next version, or null to delete it. */
async function write(store: SqliteStore, change: (g: GroupRecord | undefined) => GroupRecord | null) {
  const tx = store.begin();
  const before = tx.get("group", "sg-0123456789abcdef0");
  const next = change(before);
  if (next) tx.put(next);
  else if (before) tx.delete(before);
  await store.commit(tx, meta).durable;
}

/** Commits a new version of the existing group. */
const update = (store: SqliteStore, change: (g: GroupRecord) => GroupRecord) =>
  write(store, (g) => {
    assert.ok(g, "the group exists");
    return change(g);
  });

const rowCount = (dir: string, table: string): number => {
  const db = new Database(join(dir, "ringfence.db"), { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

test("rules survive a restart in creation order, with changed and removed rules applied", async () => {
  const dir = dataDir();
  const store = new SqliteStore(dir);
  await write(store, () => group([rule("sgr-000000000000000a1", 22), rule("sgr-000000000000000b2", 80)]));
  await update(store, (g) => ({ ...g, rules: [...g.rules, rule("sgr-000000000000000c3", 443)] }));
  // A description change replaces the rule object but keeps its place.
  await update(store, (g) => ({
    ...g,
    rules: g.rules.map((r) => (r.id === "sgr-000000000000000b2" ? rule(r.id, 80, "http") : r)),
  }));
  await update(store, (g) => ({ ...g, rules: g.rules.filter((r) => r.id !== "sgr-000000000000000a1") }));
  const expected = store.view().get("group", "sg-0123456789abcdef0");
  store.close();

  const reopened = new SqliteStore(dir);
  const loaded = reopened.view().get("group", "sg-0123456789abcdef0");
  assert.deepEqual(loaded, expected);
  assert.deepEqual(
    loaded?.rules.map((r) => [r.id, r.description]),
    [
      ["sgr-000000000000000b2", "http"],
      ["sgr-000000000000000c3", undefined],
    ],
  );
  assert.ok(Object.isFrozen(loaded?.rules[0]?.peer), "loaded records are immutable all the way down");
  reopened.close();
  assert.equal(rowCount(dir, "rules"), 2);
});

test("deleting a group deletes its rule rows", async () => {
  const dir = dataDir();
  const store = new SqliteStore(dir);
  await write(store, () => group([rule("sgr-000000000000000a1", 22), rule("sgr-000000000000000b2", 80)]));
  await write(store, () => null);
  store.close();
  assert.equal(rowCount(dir, "rules"), 0);
  assert.equal(rowCount(dir, "resources"), 0);
  const reopened = new SqliteStore(dir);
  assert.equal(reopened.view().get("group", "sg-0123456789abcdef0"), undefined);
  reopened.close();
});

/** A data directory as an older release left it: `resources`, the given SQL, one group's document. */
function olderDataDir(
  sql: string,
  stored: Omit<GroupRecord, "rules">,
): { dir: string; db: Database.Database } {
  const dir = dataDir();
  const db = new Database(join(dir, "ringfence.db"));
  db.exec(
    `CREATE TABLE resources (id TEXT PRIMARY KEY, kind TEXT NOT NULL, account TEXT NOT NULL, region TEXT NOT NULL, doc TEXT NOT NULL); ${sql}`,
  );
  db.prepare("INSERT INTO resources VALUES (?, 'group', ?, ?, ?)").run(
    stored.id,
    stored.account,
    stored.region,
    JSON.stringify(stored),
  );
  return { dir, db };
}

test("a data directory of the older layout, rules inside the group, is carried over", async () => {
  const old = group([rule("sgr-000000000000000a1", 22), rule("sgr-000000000000000b2", 80)]);
  const { dir, db } = olderDataDir("", old);
  db.close();

  const store = new SqliteStore(dir);
  assert.deepEqual(store.view().get("group", old.id), old);
  // The next change writes only what changed; the carried-over rules must still be there after it.
  await update(store, (g) => ({ ...g, rules: [...g.rules, rule("sgr-000000000000000c3", 443)] }));
  store.close();
  const reopened = new SqliteStore(dir);
  assert.deepEqual(
    reopened
      .view()
      .get("group", old.id)
      ?.rules.map((r) => r.id),
    ["sgr-000000000000000a1", "sgr-000000000000000b2", "sgr-000000000000000c3"],
  );
  reopened.close();
});

test("a data directory of schema 1, rule rows keyed by rule id, is carried over in creation order", async () => {
  const rules = [rule("sgr-000000000000000f1", 22), rule("sgr-000000000000000a2", 80, "http")];
  const { rules: _, ...stored } = group(rules);
  const { dir, db } = olderDataDir(
    "CREATE TABLE rules (id TEXT PRIMARY KEY, group_id TEXT NOT NULL, doc TEXT NOT NULL); PRAGMA user_version = 1;",
    stored,
  );
  // Inserted in creation order, which is not the order of the ids.
  for (const r of rules)
    db.prepare("INSERT INTO rules VALUES (?, ?, ?)").run(r.id, stored.id, JSON.stringify(r));
  db.close();

  const store = new SqliteStore(dir);
  assert.deepEqual(store.view().get("group", stored.id), group(rules));
  await update(store, (g) => ({
    ...g,
    rules: [...g.rules.filter((r) => r.id !== "sgr-000000000000000f1"), rule("sgr-000000000000000b3", 443)],
  }));
  await update(store, (g) => ({
    ...g,
    rules: g.rules.map((r) => (r.id === "sgr-000000000000000a2" ? { ...r, description: "web" } : r)),
  }));
  store.close();
  const reopened = new SqliteStore(dir);
  assert.deepEqual(
    reopened
      .view()
      .get("group", stored.id)
      ?.rules.map((r) => [r.id, r.description]),
    [
      ["sgr-000000000000000a2", "web"],
      ["sgr-000000000000000b3", undefined],
    ],
  );
  reopened.close();
  assert.equal(rowCount(dir, "rules"), 2);
  const check = new Database(join(dir, "ringfence.db"), { readonly: true });
  const tables = check
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rules%'")
    .all();
  check.close();
  assert.deepEqual(tables, [{ name: "rules" }]);
});

test("random appends, removals and in-place changes of rules read back exactly as written", async () => {
  const dir = dataDir();
  const store = new SqliteStore(dir);
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  let next = 0;
  const fresh = () => rule(`sgr-${(next++).toString(16).padStart(17, "0")}`, 1000 + next);
  await write(store, () => group([fresh(), fresh()]));
  for (let step = 0; step < 300; step++) {
    await update(store, (g) => {
      const rules = [...g.rules];
      const kind = random(4);
      if (kind === 0 || rules.length < 2) rules.push(...Array.from({ length: 1 + random(3) }, fresh));
      else if (kind === 1) rules.splice(random(rules.length), 1 + random(2));
      else if (kind === 2) {
        const k = random(rules.length);
        rules[k] = { ...(rules[k] as RuleRecord), description: `d${step}` };
      } else {
        rules.splice(random(rules.length), 1);
        rules.push(fresh());
      }
      return { ...g, rules };
    });
  }
  const written = store.view().get("group", "sg-0123456789abcdef0");
  store.close();
  const reopened = new SqliteStore(dir);
  assert.deepEqual(reopened.view().get("group", "sg-0123456789abcdef0"), written);
  reopened.close();
  assert.equal(rowCount(dir, "rules"), written?.rules.length);
});

test("a data directory of a newer layout is refused, and left as it was", () => {
  const { rules: _, ...stored } = group([]);
  const { dir, db } = olderDataDir("PRAGMA user_version = 3;", stored);
  db.close();
  assert.throws(() => new SqliteStore(dir), /layout 3, written by a newer ringfence/);
  const check = new Database(join(dir, "ringfence.db"), { readonly: true });
  assert.equal(check.pragma("user_version", { simple: true }), 3);
  assert.deepEqual(check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(), [
    { name: "resources" },
  ]);
  check.close();
});

test("a change to the group itself is written even when its rules stay the same", async () => {
  const dir = dataDir();
  const store = new SqliteStore(dir);
  await write(store, () => group([rule("sgr-000000000000000a1", 22)]));
  await update(store, (g) => ({ ...g, tags: { Name: "web" } }));
  store.close();
  const reopened = new SqliteStore(dir);
  const loaded = reopened.view().get("group", "sg-0123456789abcdef0");
  assert.deepEqual(loaded?.tags, { Name: "web" });
  assert.deepEqual(
    loaded?.rules.map((r) => r.id),
    ["sgr-000000000000000a1"],
  );
  reopened.close();
});

/** Makes SQLite refuse, from another connection, every later change row of `action`. */
function failWrites(dir: string, action: string): () => void {
  const db = new Database(join(dir, "ringfence.db"));
  db.exec(`CREATE TRIGGER fail_${action} BEFORE INSERT ON changes WHEN NEW.action = '${action}'
    BEGIN SELECT RAISE(ABORT, 'injected write failure'); END`);
  return () => {
    db.exec(`DROP TRIGGER fail_${action}`);
    db.close();
  };
}

test("a batch SQLite refuses is undone in memory: no reader sees it and its revisions are handed out again", async () => {
  const dir = dataDir();
  const store = new SqliteStore(dir);
  await write(store, () => group([rule("sgr-00000000000000001", 22)]));
  const revision = store.revision;
  const restore = failWrites(dir, "Fail");
  const changes: number[] = [];
  store.onChange((change) => changes.push(change.revision));

  // two requests in one turn of the event loop share a batch; the refused one fails both
  const good = store.begin();
  good.put({ ...(good.get("group", "sg-0123456789abcdef0") as GroupRecord), name: "renamed" });
  const goodCommit = store.commit(good, meta);
  const bad = store.begin();
  bad.put({ ...(bad.get("group", "sg-0123456789abcdef0") as GroupRecord), rules: [] });
  const badCommit = store.commit(bad, { ...meta, action: "Fail" });
  // a read that saw those commits in memory is answered only if they reach the disk
  const read = store.begin();
  assert.equal(read.get("group", "sg-0123456789abcdef0")?.rules.length, 0);
  const readCommit = store.commit(read, meta);
  assert.equal(store.revision, revision + 2);

  await assert.rejects(goodCommit.durable, /could not write to disk/);
  await assert.rejects(badCommit.durable, /could not write to disk/);
  await assert.rejects(readCommit.durable, /could not write to disk/);
  await store.settled();
  const now = store.view().get("group", "sg-0123456789abcdef0");
  assert.equal(now?.name, "web");
  assert.deepEqual(
    now?.rules.map((r) => r.id),
    ["sgr-00000000000000001"],
  );
  assert.equal(store.revision, revision);
  assert.deepEqual(changes, [], "nothing that failed reached the change feed");

  // the store goes on: the next change gets the next revision, the rule removal included
  restore();
  await write(store, (g) => ({ ...(g as GroupRecord), rules: [] }));
  assert.equal(store.revision, revision + 1);
  assert.deepEqual(changes, [revision + 1]);
  store.close();
  const reopened = new SqliteStore(dir);
  assert.equal(reopened.revision, revision + 1);
  assert.deepEqual(reopened.view().get("group", "sg-0123456789abcdef0")?.rules, []);
  reopened.close();
});

test("a read-only request waits for the commits it may have seen, and for nothing when there are none", async () => {
  const dir = dataDir();
  const store = new SqliteStore(dir);
  const first = await Promise.race([
    store.commit(store.begin(), meta).durable.then(() => "read"),
    new Promise((resolve) => setImmediate(() => resolve("next turn"))),
  ]);
  assert.equal(first, "read", "nothing pending: the read is answered at once");
  const tx = store.begin();
  tx.put(group([]));
  store.commit(tx, meta);
  await store.commit(store.begin(), meta).durable;
  assert.equal(rowCount(dir, "changes"), 1, "the read was answered only once the write was on disk");
  store.close();
});

test("when memory cannot be read back from disk after a refused batch, nothing is served from it", async () => {
  const dir = dataDir();
  const store = new SqliteStore(dir);
  await write(store, () => group([]));
  const restore = failWrites(dir, "Fail");
  // the reload after the refused batch reads this table, which is gone
  const other = new Database(join(dir, "ringfence.db"));
  other.exec("DROP TABLE regions");
  other.close();
  const tx = store.begin();
  tx.put({ ...(tx.get("group", "sg-0123456789abcdef0") as GroupRecord), name: "lost" });
  await assert.rejects(store.commit(tx, { ...meta, action: "Fail" }).durable, /could not write to disk/);
  await assert.rejects(store.settled(), /cannot read its data back/);
  assert.throws(() => store.commit(store.begin(), meta), /cannot read its data back/);
  restore();
  store.close();
});
