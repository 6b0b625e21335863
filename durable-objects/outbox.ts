// History writes from an object to D1, made durable first: a transition is stored in the object's
// own SQLite in the same synchronous step as the state change, then flushed to D1 in batches.
// A failed flush stays in the outbox and is retried by the object's alarm, so no event is lost.
import { transitionBatch, type Transition } from "../workers/ucs/interactions.ts";

const BATCH = 50;
/** How long a flush waits for more events: a queue's "queued" and "offered" land in one D1 batch. */
const LINGER_MS = 15;

export class Outbox {
  private flushing: Promise<void> | null = null;
  private again = false;
  private count: number;
  private readonly sql: SqlStorage;
  private readonly db: D1Database;
  private readonly onFailure: () => void;

  constructor(sql: SqlStorage, db: D1Database, onFailure: () => void) {
    this.sql = sql;
    this.db = db;
    this.onFailure = onFailure;
    sql.exec("CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)");
    this.count = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
  }

  add(t: Transition): void {
    this.sql.exec("INSERT INTO outbox (body) VALUES (?)", JSON.stringify(t));
    this.count++;
  }

  get pending(): number {
    return this.count;
  }

  /** Flushes everything queued so far, after a short linger; concurrent calls share one run, which
   *  picks up what arrives meanwhile. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      try {
        await new Promise((r) => setTimeout(r, LINGER_MS));
        do {
          this.again = false;
          await this.drain();
        } while (this.again);
      } catch (err) {
        console.error("outbox flush failed; will retry", err);
        this.onFailure();
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.count > 0) {
      const rows = this.sql.exec<{ seq: number; body: string }>(`SELECT seq, body FROM outbox ORDER BY seq LIMIT ${BATCH}`).toArray();
      if (rows.length === 0) {
        this.count = 0;
        return;
      }
      await this.db.batch(transitionBatch(this.db, rows.map((r) => JSON.parse(r.body) as Transition)));
      this.sql.exec("DELETE FROM outbox WHERE seq <= ?", rows[rows.length - 1]!.seq);
      this.count = Math.max(0, this.count - rows.length);
    }
  }
}
