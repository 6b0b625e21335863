// ChatSession: one per chat, the single owner of its transcript. Every message gets the next sequence
// number, assigned here, and carries the sender's own id: a resend (a retry after a drop) answers the
// stored message instead of storing it twice. A reader asks for everything after the last sequence it
// saw, so a reconnect after a drop, a sleep or a deploy resumes with nothing lost or doubled.
// (Connections, signals, attachments, idle control and the chat flow build on this.)
import { DurableObject } from "cloudflare:workers";
import { badRequest, conflict, forbidden, type AppError } from "../workers/http/errors.ts";
import { canSee, mayPost, type ChatRole, type Visibility } from "../workers/chat/visibility.ts";
import { hasSchema } from "./schema.ts";
import { guard, type Result } from "./result.ts";

const SCHEMA = "1";
/** The most a reader gets in one answer; it asks again from the last sequence it got. */
export const PAGE = 500;
export const MAX_TEXT = 8000;

export type MessageKind = "text" | "notice";

export interface ChatMessage {
  seq: number;
  clientId: string | null;
  from: string;
  role: ChatRole;
  kind: MessageKind;
  text: string;
  visibility: Visibility;
  at: number;
}

export interface Participant {
  id: string;
  role: ChatRole;
  name: string;
  joinedAt: number;
  leftAt: number | null;
}

interface MessageRow {
  seq: number;
  client_id: string | null;
  author: string;
  role: ChatRole;
  kind: MessageKind;
  text: string;
  visibility: Visibility;
  at: number;
  [k: string]: SqlStorageValue;
}

interface ParticipantRow {
  id: string;
  role: ChatRole;
  name: string;
  joined_at: number;
  left_at: number | null;
  [k: string]: SqlStorageValue;
}
const toParticipant = (r: ParticipantRow): Participant => ({ id: r.id, role: r.role, name: r.name, joinedAt: r.joined_at, leftAt: r.left_at });

const fail = (e: AppError): never => {
  throw e;
};
const toMessage = (r: MessageRow): ChatMessage => ({ seq: r.seq, clientId: r.client_id, from: r.author, role: r.role, kind: r.kind, text: r.text, visibility: r.visibility, at: r.at });

export class ChatSession extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    if (!hasSchema(this.sql, SCHEMA))
      this.sql.exec(`
        CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS participants (id TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, joined_at INTEGER NOT NULL, left_at INTEGER);
        CREATE TABLE IF NOT EXISTS messages (
          seq INTEGER PRIMARY KEY AUTOINCREMENT, client_id TEXT, author TEXT NOT NULL, role TEXT NOT NULL, kind TEXT NOT NULL,
          text TEXT NOT NULL, visibility TEXT NOT NULL, at INTEGER NOT NULL);
        CREATE UNIQUE INDEX IF NOT EXISTS messages_client ON messages (author, client_id) WHERE client_id IS NOT NULL;
        INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}');
      `);
  }

  /** Adds a participant (again: a rejoin clears its leaving) and tells everyone. */
  join(p: { id: string; role: ChatRole; name: string }): Promise<Result<Participant>> {
    return guard(() => {
      const now = Date.now();
      const cur = this.participant(p.id);
      if (cur && cur.leftAt === null) return cur;
      this.sql.exec(
        "INSERT INTO participants (id, role, name, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET left_at = NULL, name = excluded.name",
        p.id, p.role, p.name, now,
      );
      // A supervisor who joins to monitor or coach is announced to staff only.
      this.notice(`${p.name} joined`, p.role === "supervisor" ? "staff" : "all", now);
      return this.participant(p.id)!;
    });
  }

  leave(id: string): Promise<Result<void>> {
    return guard(() => {
      const p = this.participant(id);
      if (!p || p.leftAt !== null) return;
      const now = Date.now();
      this.sql.exec("UPDATE participants SET left_at = ? WHERE id = ?", now, id);
      this.notice(`${p.name} left`, p.role === "supervisor" ? "staff" : "all", now);
    });
  }

  /** Stores a message from a participant. Idempotent on (participant, clientId). */
  post(from: string, m: { clientId: string; text: string; visibility?: Visibility }): Promise<Result<{ message: ChatMessage; duplicate: boolean }>> {
    return guard(() => {
      const p = this.participant(from);
      if (!p || p.leftAt !== null) fail(forbidden("only a participant of this chat can post to it"));
      const visibility = m.visibility ?? "all";
      if (!mayPost(p!.role, visibility)) fail(forbidden("a customer's messages are seen by everyone in the chat"));
      const text = m.text.trim();
      if (!text) fail(badRequest("empty_message", "text: say something"));
      if (text.length > MAX_TEXT) fail(badRequest("message_too_long", `text: at most ${MAX_TEXT} characters`));
      if (!m.clientId || m.clientId.length > 100) fail(badRequest("invalid_client_id", "clientId: 1 to 100 characters, unique per message"));
      const seen = this.sql.exec<MessageRow>("SELECT * FROM messages WHERE author = ? AND client_id = ?", from, m.clientId).toArray()[0];
      if (seen) {
        if (seen.text !== text) fail(conflict("client_id_reused", "clientId: already used for another message"));
        return { message: toMessage(seen), duplicate: true };
      }
      const row = this.sql
        .exec<MessageRow>("INSERT INTO messages (client_id, author, role, kind, text, visibility, at) VALUES (?, ?, ?, 'text', ?, ?, ?) RETURNING *", m.clientId, from, p!.role, text, visibility, Date.now())
        .one();
      return { message: toMessage(row), duplicate: false };
    });
  }

  /** What `viewer` may see after sequence `after`, oldest first, at most PAGE. */
  since(viewer: ChatRole, after: number): { messages: ChatMessage[]; last: number; more: boolean } {
    const rows = this.sql.exec<MessageRow>("SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", Math.max(0, after), PAGE + 1).toArray();
    const more = rows.length > PAGE;
    const page = rows.slice(0, PAGE);
    // `last` moves past messages the viewer may not see too, so its next ask starts after them.
    const last = page.at(-1)?.seq ?? after;
    return { messages: page.filter((r) => canSee(viewer, r.visibility)).map(toMessage), last, more };
  }

  participants(): Participant[] {
    return this.sql.exec<ParticipantRow>("SELECT * FROM participants ORDER BY joined_at").toArray().map(toParticipant);
  }

  private participant(id: string): Participant | null {
    const r = this.sql.exec<ParticipantRow>("SELECT * FROM participants WHERE id = ?", id).toArray()[0];
    return r ? toParticipant(r) : null;
  }

  private notice(text: string, visibility: Visibility, at: number): void {
    this.sql.exec("INSERT INTO messages (client_id, author, role, kind, text, visibility, at) VALUES (NULL, 'system', 'system', 'notice', ?, ?, ?)", text, visibility, at);
  }
}
