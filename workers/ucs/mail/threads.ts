// Mail threads in D1: the Message-IDs Parley received or sent (email_refs), each thread's tag,
// subject and contact (email_threads), and the reads that thread a received message. Statements,
// so inbound mail and sending keep their reads and writes in their own batches.
import type { EventGuard } from "../events.ts";
import type { InteractionState } from "../interaction-types.ts";

/** The email_refs rows for these Message-IDs. */
export const refsOf = (db: D1Database, tenant: string, messageIds: string[]): D1PreparedStatement =>
  db.prepare("SELECT message_id, thread_id, contact_id FROM email_refs WHERE tenant_id = ? AND message_id IN (SELECT value FROM json_each(?))").bind(tenant, JSON.stringify(messageIds));

/** The thread carrying this subject tag ('' finds none). */
export const threadByTag = (db: D1Database, tenant: string, tag: string): D1PreparedStatement =>
  db.prepare("SELECT thread_id FROM email_threads WHERE tenant_id = ? AND tag = ?").bind(tenant, tag);

/** The newest thread of the sender's contact with this normalized subject, active since `since`. */
export const threadBySubject = (db: D1Database, tenant: string, subjectNorm: string, since: number, senderEmail: string): D1PreparedStatement =>
  db
    .prepare(
      `SELECT thread_id FROM email_threads WHERE tenant_id = ?1 AND subject_norm = ? AND last_at > ?
             AND contact_id = (SELECT contact_id FROM contact_identifiers WHERE tenant_id = ?1 AND kind = 'email' AND value = ?)
           ORDER BY last_at DESC LIMIT 1`,
    )
    .bind(tenant, subjectNorm, since, senderEmail);

/** Which of these tags are taken in the tenant. */
export const tagsTaken = (db: D1Database, tenant: string, tags: string[]): D1PreparedStatement =>
  db.prepare("SELECT tag FROM email_threads WHERE tenant_id = ? AND tag IN (SELECT value FROM json_each(?))").bind(tenant, JSON.stringify(tags));

/** A thread's subject tag, if it has one. */
export async function threadTag(db: D1Database, tenant: string, threadId: string): Promise<string | null> {
  const r = await db.prepare("SELECT tag FROM email_threads WHERE tenant_id = ? AND thread_id = ?").bind(tenant, threadId).first<{ tag: string }>();
  return r?.tag ?? null;
}

export interface LatestRow {
  id: string;
  state: InteractionState;
  agent_id: string | null;
  queue: string | null;
  contact_id: string | null;
  /** The last agent any event of it names. */
  last_agent: string | null;
  tag: string | null;
}

/** The newest inbound interaction of a thread, with its last agent and the thread's tag. */
export function latestInboundOfThread(db: D1Database, tenant: string, threadId: string): Promise<LatestRow | null> {
  return db
    .prepare(
      `SELECT id, state, agent_id, queue, contact_id,
         (SELECT agent_id FROM interaction_events e WHERE e.tenant_id = i.tenant_id AND e.interaction_id = i.id AND e.agent_id IS NOT NULL ORDER BY seq DESC LIMIT 1) AS last_agent,
         (SELECT tag FROM email_threads t WHERE t.tenant_id = i.tenant_id AND t.thread_id = i.thread_id) AS tag
       FROM interactions i WHERE tenant_id = ? AND thread_id = ? AND direction = 'inbound' ORDER BY created_at DESC LIMIT 1`,
    )
    .bind(tenant, threadId)
    .first<LatestRow>();
}

export interface RefInput {
  tenant: string;
  messageId: string;
  threadId: string;
  contactId: string | null;
  interactionId: string;
  at: number;
}

/** Records a Message-ID for its thread (a no-op if known), so an answer to it threads back; under `guard` if given. */
export function refStatement(db: D1Database, r: RefInput, guard?: EventGuard): D1PreparedStatement {
  const cols = "INSERT OR IGNORE INTO email_refs (tenant_id, message_id, thread_id, contact_id, interaction_id, created_at)";
  const vals = [r.tenant, r.messageId, r.threadId, r.contactId, r.interactionId, r.at];
  if (!guard) return db.prepare(`${cols} VALUES (?, ?, ?, ?, ?, ?)`).bind(...vals);
  return db.prepare(`${cols} SELECT ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`).bind(...vals, ...guard.params);
}

/** Creates the thread's row, or moves its last activity on; under `guard`. */
export function threadUpsert(
  db: D1Database,
  t: { tenant: string; threadId: string; tag: string; contactId: string | null; subjectNorm: string; mailbox: string; at: number },
  guard: EventGuard,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO email_threads (tenant_id, thread_id, tag, contact_id, subject_norm, mailbox, last_at) SELECT ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql}
       ON CONFLICT (tenant_id, thread_id) DO UPDATE SET last_at = excluded.last_at`,
    )
    .bind(t.tenant, t.threadId, t.tag, t.contactId, t.subjectNorm, t.mailbox, t.at, ...guard.params);
}

