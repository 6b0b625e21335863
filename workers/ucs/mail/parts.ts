// Message parts of mail in D1 (text, sanitized HTML, attachments whose bytes are in R2), each tied
// to its emails row. Statements for the callers' batches, and the small reads that build or serve a message.
import { newId } from "../../kernel/ids.ts";
import type { EventGuard } from "../events.ts";

/** A part of a received message, as inbound mail stores it. */
export interface MailPart {
  id: string;
  kind: "text" | "html" | "attachment";
  content?: string;
  r2Key?: string;
  contentType?: string;
  name?: string;
  size?: number;
  sha256?: string;
  contentId?: string | null;
}

/** One part of a received message, written under `guard` (its emails row went in). */
export function inboundPartInsert(db: D1Database, x: { tenant: string; interactionId: string; emailId: string; seq: number; at: number }, p: MailPart, guard: EventGuard): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO message_parts (tenant_id, id, interaction_id, seq, kind, content, r2_key, content_type, name, size, sha256, content_id, created_at, email_id)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard.sql}`,
    )
    .bind(x.tenant, p.id, x.interactionId, x.seq, p.kind, p.content ?? null, p.r2Key ?? null, p.contentType ?? null, p.name ?? null, p.size ?? null, p.sha256 ?? null, p.contentId ?? null, x.at, x.emailId, ...guard.params);
}

/** A draft's text (seq 0) and HTML (seq 1) parts. */
export function bodyParts(db: D1Database, tenant: string, id: string, emailId: string, text: string, html: string | null, now: number): D1PreparedStatement[] {
  const ins = "INSERT INTO message_parts (tenant_id, id, interaction_id, seq, kind, content, content_type, created_at, email_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const out = [db.prepare(ins).bind(tenant, newId("p"), id, 0, "text", text, "text/plain", now, emailId)];
  if (html) out.push(db.prepare(ins).bind(tenant, newId("p"), id, 1, "html", html, "text/html", now, emailId));
  return out;
}

/** Removes a draft's text and HTML (before new ones are written in the same batch). */
export const bodyPartsDelete = (db: D1Database, tenant: string, emailId: string): D1PreparedStatement =>
  db.prepare("DELETE FROM message_parts WHERE tenant_id = ? AND email_id = ? AND kind IN ('text', 'html')").bind(tenant, emailId);

export interface StoredAttachment {
  r2_key: string;
  content_type: string | null;
  name: string | null;
  size: number | null;
  sha256: string | null;
}

/** A message's attachments (a forward carries the original's). */
export async function attachmentsOf(db: D1Database, tenant: string, emailId: string): Promise<StoredAttachment[]> {
  const r = await db.prepare("SELECT r2_key, content_type, name, size, sha256 FROM message_parts WHERE tenant_id = ? AND email_id = ? AND kind = 'attachment'").bind(tenant, emailId).all<StoredAttachment>();
  return r.results;
}

/** An attachment on a draft, whose bytes are in R2 already. */
export const attachmentInsert = (db: D1Database, a: StoredAttachment & { tenant: string; id: string; interactionId: string; emailId: string; seq: number; at: number }): D1PreparedStatement =>
  db
    .prepare("INSERT INTO message_parts (tenant_id, id, interaction_id, seq, kind, r2_key, content_type, name, size, sha256, created_at, email_id) VALUES (?, ?, ?, ?, 'attachment', ?, ?, ?, ?, ?, ?, ?)")
    .bind(a.tenant, a.id, a.interactionId, a.seq, a.r2_key, a.content_type, a.name, a.size, a.sha256, a.at, a.emailId);

/** Bytes of all parts of a message that have a size (its attachments). */
export async function attachedBytes(db: D1Database, tenant: string, emailId: string): Promise<number> {
  const r = await db.prepare("SELECT COALESCE(SUM(size), 0) AS n FROM message_parts WHERE tenant_id = ? AND email_id = ?").bind(tenant, emailId).first<{ n: number }>();
  return r?.n ?? 0;
}

/** Removes one attachment from a message; false if it had no such attachment. */
export async function removeAttachmentPart(db: D1Database, tenant: string, emailId: string, partId: string): Promise<boolean> {
  const r = await db.prepare("DELETE FROM message_parts WHERE tenant_id = ? AND id = ? AND email_id = ? AND kind = 'attachment'").bind(tenant, partId, emailId).run();
  return r.meta.changes > 0;
}

export type BuildPart = { kind: string; content: string | null; r2_key: string | null; content_type: string | null; name: string | null; content_id: string | null };

/** Every part of a message, in order, to build its MIME from. */
export async function partsToBuild(db: D1Database, tenant: string, emailId: string): Promise<BuildPart[]> {
  const r = await db.prepare("SELECT kind, content, r2_key, content_type, name, content_id FROM message_parts WHERE tenant_id = ? AND email_id = ? ORDER BY seq, created_at").bind(tenant, emailId).all<BuildPart>();
  return r.results;
}

/** An interaction's part whose bytes are in R2, to serve them. */
export function storedPart(db: D1Database, tenant: string, interactionId: string, partId: string): Promise<{ r2_key: string; content_type: string | null; name: string | null } | null> {
  return db
    .prepare("SELECT r2_key, content_type, name FROM message_parts WHERE tenant_id = ? AND interaction_id = ? AND id = ? AND r2_key IS NOT NULL")
    .bind(tenant, interactionId, partId)
    .first<{ r2_key: string; content_type: string | null; name: string | null }>();
}
