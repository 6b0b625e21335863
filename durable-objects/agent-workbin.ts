// The agent's own workbin: parked work that no longer counts against capacity, in the object's SQLite.
import type { Media } from "../workers/config/schema.ts";
import type { QueueItem, WorkbinEntry } from "./types.ts";

export const WORKBIN_DDL = "CREATE TABLE IF NOT EXISTS workbin (id TEXT PRIMARY KEY, media TEXT NOT NULL, queue TEXT NOT NULL, data TEXT NOT NULL, parked_at INTEGER NOT NULL, parked_by TEXT NOT NULL);";

interface Row {
  id: string;
  media: Media;
  queue: string;
  data: string;
  parked_at: number;
  parked_by: string;
  [k: string]: SqlStorageValue;
}

const entry = (r: Row): WorkbinEntry => ({ interactionId: r.id, media: r.media, queue: r.queue, item: JSON.parse(r.data) as QueueItem, parkedAt: r.parked_at, parkedBy: r.parked_by });

export class AgentWorkbin {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM workbin").one().n;
  }

  has(id: string): boolean {
    return this.sql.exec("SELECT 1 FROM workbin WHERE id = ?", id).toArray().length > 0;
  }

  /** The entry with its item still as stored JSON (it goes back into the work table as is). */
  raw(id: string): { media: Media; queue: string; data: string } | undefined {
    return this.sql.exec<Row>("SELECT * FROM workbin WHERE id = ?", id).toArray()[0];
  }

  put(e: WorkbinEntry, data = JSON.stringify(e.item)): void {
    this.sql.exec("INSERT INTO workbin (id, media, queue, data, parked_at, parked_by) VALUES (?, ?, ?, ?, ?, ?)", e.interactionId, e.media, e.queue, data, e.parkedAt, e.parkedBy);
  }

  delete(id: string): void {
    this.sql.exec("DELETE FROM workbin WHERE id = ?", id);
  }

  list(): WorkbinEntry[] {
    return this.sql.exec<Row>("SELECT * FROM workbin ORDER BY parked_at").toArray().map(entry);
  }
}
