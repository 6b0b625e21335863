// Agents' replies and forwards in D1: the draft's interaction and emails rows, its edits, its status
// as it goes out (claimed, in review, sending), and which drafts a reader may see. Statements for
// the callers' batches; runs where the caller needs to know whether it made a move.
import type { EmailRow } from "./emails.ts";

/** Where a message is: received; a reply being written, claimed to send, in QA review, taken by a reviewer, on its way. */
export type EmailStatus = "received" | "draft" | "claimed" | "review" | "reviewing" | "sending";

/** Email statuses of a reply its author is still writing (claimed: being sent this instant). */
export const DRAFT_STATUSES = ["draft", "claimed"] as const;
export const IN_DRAFT = `(${DRAFT_STATUSES.map((s) => `'${s}'`).join(", ")})`;

export interface DraftRows {
  tenant: string;
  id: string;
  emailId: string;
  parentId: string;
  threadId: string;
  contactId: string | null;
  workflow: string | null;
  author: string;
  forward: boolean;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  mailbox: string;
  fromName: string;
  to: unknown[];
  cc: unknown[];
  bcc: unknown[];
  subject: string;
  at: number;
}

/** A new reply's interaction row (state 'draft', held by its author); its 'drafted' event is the caller's. */
export function draftInteractionInsert(db: D1Database, d: DraftRows): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO interactions (tenant_id, id, media, channel, direction, subject, thread_id, parent_id, contact_id, state, queue, agent_id, priority, categories, attributes, created_at, updated_at, workflow)
       VALUES (?, ?, 'email', 'email', 'outbound', ?, ?, ?, ?, 'draft', NULL, ?, 0, '[]', ?, ?, ?, ?)`,
    )
    .bind(d.tenant, d.id, d.subject, d.threadId, d.parentId, d.contactId, d.author, JSON.stringify(d.forward ? { kind: "forward" } : { kind: "reply" }), d.at, d.at, d.workflow);
}

/** A new reply's emails row, status 'draft'. */
export function draftEmailInsert(db: D1Database, d: DraftRows): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO emails (tenant_id, id, interaction_id, thread_id, direction, message_id, in_reply_to, refs, mailbox, from_addr, from_name, to_addrs, cc_addrs, bcc_addrs, subject, status, author, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?)`,
    )
    .bind(
      d.tenant, d.emailId, d.id, d.threadId, d.messageId, d.inReplyTo, JSON.stringify(d.references), d.mailbox, d.mailbox, d.fromName,
      JSON.stringify(d.to), JSON.stringify(d.cc), JSON.stringify(d.bcc), d.subject, d.author, d.at, d.at,
    );
}

/** The reply (not an automatic one) this outbound interaction carries. */
export function replyEmail(db: D1Database, tenant: string, interactionId: string): Promise<EmailRow | null> {
  return db.prepare("SELECT * FROM emails WHERE tenant_id = ? AND interaction_id = ? AND direction = 'outbound' AND auto = 0 ORDER BY created_at DESC LIMIT 1").bind(tenant, interactionId).first<EmailRow>();
}

/** A draft's new recipients and subject, and the interaction's subject with it. */
export function draftEdits(
  db: D1Database,
  e: { tenant: string; emailId: string; interactionId: string; to: unknown[]; cc: unknown[]; bcc: unknown[]; subject: string | null; at: number },
): D1PreparedStatement[] {
  return [
    db.prepare("UPDATE emails SET to_addrs = ?, cc_addrs = ?, bcc_addrs = ?, subject = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(
      JSON.stringify(e.to), JSON.stringify(e.cc), JSON.stringify(e.bcc), e.subject, e.at, e.tenant, e.emailId,
    ),
    db.prepare("UPDATE interactions SET subject = ? WHERE tenant_id = ? AND id = ?").bind(e.subject, e.tenant, e.interactionId),
  ];
}

/** Moves a message's status (only from `from` when given; `at` as its updated_at when given). Run it
 *  and check meta.changes to learn whether this caller made the move. */
export function statusUpdate(db: D1Database, tenant: string, emailId: string, to: EmailStatus, opts: { from?: EmailStatus; at?: number } = {}): D1PreparedStatement {
  const sets = opts.at !== undefined ? "status = ?, updated_at = ?" : "status = ?";
  const cond = opts.from !== undefined ? " AND status = ?" : "";
  const vals: (string | number)[] = [to, ...(opts.at !== undefined ? [opts.at] : []), tenant, emailId, ...(opts.from !== undefined ? [opts.from] : [])];
  return db.prepare(`UPDATE emails SET ${sets} WHERE tenant_id = ? AND id = ?${cond}`).bind(...vals);
}

/** The built message recorded: its raw bytes' key and size and its new status, only while it is `expect`. */
export const storedRaw = (db: D1Database, tenant: string, emailId: string, r: { rawKey: string; size: number; status: EmailStatus; expect: EmailStatus; at: number }): D1PreparedStatement =>
  db.prepare("UPDATE emails SET raw_key = ?, raw_size = ?, status = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = ?").bind(r.rawKey, r.size, r.status, r.at, tenant, emailId, r.expect);

/** A failed message sent again: delivery starts over. */
export const retryDelivery = (db: D1Database, tenant: string, emailId: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE emails SET status = 'sending', attempts = 0, last_error = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(at, tenant, emailId);

/** The interaction back in its author's hands (a reply returned from review). */
export const handBackTo = (db: D1Database, tenant: string, interactionId: string, author: string | null): D1PreparedStatement =>
  db.prepare("UPDATE interactions SET agent_id = ? WHERE tenant_id = ? AND id = ?").bind(author, tenant, interactionId);

/** Replies in a state, newest first, with their last note; by one author, or by all when null. */
export async function listReplies(db: D1Database, tenant: string, state: string, author: string | null): Promise<Record<string, unknown>[]> {
  const r = await db
    .prepare(
      `SELECT i.id, i.parent_id, i.thread_id, i.subject, i.state, i.updated_at, e.id AS email_id, e.to_addrs, e.status, e.author, e.attempts, e.last_error,
           (SELECT text FROM notes n WHERE n.tenant_id = i.tenant_id AND n.interaction_id = i.id ORDER BY created_at DESC LIMIT 1) AS last_note
         FROM interactions i JOIN emails e ON e.tenant_id = i.tenant_id AND e.interaction_id = i.id AND e.direction = 'outbound' AND e.auto = 0
         WHERE i.tenant_id = ? AND i.direction = 'outbound' AND i.state = ? AND (? IS NULL OR e.author = ?) ORDER BY i.updated_at DESC LIMIT 200`,
    )
    .bind(tenant, state, author, author)
    .all<Record<string, unknown>>();
  return r.results;
}

/** Whether the interaction carries a draft written by someone other than `agent`. */
export async function othersDraftIn(db: D1Database, tenant: string, interactionId: string, agent: string): Promise<boolean> {
  const row = await db
    .prepare(`SELECT 1 AS x FROM emails WHERE tenant_id = ? AND interaction_id = ? AND direction = 'outbound' AND status IN ${IN_DRAFT} AND author IS NOT ? LIMIT 1`)
    .bind(tenant, interactionId, agent)
    .first<{ x: number }>();
  return row !== null;
}
