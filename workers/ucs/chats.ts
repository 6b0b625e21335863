// A finished chat in the contact history: its `chats` row, its transcript lines, its full-text
// entry, and the claim that mails the transcript once. Statements, so the caller keeps one batch.
import type { EventGuard } from "./events.ts";

/** One transcript line as the chat stored it. */
export interface TranscriptLine {
  seq: number;
  from: string;
  name: string;
  role: string;
  kind: string;
  text: string;
  visibility: string;
  at: number;
  file: { key: string; type: string; size: number } | null;
}

/** The chat's record, as written when it ends. */
export interface ChatRecord {
  tenant: string;
  interactionId: string;
  contactId: string | null;
  startedAt: number;
  endedAt: number;
  endedBy: string;
  endReason: string;
  messageCount: number;
  transcriptTo: string | null;
}

const COLS = 13;
/** D1 binds at most 100 parameters per statement. */
const ROWS_PER_INSERT = Math.floor(100 / COLS);

/** The transcript lines, in inserts of at most ROWS_PER_INSERT rows; a line already written is kept. */
export function transcriptInserts(db: D1Database, tenant: string, interactionId: string, lines: TranscriptLine[]): D1PreparedStatement[] {
  const st: D1PreparedStatement[] = [];
  for (let i = 0; i < lines.length; i += ROWS_PER_INSERT) {
    const chunk = lines.slice(i, i + ROWS_PER_INSERT);
    st.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO chat_messages (tenant_id, interaction_id, seq, author, author_name, role, kind, text, visibility, at, file_key, file_type, file_size) VALUES ${chunk.map(() => `(${Array(COLS).fill("?").join(", ")})`).join(", ")}`,
        )
        .bind(...chunk.flatMap((x) => [tenant, interactionId, x.seq, x.from, x.name, x.role, x.kind, x.text, x.visibility, x.at, x.file?.key ?? null, x.file?.type ?? null, x.file?.size ?? null])),
    );
  }
  return st;
}

/** Holds while the chat has no `chats` row yet: what its first write is made under. */
export const chatNotRecorded = (tenant: string, interactionId: string): EventGuard => ({
  sql: "NOT EXISTS (SELECT 1 FROM chats WHERE tenant_id = ? AND interaction_id = ?)",
  params: [tenant, interactionId],
});

/** The chat's full-text entry, written only with its first `chats` row. */
export function chatSearchInsert(db: D1Database, c: { tenant: string; interactionId: string; contactId: string | null }, body: string): D1PreparedStatement {
  const first = chatNotRecorded(c.tenant, c.interactionId);
  return db.prepare(`INSERT INTO search_index (tenant_id, kind, ref, contact_id, body) SELECT ?, 'message', ?, ?, ? WHERE ${first.sql}`).bind(c.tenant, c.interactionId, c.contactId, body, ...first.params);
}

/** The chat's row; a second write of it changes nothing. */
export function chatRecordInsert(db: D1Database, c: ChatRecord): D1PreparedStatement {
  return db
    .prepare("INSERT OR IGNORE INTO chats (tenant_id, interaction_id, started_at, ended_at, ended_by, end_reason, message_count, transcript_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(c.tenant, c.interactionId, c.startedAt, c.endedAt, c.endedBy, c.endReason, c.messageCount, c.transcriptTo);
}

/** The id of the mail that carries the transcript, once one was claimed. */
export async function transcriptEmailId(db: D1Database, tenant: string, interactionId: string): Promise<string | null> {
  const r = await db.prepare("SELECT transcript_email_id AS id FROM chats WHERE tenant_id = ? AND interaction_id = ?").bind(tenant, interactionId).first<{ id: string | null }>();
  return r?.id ?? null;
}

/** Claims the transcript's mail for `claim`; 0 changes when another claim came first. */
export function claimTranscriptMail(db: D1Database, tenant: string, interactionId: string, claim: string, to: string): D1PreparedStatement {
  return db.prepare("UPDATE chats SET transcript_email_id = ?, transcript_to = ? WHERE tenant_id = ? AND interaction_id = ? AND transcript_email_id IS NULL").bind(claim, to, tenant, interactionId);
}

/** Holds when `claim` is the transcript's claimed mail: the mail's statements run under it. */
export const transcriptClaimedBy = (tenant: string, interactionId: string, claim: string): EventGuard => ({
  sql: "(SELECT transcript_email_id FROM chats WHERE tenant_id = ? AND interaction_id = ?) = ?",
  params: [tenant, interactionId, claim],
});
