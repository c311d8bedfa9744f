// One server per data directory. Two servers on one directory would each keep their own copy of
// the records in memory and drift apart, so a server holds an exclusive SQLite lock on a file of
// its own (`server.lock`) for as long as it runs. The kernel drops the lock when the process ends,
// however it ends (kill -9 included), so no stale lock is ever left to clear by hand. Offline
// commands (`ringfence keys`, `agents token`) open the database itself and need no lock.

import { join } from "node:path";
import Database from "better-sqlite3";
import { makeDataDir } from "./sqlite-store.js";

export class DataDirLockedError extends Error {}

export class DataDirLock {
  private constructor(private readonly db: Database.Database) {}

  /** Throws DataDirLockedError while another process holds the directory. */
  static take(dataDir: string): DataDirLock {
    makeDataDir(dataDir);
    const db = new Database(join(dataDir, "server.lock"), { timeout: 0 });
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      // the first write takes the exclusive lock, which EXCLUSIVE mode keeps until close
      db.exec("BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS held (at TEXT); COMMIT");
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === "SQLITE_BUSY") {
        throw new DataDirLockedError(`another ringfence server is running on the data directory ${dataDir}`);
      }
      throw error;
    }
    return new DataDirLock(db);
  }

  release(): void {
    this.db.close();
  }
}
