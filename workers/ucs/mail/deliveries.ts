// Outbound mail in contact history: the stored message (emails, its Message-ID in email_refs) and
// its delivery (attempts, errors, who was reached). Statements are returned unrun where callers
// batch them.
import type { EventGuard } from "../events.ts";
import { refStatement } from "./threads.ts";

/** A message to deliver, with its interaction's direction and state. */
export interface DeliveryRow {
  id: string;
  interaction_id: string;
  direction: string;
  status: string;
  raw_key: string | null;
  from_addr: string | null;
  to_addrs: string;
  cc_addrs: string;
  bcc_addrs: string;
  subject: string | null;
  auto: number;
  attempts: number;
  i_direction: string;
  i_state: string;
  delivered_to: string;
}

/** A same-statement condition for the inserts (the draft still unclaimed, the interaction new). */
export type MailGuard = EventGuard;

export interface NewOutboundMail {
  tenant: string;
  id: string;
  interactionId: string;
  threadId: string;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  mailbox: string;
  from: { addr: string; name?: string };
  to: { addr: string; name?: string }[];
  cc: { addr: string; name?: string }[];
  bcc: { addr: string; name?: string }[];
  subject: string;
  rawKey: string;
  rawSize: number;
  status: string;
  auto: boolean;
  author: string | null;
  contactId: string | null;
  at: number;
}

/** The message row and its Message-ID (so replies to it find its thread), under `guard` if given. */
export function outboundMailStatements(db: D1Database, m: NewOutboundMail, guard?: MailGuard): D1PreparedStatement[] {
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

export function deliveryRow(db: D1Database, tenant: string, emailId: string): Promise<DeliveryRow | null> {
  return db
    .prepare(
      `SELECT e.id, e.interaction_id, e.direction, e.status, e.raw_key, e.from_addr, e.to_addrs, e.cc_addrs, e.bcc_addrs, e.subject, e.auto, e.attempts, e.delivered_to,
         i.direction AS i_direction, i.state AS i_state
       FROM emails e JOIN interactions i ON i.tenant_id = e.tenant_id AND i.id = e.interaction_id WHERE e.tenant_id = ? AND e.id = ?`,
    )
    .bind(tenant, emailId)
    .first<DeliveryRow>();
}

/** The recipients reached so far, so a retry after a partial failure skips them. */
export const deliveredTo = (db: D1Database, tenant: string, emailId: string, reached: string[]): D1PreparedStatement =>
  db.prepare("UPDATE emails SET delivered_to = ? WHERE tenant_id = ? AND id = ?").bind(JSON.stringify(reached), tenant, emailId);

export const deliverySucceeded = (db: D1Database, tenant: string, emailId: string, status: string, transport: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE emails SET status = ?, attempts = attempts + 1, last_error = NULL, transport = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(status, transport, at, tenant, emailId);

export const deliveryAttemptFailed = (db: D1Database, tenant: string, emailId: string, error: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE emails SET attempts = attempts + 1, last_error = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(error, at, tenant, emailId);

export const deliveryGaveUp = (db: D1Database, tenant: string, emailId: string, why: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE emails SET status = 'failed', last_error = COALESCE(last_error, ?), updated_at = ? WHERE tenant_id = ? AND id = ?").bind(why, at, tenant, emailId);
