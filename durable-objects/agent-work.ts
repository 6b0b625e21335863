// The agent's work in hand and on offer: SQLite is the durable copy, a Map mirrors it so that
// capacity checks, snapshots and timers cost no queries on the hot path.
import type { Media } from "../workers/config/schema.ts";
import type { WorkState, WorkView } from "../workers/protocol/desk.ts";
import type { QueueItem } from "./types.ts";

export type { WorkState };

export interface WorkRow {
  id: string;
  media: Media;
  queue: string;
  state: WorkState;
  offered_at: number;
  expires_at: number | null;
  accepted_at: number | null;
  entered_at: number;
  data: string;
  reason: string | null;
  [k: string]: SqlStorageValue;
}

const COLUMNS = ["id", "media", "queue", "state", "offered_at", "expires_at", "accepted_at", "entered_at", "data", "reason"] as const;

export class WorkStore {
  private readonly rows = new Map<string, WorkRow>();
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    // A claim cut short by an eviction never became an offer: release the slot. A move cut short
    // stays 'moving' until the agent has asked the receiver whether it got there (handoff.ts).
    for (const r of sql.exec<WorkRow>("SELECT * FROM work")) this.rows.set(r.id, { ...r });
    for (const r of [...this.rows.values()]) if (r.state === "reserving") this.delete(r.id);
  }

  get(id: string): WorkRow | undefined {
    return this.rows.get(id);
  }

  all(): WorkRow[] {
    return [...this.rows.values()].sort((a, b) => a.offered_at - b.offered_at);
  }

  inState(state: WorkState): WorkRow[] {
    return this.all().filter((r) => r.state === state);
  }

  put(row: Omit<WorkRow, "expires_at" | "accepted_at" | "reason"> & Partial<Pick<WorkRow, "expires_at" | "accepted_at" | "reason">>): WorkRow {
    const full: WorkRow = { expires_at: null, accepted_at: null, reason: null, ...row } as WorkRow;
    this.sql.exec(`INSERT OR REPLACE INTO work (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`, ...COLUMNS.map((c) => full[c]));
    this.rows.set(full.id, full);
    return full;
  }

  patch(id: string, fields: Partial<Omit<WorkRow, "id">>): void {
    const row = this.rows.get(id);
    if (!row) return;
    const keys = Object.keys(fields) as (keyof WorkRow)[];
    this.sql.exec(`UPDATE work SET ${keys.map((k) => `${String(k)} = ?`).join(", ")} WHERE id = ?`, ...keys.map((k) => fields[k] as SqlStorageValue), id);
    Object.assign(row, fields);
  }

  /** Deletes the row (only if it is in `state`, when given). Returns whether it did. */
  delete(id: string, state?: WorkState): boolean {
    const row = this.rows.get(id);
    if (!row || (state !== undefined && row.state !== state)) return false;
    this.sql.exec("DELETE FROM work WHERE id = ?", id);
    this.rows.delete(id);
    return true;
  }

  /** Everything held counts against capacity: offers, slots being claimed, work in hand, work being moved. */
  load(media?: Media): number {
    if (media === undefined) return this.rows.size;
    let n = 0;
    for (const r of this.rows.values()) if (r.media === media) n++;
    return n;
  }

  loadByMedia(): Partial<Record<Media, number>> {
    const out: Partial<Record<Media, number>> = {};
    for (const r of this.rows.values()) out[r.media] = (out[r.media] ?? 0) + 1;
    return out;
  }

  /** The earliest offer expiry, for the alarm. */
  nextExpiry(): number | null {
    let t: number | null = null;
    for (const r of this.rows.values()) if (r.state === "offered" && r.expires_at !== null && (t === null || r.expires_at < t)) t = r.expires_at;
    return t;
  }
}

/** A row as the desktop sees it. */
export function view(w: WorkRow): WorkView {
  return {
    interactionId: w.id, media: w.media, queue: w.queue, state: w.state, offeredAt: w.offered_at, expiresAt: w.expires_at, acceptedAt: w.accepted_at,
    item: JSON.parse(w.data) as QueueItem, reason: w.reason ? (JSON.parse(w.reason) as unknown) : null,
  };
}
