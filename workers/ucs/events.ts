// interaction_events, the append-only history: every insert into it is built here, so the event
// log (and whatever reads it next) has one writer to follow.

/** A field taken from the interaction's row as it is when the event is written. */
export const AS_IS = Symbol("as the interaction's row has it");
type Field = string | null | typeof AS_IS;

export interface EventInput {
  tenant: string;
  interaction: string;
  at: number;
  actor: string;
  action: string;
  from?: Field;
  to?: Field;
  queue?: Field;
  agent?: Field;
  /** Stored as JSON. */
  reason?: unknown;
  /** The writer's own reference (an object's outbox entry): a second insert with it is skipped. */
  ref?: string;
}

/** A condition the insert is made under, in the same statement: "changes() = 1" after an
 *  INSERT … ON CONFLICT DO NOTHING writes the event only if that row was new. */
export interface EventGuard {
  sql: string;
  params: (string | number | null)[];
}

const COLS = "tenant_id, interaction_id, at, actor, action, from_state, to_state, queue, agent_id, reason";
const ROW_COLS = { from: "state", to: "state", queue: "queue", agent: "agent_id" } as const;
/** SQLite takes at most 100 bound parameters per statement in D1. */
const PER_INSERT = 10;

const reasonJson = (r: unknown) => (r === undefined || r === null ? null : JSON.stringify(r));
const usesRow = (e: EventInput) => e.from === AS_IS || e.to === AS_IS || e.queue === AS_IS || e.agent === AS_IS;

/** Statements appending `events` in order (one statement per ten literal events; one each for
 *  events that copy fields from their interaction's row, written only if that row exists). */
export function eventStatements(db: D1Database, events: EventInput[], guard?: EventGuard): D1PreparedStatement[] {
  const out: D1PreparedStatement[] = [];
  let literal: EventInput[] = [];
  const flush = () => {
    // Ten events of ten columns (eleven with a ref: nine then) stay under D1's 100 parameters.
    const per = literal.some((e) => e.ref !== undefined) ? PER_INSERT - 1 : PER_INSERT;
    for (let i = 0; i < literal.length; i += per) out.push(literalInsert(db, literal.slice(i, i + per), guard));
    literal = [];
  };
  for (const e of events) {
    if (!usesRow(e)) {
      literal.push(e);
      continue;
    }
    flush();
    const sel: string[] = [];
    const vals: (string | number | null)[] = [e.tenant, e.interaction, e.at, e.actor, e.action];
    for (const k of ["from", "to", "queue", "agent"] as const) {
      const v = e[k];
      if (v === AS_IS) sel.push(ROW_COLS[k]);
      else sel.push("?"), vals.push(v ?? null);
    }
    vals.push(reasonJson(e.reason), e.tenant, e.interaction);
    const cond = guard ? ` AND (${guard.sql})` : "";
    out.push(
      db.prepare(`INSERT INTO interaction_events (${COLS}) SELECT ?, ?, ?, ?, ?, ${sel.join(", ")}, ? FROM interactions WHERE tenant_id = ? AND id = ?${cond}`).bind(...vals, ...(guard?.params ?? [])),
    );
  }
  flush();
  return out;
}

function literalInsert(db: D1Database, chunk: EventInput[], guard?: EventGuard): D1PreparedStatement {
  if (chunk.some((e) => e.ref !== undefined)) return refInsert(db, chunk);
  const vals = chunk.flatMap((e) => [e.tenant, e.interaction, e.at, e.actor, e.action, lit(e.from), lit(e.to), lit(e.queue), lit(e.agent), reasonJson(e.reason)]);
  const rows = chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
  if (!guard) return db.prepare(`INSERT INTO interaction_events (${COLS}) VALUES ${rows}`).bind(...vals);
  return db.prepare(`INSERT INTO interaction_events (${COLS}) SELECT * FROM (VALUES ${rows}) WHERE ${guard.sql}`).bind(...vals, ...guard.params);
}

/** Entries from an object's outbox, replayed after a crash as often as it takes, written once. */
function refInsert(db: D1Database, chunk: EventInput[]): D1PreparedStatement {
  const vals = chunk.flatMap((e) => [e.tenant, e.interaction, e.at, e.actor, e.action, lit(e.from), lit(e.to), lit(e.queue), lit(e.agent), reasonJson(e.reason), e.ref ?? null]);
  const rows = chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
  // Only for an interaction still there: an erased one's late entry is not brought back.
  return db
    .prepare(
      `INSERT INTO interaction_events (${COLS}, ref) SELECT * FROM (VALUES ${rows}) AS v
       WHERE EXISTS (SELECT 1 FROM interactions i WHERE i.tenant_id = v.column1 AND i.id = v.column2)
       ON CONFLICT (tenant_id, ref) WHERE ref IS NOT NULL DO NOTHING`,
    )
    .bind(...vals);
}

const lit = (v: Field | undefined): string | null => (v === AS_IS || v === undefined ? null : v);
