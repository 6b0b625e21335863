// Emails rows in D1: one per message in or out (received mail, agents' drafts and replies, their
// status on the way out), and the reads of them. Statements where the caller writes them in a batch
// with others; small async reads where it only looks.
import type { EventGuard } from "../events.ts";
import type { InteractionState } from "../interaction-types.ts";

/** An emails row as stored (addresses and refs as JSON). */
export interface EmailRow {
  id: string;
  interaction_id: string;
  thread_id: string;
  direction: "inbound" | "outbound";
  message_id: string;
  in_reply_to: string | null;
  refs: string;
  mailbox: string | null;
  from_addr: string | null;
  from_name: string | null;
  reply_to: string | null;
  to_addrs: string;
  cc_addrs: string;
  bcc_addrs: string;
  subject: string | null;
  date: number | null;
  status: string;
  author: string | null;
  created_at: number;
}

/** Where a message is: received; a reply being written, claimed to send, in QA review, taken by a reviewer, on its way. */
export type EmailStatus = "received" | "draft" | "claimed" | "review" | "reviewing" | "sending";

/** Email statuses of a reply its author is still writing (claimed: being sent this instant). */
export const DRAFT_STATUSES = ["draft", "claimed"] as const;
const IN_DRAFT = `(${DRAFT_STATUSES.map((s) => `'${s}'`).join(", ")})`;

// ---- received mail ----

/** A received message seen before (by Message-ID), with its interaction's state. */
export const inboundSeen = (db: D1Database, tenant: string, messageId: string): D1PreparedStatement =>
  db
    .prepare(
      "SELECT e.interaction_id, e.thread_id, i.state FROM emails e JOIN interactions i ON i.tenant_id = e.tenant_id AND i.id = e.interaction_id WHERE e.tenant_id = ? AND e.direction = 'inbound' AND e.message_id = ?",
    )
    .bind(tenant, messageId);

export type SeenRow = { interaction_id: string; thread_id: string; state: InteractionState };

export interface InboundEmail {
  tenant: string;
  id: string;
  interactionId: string;
  threadId: string;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  mailbox: string;
  fromAddr: string | null;
  fromName: string | null;
  to: unknown[];
  cc: unknown[];
  replyTo: string | null;
  subject: string | null;
  date: number | null;
  rawKey: string;
  rawSize: number;
  headers: unknown;
  flags: string[];
  at: number;
}

/** The received message's row; a no-op when its Message-ID is stored already (the unique index). */
export function inboundEmailInsert(db: D1Database, e: InboundEmail): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO emails (tenant_id, id, interaction_id, thread_id, direction, message_id, in_reply_to, refs, mailbox, from_addr, from_name, to_addrs, cc_addrs,
         reply_to, subject, date, raw_key, raw_size, headers, flags, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'inbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(
      e.tenant, e.id, e.interactionId, e.threadId, e.messageId, e.inReplyTo, JSON.stringify(e.references), e.mailbox, e.fromAddr, e.fromName, JSON.stringify(e.to),
      JSON.stringify(e.cc), e.replyTo, e.subject, e.date, e.rawKey, e.rawSize, JSON.stringify(e.headers), JSON.stringify(e.flags), e.at, e.at,
    );
}

/** "This emails row went in": the guard every other write of a received message is made under. */
export const emailRowGuard = (tenant: string, emailId: string): EventGuard => ({ sql: "EXISTS (SELECT 1 FROM emails WHERE tenant_id = ? AND id = ?)", params: [tenant, emailId] });

/** Which interaction and thread hold the received message with this Message-ID (ours, or a concurrent winner's). */
export const inboundHolder = (db: D1Database, tenant: string, messageId: string): D1PreparedStatement =>
  db.prepare("SELECT interaction_id, thread_id FROM emails WHERE tenant_id = ? AND direction = 'inbound' AND message_id = ?").bind(tenant, messageId);

/** The newest message the customer sent in this interaction, with its text. */
export function lastInbound(db: D1Database, tenant: string, interactionId: string): Promise<(EmailRow & { text: string | null }) | null> {
  return db
    .prepare(
      `SELECT e.*, (SELECT content FROM message_parts p WHERE p.tenant_id = e.tenant_id AND p.email_id = e.id AND p.kind = 'text' LIMIT 1) AS text
       FROM emails e WHERE e.tenant_id = ? AND e.interaction_id = ? AND e.direction = 'inbound' ORDER BY e.created_at DESC LIMIT 1`,
    )
    .bind(tenant, interactionId)
    .first<EmailRow & { text: string | null }>();
}

// ---- replies and forwards (drafts) ----

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

// ---- who sees which drafts ----

/** Whether the interaction carries a draft written by someone other than `agent`. */
export async function othersDraftIn(db: D1Database, tenant: string, interactionId: string, agent: string): Promise<boolean> {
  const row = await db
    .prepare(`SELECT 1 AS x FROM emails WHERE tenant_id = ? AND interaction_id = ? AND direction = 'outbound' AND status IN ${IN_DRAFT} AND author IS NOT ? LIMIT 1`)
    .bind(tenant, interactionId, agent)
    .first<{ x: number }>();
  return row !== null;
}

/** Who reads a thread: a system (sees only what was received or sent), an agent (sees no one else's
 *  drafts), or someone who sees everything. */
export type ThreadReader = { kind: "system" } | { kind: "agent"; agentId: string } | { kind: "all" };

export type ThreadPartRow = {
  id: string; email_id: string; interaction_id: string; kind: string; content: string | null; content_type: string | null; name: string | null; size: number | null; sha256: string | null; content_id: string | null;
};

/** A thread's messages and their parts, as `reader` may see them, in one round trip. */
export async function threadMessages(db: D1Database, tenant: string, threadId: string, reader: ThreadReader): Promise<{ emails: Record<string, unknown>[]; parts: ThreadPartRow[] }> {
  const filter = (alias: string) =>
    reader.kind === "system"
      ? ` AND ${alias}status NOT IN ('draft', 'claimed', 'review', 'reviewing')`
      : reader.kind === "agent" ? ` AND NOT (${alias}status IN ${IN_DRAFT} AND ${alias}author IS NOT ?)` : "";
  const extra = reader.kind === "agent" ? [reader.agentId] : [];
  const [emails, parts] = await db.batch([
    db.prepare(
      `SELECT id, interaction_id, direction, message_id, in_reply_to, mailbox, from_addr, from_name, reply_to, to_addrs, cc_addrs, bcc_addrs, subject, date, raw_size, flags, status, auto, author,
         attempts, last_error, transport, created_at FROM emails WHERE tenant_id = ? AND thread_id = ?${filter("")} ORDER BY created_at`,
    ).bind(tenant, threadId, ...extra),
    db.prepare(
      `SELECT p.id, p.email_id, p.interaction_id, p.kind, p.content, p.content_type, p.name, p.size, p.sha256, p.content_id FROM message_parts p
       JOIN emails e ON e.tenant_id = p.tenant_id AND e.id = p.email_id WHERE e.tenant_id = ? AND e.thread_id = ?${filter("e.")} ORDER BY p.seq`,
    ).bind(tenant, threadId, ...extra),
  ]);
  return { emails: emails!.results as Record<string, unknown>[], parts: parts!.results as ThreadPartRow[] };
}
