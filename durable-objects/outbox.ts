// History writes from an object to D1, made durable first: a transition is stored in the object's
// own SQLite in the same synchronous step as the state change, then flushed to D1 in batches.
// A failed flush stays in the outbox and is retried by the object's alarm, so no event is lost.
// Pending transitions are mirrored in memory, so a flush reads nothing back from storage.
import { transitionBatch, type Transition } from "../workers/ucs/interactions.ts";
import { appendEvent, type NewLogEvent } from "../workers/ucs/event-log.ts";

/** What an outbox carries: an interaction's transition (its history row, and by trigger its log
 *  entry), or an event for the log alone (an agent's presence). */
export type OutboxItem = Transition | { log: NewLogEvent };

const BATCH = 50;
/** A failed flush is tried again this much later (by the owner's alarm). */
const RETRY_MS = 5_000;
/** How long a flush waits for more events: a queue's "queued" and "offered" land in one D1 batch. */
const LINGER_MS = 15;

/** The owning object creates this table with its own schema. */
export const OUTBOX_DDL = "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);";

export class Outbox {
  private flushing: Promise<void> | null = null;
  private again = false;
  private readonly queue: { seq: number; t: OutboxItem }[] = [];
  private readonly sql: SqlStorage;
  /** The tenant's shard, resolved at each flush (a move may have switched it). */
  private readonly shard: () => Promise<D1Database>;
  private readonly onFailure: (retryAt: number) => void;
  /** This outbox's incarnation: with an entry's number, the reference D1 skips on a replay. */
  private readonly epoch: string;

  /** `onFailure` is told when to try again: the owner arms its alarm for then. */
  constructor(sql: SqlStorage, shard: () => Promise<D1Database>, onFailure: (retryAt: number) => void) {
    this.sql = sql;
    this.shard = shard;
    this.onFailure = onFailure;
    sql.exec("CREATE TABLE IF NOT EXISTS outbox_epoch (v TEXT NOT NULL)");
    this.epoch = sql.exec<{ v: string }>("SELECT v FROM outbox_epoch").toArray()[0]?.v ?? sql.exec<{ v: string }>("INSERT INTO outbox_epoch (v) VALUES (?) RETURNING v", crypto.randomUUID()).one().v;
    for (const r of sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM outbox ORDER BY seq")) this.queue.push({ seq: r.seq, t: JSON.parse(r.body) as OutboxItem });
  }

  add(t: OutboxItem): void {
    const { seq } = this.sql.exec<{ seq: number }>("INSERT INTO outbox (body) VALUES (?) RETURNING seq", JSON.stringify(t)).one();
    this.queue.push({ seq, t });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** When the owner's alarm must come back for what is still pending, or null when nothing is. */
  retryAt(now: number): number | null {
    return this.queue.length > 0 ? now + RETRY_MS : null;
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
        this.onFailure(Date.now() + RETRY_MS);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Erasure: what is pending about these interactions is written first (so nothing about them lands
   *  after they are gone); whatever cannot be written now is dropped with them. Answers how many. */
  async forget(ids: ReadonlySet<string>): Promise<number> {
    await this.flush();
    const about = (t: OutboxItem) => ids.has("log" in t ? (t.log.subject ?? "") : t.id);
    const gone = this.queue.filter((q) => about(q.t));
    for (const g of gone) this.sql.exec("DELETE FROM outbox WHERE seq = ?", g.seq);
    this.queue.splice(0, this.queue.length, ...this.queue.filter((q) => !about(q.t)));
    return gone.length;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const db = await this.shard();
      const rows = this.queue.slice(0, BATCH);
      // In order: runs of transitions batched as before, log events between them where they came.
      const st: D1PreparedStatement[] = [];
      let run: Transition[] = [];
      const flushRun = () => (run.length && st.push(...transitionBatch(db, run)), (run = []));
      for (const r of rows) {
        // A crash after D1 took the batch but before the rows below are deleted replays it: the refs make that a no-op.
        const ref = `${this.epoch}:${r.seq}`;
        if ("log" in r.t) flushRun(), st.push(appendEvent(db, { ...r.t.log, ref }));
        else run.push({ ...r.t, ref });
      }
      flushRun();
      await db.batch(st);
      const last = rows[rows.length - 1]!.seq;
      this.sql.exec("DELETE FROM outbox WHERE seq <= ?", last);
      this.queue.splice(0, rows.length);
    }
  }
}
