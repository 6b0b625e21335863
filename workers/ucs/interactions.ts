// Interactions and their append-only history in D1.
import type { Attributes, Media } from "../config/schema.ts";
import { notFound } from "../kernel/errors.ts";
import { newId } from "../kernel/ids.ts";
import { AS_IS, eventStatements, type EventGuard, type EventInput } from "./events.ts";
import { searchEntry } from "./search.ts";
import type { HistoryEvent, InteractionRow, InteractionState } from "./interaction-types.ts";

export type { HistoryEvent, InteractionRow, InteractionState } from "./interaction-types.ts";


export interface Transition {
  tenant: string;
  id: string;
  at: number;
  actor: string;
  action: string;
  from?: InteractionState | null;
  to: InteractionState;
  queue?: string | null;
  agent?: string | null;
  workbin?: string | null;
  reason?: unknown;
  /** Set by an object's outbox as it flushes: its replay after a crash writes nothing twice. */
  ref?: string;
  priority?: number;
  categories?: string[];
  attributes?: Attributes;
}

/** The row's current state, moved only forward: objects write concurrently, so an older
 *  transition arriving late must not undo a newer one. */
function stateUpdate(db: D1Database, t: Transition): D1PreparedStatement {
  const sets = ["state = ?", "queue = ?", "agent_id = ?", "workbin = ?", "updated_at = ?"];
  const vals: (string | number | null)[] = [t.to, t.queue ?? null, t.agent ?? null, t.workbin ?? null, t.at];
  if (t.priority !== undefined) sets.push("priority = ?"), vals.push(t.priority);
  if (t.categories !== undefined) sets.push("categories = ?"), vals.push(JSON.stringify(t.categories));
  if (t.attributes !== undefined) sets.push("attributes = ?"), vals.push(JSON.stringify(t.attributes));
  if (t.to === "done" || t.to === "stopped") sets.push("done_at = ?"), vals.push(t.at);
  return db.prepare(`UPDATE interactions SET ${sets.join(", ")} WHERE tenant_id = ? AND id = ? AND updated_at <= ?`).bind(...vals, t.tenant, t.id, t.at);
}

/** Statements for a run of transitions, in order: every event appended, and for each interaction
 *  only its last state written (the earlier ones would be overwritten in the same batch anyway). */
export function transitionBatch(db: D1Database, ts: Transition[]): D1PreparedStatement[] {
  const out = eventStatements(
    db,
    ts.map((t) => ({ tenant: t.tenant, interaction: t.id, at: t.at, actor: t.actor, action: t.action, from: t.from ?? null, to: t.to, queue: t.queue ?? null, agent: t.agent ?? null, reason: t.reason, ...(t.ref ? { ref: t.ref } : {}) })),
  );
  const last = new Map<string, Transition>();
  for (const t of ts) {
    const key = `${t.tenant}/${t.id}`;
    const prev = last.get(key);
    // Fields a later transition does not carry (priority, categories, attributes) are kept from earlier ones.
    last.set(key, prev ? { ...t, priority: t.priority ?? prev.priority, categories: t.categories ?? prev.categories, attributes: t.attributes ?? prev.attributes } : t);
  }
  for (const t of last.values()) out.push(stateUpdate(db, t));
  return out;
}

export interface NewInteraction {
  tenant: string;
  externalId?: string;
  media: Media;
  channel: string;
  direction: "inbound" | "outbound" | "internal";
  subject?: string;
  text?: string;
  threadId?: string;
  parentId?: string;
  contactId?: string;
  queue: string;
  priority: number;
  categories: string[];
  attributes: Attributes;
  actor: string;
  /** The workflow entry it came through. */
  workflow?: string;
  /** Further parts (attachments in R2, HTML), written in the same transaction as the interaction. */
  parts?: NewPart[];
  /** The new interaction's id (a caller that writes more rows about it in the same batch needs it first). */
  id?: string;
  /** More statements for the same batch, after the interaction's (a door's own record of the message):
   *  one round trip for all of it. They run whether or not the insert won, so they must be idempotent. */
  also?: D1PreparedStatement[];
}

