// Emails rows in D1, one per message in or out: a received message's row, a sent one's (with its
// Message-ID in email_refs), the reads that find them again, and a thread's messages as a reader may see them. Statements where the caller writes
// them in a batch with others; small async reads where it only looks. Replies: ./drafts.ts.
import type { EventGuard } from "../events.ts";
import type { InteractionState } from "../interaction-types.ts";
import { IN_DRAFT } from "./drafts.ts";
import { refStatement } from "./threads.ts";

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

/** A received message seen before (by Message-ID), with its interaction's state. */
export const inboundSeen = (db: D1Database, tenant: string, messageId: string): D1PreparedStatement =>
  db
    .prepare(
      "SELECT e.interaction_id, e.thread_id, i.state FROM emails e JOIN interactions i ON i.tenant_id = e.tenant_id AND i.id = e.interaction_id WHERE e.tenant_id = ? AND e.direction = 'inbound' AND e.message_id = ?",
    )
    .bind(tenant, messageId);

export type SeenRow = { interaction_id: string; thread_id: string; state: InteractionState };

/** What every emails row holds, in or out. */
interface MailRowBase {
  tenant: string;
  id: string;
  interactionId: string;
  threadId: string;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  mailbox: string;
  rawKey: string;
  rawSize: number;
  at: number;
}

export interface InboundEmail extends MailRowBase {
  fromAddr: string | null;
  fromName: string | null;
  to: unknown[];
  cc: unknown[];
  replyTo: string | null;
  subject: string | null;
  date: number | null;
  headers: unknown;
  flags: string[];
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
/** A message we send: its row is written with its Message-ID in email_refs, so replies find its thread. */
export interface NewOutboundMail extends MailRowBase {
  from: { addr: string; name?: string };
  to: { addr: string; name?: string }[];
  cc: { addr: string; name?: string }[];
  bcc: { addr: string; name?: string }[];
  subject: string;
  status: string;
  auto: boolean;
  author: string | null;
  contactId: string | null;
}

/** The message row and its Message-ID (so replies to it find its thread), under `guard` if given. */
export function outboundMailStatements(db: D1Database, m: NewOutboundMail, guard?: EventGuard): D1PreparedStatement[] {
  const g = guard ? ` WHERE ${guard.sql}` : "";
  const gp = guard?.params ?? [];
  return [
    db
      .prepare(
        `INSERT INTO emails (tenant_id, id, interaction_id, thread_id, direction, message_id, in_reply_to, refs, mailbox, from_addr, from_name,
           to_addrs, cc_addrs, bcc_addrs, subject, raw_key, raw_size, status, auto, author, created_at, updated_at)
         SELECT ?, ?, ?, ?, 'outbound', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?${g}`,
      )
      .bind(
        m.tenant, m.id, m.interactionId, m.threadId, m.messageId, m.inReplyTo, JSON.stringify(m.references), m.mailbox, m.from.addr, m.from.name ?? null,
        JSON.stringify(m.to), JSON.stringify(m.cc), JSON.stringify(m.bcc), m.subject, m.rawKey, m.rawSize, m.status, m.auto ? 1 : 0, m.author, m.at, m.at, ...gp,
      ),
    refStatement(db, { tenant: m.tenant, messageId: m.messageId, threadId: m.threadId, contactId: m.contactId, interactionId: m.interactionId, at: m.at }, guard),
  ];
}

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