export interface NewPart {
  kind: "text" | "html" | "attachment";
  content?: string | null;
  r2Key?: string | null;
  contentType?: string | null;
  name?: string | null;
  size?: number | null;
  sha256?: string | null;
  contentId?: string | null;
}

/** The 'created' event every new interaction starts its history with. */
const createdEvent = (n: NewInteraction, id: string, at: number, reason?: unknown): EventInput => ({
  tenant: n.tenant, interaction: id, at, actor: n.actor, action: "created", to: "new", queue: n.queue, reason,
});

/** The row's values from tenant_id to contact_id, then from queue to updated_at. */
const headValues = (n: NewInteraction, id: string) => [n.tenant, id, n.externalId ?? null, n.media, n.channel, n.direction, n.subject ?? null, n.threadId ?? id, n.parentId ?? null, n.contactId ?? null];
const tailValues = (n: NewInteraction, at: number) => [n.queue, n.priority, JSON.stringify(n.categories), JSON.stringify(n.attributes), at, at];

export interface GuardedCreate {
  /** Named by the caller, whose own rows in the batch point at it. */
  id: string;
  at: number;
  /** Nothing is written unless this holds (e.g. the received message's own row went in). */
  guard: EventGuard;
  /** Why the 'created' event happened. */
  reason?: unknown;
  /** Created already stopped (spam, say): done at once, its 'stopped' event right after 'created'. */
  stopped?: { actor: string; reason: unknown };
}

/** A new interaction and its first event(s) as statements for the caller's own atomic batch, each
 *  written only under `g.guard`: for a door whose idempotency lives in its own row (a received
 *  message's Message-ID) and which adds its own statements under the same guard. Text and parts are
 *  the caller's. */
export function guardedInteractionStatements(db: D1Database, n: NewInteraction, g: GuardedCreate): D1PreparedStatement[] {
  const ins = db
    .prepare(
      `INSERT INTO interactions (tenant_id, id, external_id, media, channel, direction, subject, thread_id, parent_id, contact_id, state, queue, priority, categories, attributes, created_at, updated_at, done_at, workflow)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${g.guard.sql}`,
    )
    .bind(...headValues(n, g.id), g.stopped ? "stopped" : "new", ...tailValues(n, g.at), g.stopped ? g.at : null, n.workflow ?? null, ...g.guard.params);
  const st = [ins, ...eventStatements(db, [createdEvent(n, g.id, g.at, g.reason)], g.guard)];
  if (g.stopped)
    st.push(...eventStatements(db, [{ tenant: n.tenant, interaction: g.id, at: g.at, actor: g.stopped.actor, action: "stopped", from: "new", to: "stopped", queue: n.queue, reason: g.stopped.reason }], g.guard));
  return st;
}

/** Writes a new interaction, its text and its first event. Idempotent on externalId: a repeat
 *  returns the first one's id with created=false and writes nothing. */
export async function createInteraction(db: D1Database, n: NewInteraction): Promise<{ id: string; created: boolean; state: InteractionState; queue: string }> {
  const id = n.id ?? newId("i");
  const now = Date.now();
  const ins = db
    .prepare(
      `INSERT INTO interactions (tenant_id, id, external_id, media, channel, direction, subject, thread_id, parent_id, contact_id, state, queue,
         priority, categories, attributes, created_at, updated_at, workflow)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(...headValues(n, id), ...tailValues(n, now), n.workflow ?? null);
  // The rest only applies when the insert above took place (changes() = 1), so a duplicate writes nothing.
  const guard = "WHERE changes() = 1";
  const st = [ins];
  const changed = { sql: "changes() = 1", params: [] };
  st.push(...eventStatements(db, [createdEvent(n, id, now)], changed));
  if (n.text !== undefined && n.text !== "") {
    // changes() now reflects the event insert, which happened only if the interaction did.
    st.push(
      db.prepare(`INSERT INTO message_parts (tenant_id, id, interaction_id, seq, kind, content, created_at) SELECT ?, ?, ?, 0, 'text', ?, ? ${guard}`).bind(n.tenant, newId("p"), id, n.text, now),
      searchEntry(db, { tenant: n.tenant, interactionId: id, contactId: n.contactId ?? null, body: [n.subject, n.text].filter(Boolean).join("\n") }, changed),
    );
  }
  // Guarded by the interaction's own first event, which exists only if this insert won.
  const mine = "WHERE EXISTS (SELECT 1 FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND action = 'created')";
  (n.parts ?? []).forEach((p, i) =>
    st.push(
      db.prepare(
        `INSERT INTO message_parts (tenant_id, id, interaction_id, seq, kind, content, r2_key, content_type, name, size, sha256, content_id, created_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? ${mine}`,
      ).bind(n.tenant, newId("p"), id, i + 1, p.kind, p.content ?? null, p.r2Key ?? null, p.contentType ?? null, p.name ?? null, p.size ?? null, p.sha256 ?? null, p.contentId ?? null, now, n.tenant, id),
    ),
  );
  st.push(...(n.also ?? []));
  // The winner's row, read in the same round trip: ours if the insert took place, the first one's if not.
  st.push(db.prepare("SELECT id, state, queue FROM interactions WHERE tenant_id = ? AND id = COALESCE((SELECT id FROM interactions WHERE tenant_id = ?1 AND external_id = ?), ?)").bind(n.tenant, n.externalId ?? null, id));
  const results = await db.batch<{ id: string; state: InteractionState; queue: string }>(st);
  const row = results[results.length - 1]!.results[0];
  if (!row) throw new Error("interaction vanished after insert");
  return { id: row.id, created: row.id === id, state: row.state, queue: row.queue };
}


interface RawRow {
  id: string; external_id: string | null; media: Media; channel: string; direction: string; subject: string | null; thread_id: string;
  parent_id: string | null; contact_id: string | null; state: InteractionState; queue: string | null; agent_id: string | null; workbin: string | null;
  priority: number; categories: string; attributes: string; created_at: number; updated_at: number; done_at: number | null; workflow: string | null;
}

const fromRaw = (r: RawRow): InteractionRow => ({
  id: r.id, externalId: r.external_id, media: r.media, channel: r.channel, direction: r.direction, subject: r.subject, threadId: r.thread_id,
  parentId: r.parent_id, contactId: r.contact_id, state: r.state, queue: r.queue, agentId: r.agent_id, workbin: r.workbin, priority: r.priority,
  categories: JSON.parse(r.categories) as string[], attributes: JSON.parse(r.attributes) as Attributes, createdAt: r.created_at, updatedAt: r.updated_at, doneAt: r.done_at, workflow: r.workflow,
});


export async function getInteractionRow(db: D1Database, tenant: string, id: string): Promise<InteractionRow> {
  const r = await db.prepare("SELECT * FROM interactions WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<RawRow>();
  // Another tenant's id answers exactly like an unknown one.
  if (!r) throw notFound("unknown_interaction", `no interaction '${id}'`);
  return fromRaw(r);
}


export async function getInteraction(db: D1Database, tenant: string, id: string) {
  const row = await getInteractionRow(db, tenant, id);
  const [events, parts, notes, contact, chat] = await db.batch([
    db.prepare("SELECT seq, at, actor, action, from_state, to_state, queue, agent_id, reason FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? ORDER BY seq").bind(tenant, id),
    db.prepare("SELECT id, seq, kind, content, r2_key, content_type, name, size FROM message_parts WHERE tenant_id = ? AND interaction_id = ? ORDER BY seq").bind(tenant, id),
    db.prepare("SELECT id, author, text, created_at FROM notes WHERE tenant_id = ? AND interaction_id = ? ORDER BY created_at").bind(tenant, id),
    db.prepare("SELECT c.id, c.first_name, c.last_name FROM contacts c WHERE c.tenant_id = ? AND c.id = ?").bind(tenant, row.contactId ?? ""),
    // A chat's transcript, once it has ended (until then it lives in its ChatSession).
    db.prepare("SELECT seq, author, author_name AS name, role, kind, text, visibility, at, file_type, file_size FROM chat_messages WHERE tenant_id = ? AND interaction_id = ? ORDER BY seq").bind(tenant, row.media === "chat" ? id : ""),
  ]);
  const history: HistoryEvent[] = (events!.results as Record<string, unknown>[]).map((e) => ({
    seq: e.seq as number, at: e.at as number, actor: e.actor as string, action: e.action as string, from: e.from_state as string | null,
    to: e.to_state as string | null, queue: e.queue as string | null, agentId: e.agent_id as string | null,
    reason: e.reason ? (JSON.parse(e.reason as string) as unknown) : null,
  }));
  const c = contact!.results[0] as { id: string; first_name: string | null; last_name: string | null } | undefined;
  return {
    ...row,
    contact: c ? { id: c.id, firstName: c.first_name, lastName: c.last_name } : null,
    parts: parts!.results,
    notes: (notes!.results as { id: string; author: string; text: string; created_at: number }[]).map((n) => ({ id: n.id, author: n.author, text: n.text, createdAt: n.created_at })),
    history,
    ...(row.media === "chat" ? { transcript: chat!.results } : {}),
  };
}

export async function addNote(db: D1Database, tenant: string, interactionId: string, author: string, text: string) {
  const row = await getInteractionRow(db, tenant, interactionId);
  const id = newId("n");
  const now = Date.now();
  await db.batch([
    db.prepare("INSERT INTO notes (tenant_id, id, interaction_id, contact_id, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(tenant, id, interactionId, row.contactId, author, text, now),
    ...eventStatements(db, [{ tenant, interaction: interactionId, at: now, actor: author, action: "note", from: row.state, to: row.state, queue: row.queue, agent: row.agentId }]),
  ]);
  return { id, author, text, createdAt: now };
}

export async function contactHistory(db: D1Database, tenant: string, contactId: string, limit = 50): Promise<InteractionRow[]> {
  const r = await db.prepare("SELECT * FROM interactions WHERE tenant_id = ? AND contact_id = ? ORDER BY created_at DESC LIMIT ?").bind(tenant, contactId, limit).all<RawRow>();
  return r.results.map(fromRaw);
}

/** Interactions D1 shows as waiting in a queue (or not yet queued) with no change for a while and
 *  not checked since `checkedBefore`: the sweep's candidates, never checked first. */
export async function staleQueued(db: D1Database, olderThan: number, checkedBefore: number, limit = 200): Promise<{ tenant: string; id: string; queue: string; state: InteractionState; updatedAt: number }[]> {
  const r = await db
    .prepare(
      `SELECT tenant_id, id, queue, state, updated_at FROM interactions
       WHERE state IN ('new', 'queued') AND updated_at < ? AND (swept_at IS NULL OR swept_at < ?)
         AND tenant_id NOT IN (SELECT tenant_id FROM tenant_fences)
       ORDER BY swept_at IS NOT NULL, swept_at, updated_at LIMIT ?`,
    )
    .bind(olderThan, checkedBefore, limit)
    .all<{ tenant_id: string; id: string; queue: string; state: InteractionState; updated_at: number }>();
  return r.results.map((x) => ({ tenant: x.tenant_id, id: x.id, queue: x.queue, state: x.state, updatedAt: x.updated_at }));
}

export async function markSwept(db: D1Database, rows: { tenant: string; id: string }[], at: number): Promise<void> {
  if (rows.length === 0) return;
  await db.batch(rows.map((r) => db.prepare("UPDATE interactions SET swept_at = ? WHERE tenant_id = ? AND id = ?").bind(at, r.tenant, r.id)));
}

/** The interaction's categories replaced (the classifier's, or an agent's correction), with the event that says so. */
export function categoriesStatements(db: D1Database, c: { tenant: string; id: string; categories: string[]; actor: string; at: number; reason?: unknown }): D1PreparedStatement[] {
  return [
    db.prepare("UPDATE interactions SET categories = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(JSON.stringify(c.categories), c.at, c.tenant, c.id),
    ...eventStatements(db, [{ tenant: c.tenant, interaction: c.id, at: c.at, actor: c.actor, action: "categorized", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { categories: c.categories, ...(c.reason ?? {}) } }]),
  ];
}
