// The ChatSession's own storage: participants, messages (each with its server sequence), and the
// chat's meta record. SQL only; the object decides what to store.
import type { ChatStatus, MessageExtra, Participant } from "../workers/protocol/chat.ts";
import type { Channel } from "../workers/social/types.ts";
import type { ChatClock } from "../workers/chat/policy.ts";
import type { ChatRole, Mode, Visibility } from "../workers/chat/visibility.ts";
import { roleOf } from "../workers/chat/visibility.ts";
import { hasSchema } from "./schema.ts";

const SCHEMA = "4";

export type MessageKind = "text" | "notice" | "file";

export interface StoredMessage {
  seq: number;
  clientId: string | null;
  from: string;
  name: string;
  role: ChatRole;
  kind: MessageKind;
  text: string;
  visibility: Visibility;
  at: number;
  file: { key: string; type: string; size: number } | null;
  extra?: MessageExtra | null;
}

export type { ChatStatus, Participant } from "../workers/protocol/chat.ts";

/** A chat's meta record: its timing fields are the pure policy's `ChatClock` (workers/chat/policy.ts). */
export interface ChatMeta extends ChatClock {
  tenant: string;
  interactionId: string;
  queue: string;
  contactId: string | null;
  customerName: string;
  customerEmail: string | null;
  status: ChatStatus;
  startedAt: number;
  endedAt: number | null;
  endedBy: string | null;
  endReason: "agent" | "customer" | "idle" | "supervisor" | null;
  position: number | null;
  ewtSeconds: number | null;
  /** SMS session mode: the chat is carried by SMS between these numbers; it ends after idleSeconds of silence. */
  sms?: { center: string; customer: string; idleSeconds: number; closed?: boolean };
  /** A social channel carries the chat: the customer's thread, the provider time of their newest
   *  message (the 24-hour window and the late flag run from it); it ends after idleSeconds of silence. */
  social?: { channel: Channel; account: string; user: string; idleSeconds: number; lastInboundAt: number | null; closed?: boolean };
  /** Agents invited to consult or conference, by agent id. */
  invites: Record<string, "consult" | "conference">;
  /** The customer's first message has gone to the classifier. */
  classified?: boolean;
}

interface MessageRow {
  seq: number;
  client_id: string | null;
  author: string;
  author_name: string;
  role: ChatRole;
  kind: MessageKind;
  text: string;
  visibility: Visibility;
  at: number;
  file_key: string | null;
  file_type: string | null;
  file_size: number | null;
  extra: string | null;
  [k: string]: SqlStorageValue;
}

interface ParticipantRow {
  id: string;
  mode: Mode;
  name: string;
  joined_at: number;
  left_at: number | null;
  read_seq: number;
  [k: string]: SqlStorageValue;
}

const toMessage = (r: MessageRow): StoredMessage => ({
  seq: r.seq, clientId: r.client_id, from: r.author, name: r.author_name, role: r.role, kind: r.kind, text: r.text, visibility: r.visibility, at: r.at,
  file: r.file_key ? { key: r.file_key, type: r.file_type ?? "application/octet-stream", size: r.file_size ?? 0 } : null,
  ...(r.extra ? { extra: JSON.parse(r.extra) as MessageExtra } : {}),
});
const toParticipant = (r: ParticipantRow): Participant => ({ id: r.id, role: roleOf(r.mode), mode: r.mode, name: r.name, joinedAt: r.joined_at, leftAt: r.left_at, readSeq: r.read_seq });

export class ChatStore {
  private readonly sql: SqlStorage;
  // Write-through copies: every frame reads the meta record and its sender, and SQLite is the truth
  // again after an eviction (the object is rebuilt from it).
  private metaCache: ChatMeta | null | undefined;
  private people: Map<string, Participant> | undefined;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    // Version 3 lacked messages.extra: added in place, so open chats keep their transcripts.
    if (hasSchema(sql, "3")) sql.exec(`ALTER TABLE messages ADD COLUMN extra TEXT; INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}');`);
    else if (!hasSchema(sql, SCHEMA))
      sql.exec(`
        CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
        DROP TABLE IF EXISTS participants;
        DROP TABLE IF EXISTS messages;
        CREATE TABLE participants (id TEXT PRIMARY KEY, mode TEXT NOT NULL, name TEXT NOT NULL, joined_at INTEGER NOT NULL, left_at INTEGER, read_seq INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE messages (
          seq INTEGER PRIMARY KEY, client_id TEXT, author TEXT NOT NULL, author_name TEXT NOT NULL, role TEXT NOT NULL, kind TEXT NOT NULL,
          text TEXT NOT NULL, visibility TEXT NOT NULL, at INTEGER NOT NULL, file_key TEXT, file_type TEXT, file_size INTEGER, extra TEXT);
        CREATE UNIQUE INDEX messages_client ON messages (author, client_id) WHERE client_id IS NOT NULL;
        INSERT OR REPLACE INTO kv (k, v) VALUES ('schema', '${SCHEMA}');
      `);
  }

  /** A copy: callers change it and save it, or drop it. */
  meta(): ChatMeta | null {
    if (this.metaCache === undefined) {
      const r = this.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'meta'").toArray()[0];
      this.metaCache = r ? (JSON.parse(r.v) as ChatMeta) : null;
    }
    return this.metaCache ? { ...this.metaCache, invites: { ...this.metaCache.invites } } : null;
  }

  saveMeta(m: ChatMeta): void {
    this.sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES ('meta', ?)", JSON.stringify(m));
    this.metaCache = { ...m, invites: { ...m.invites } };
  }

  private load(): Map<string, Participant> {
    this.people ??= new Map(this.sql.exec<ParticipantRow>("SELECT * FROM participants ORDER BY joined_at").toArray().map((r) => [r.id, toParticipant(r)]));
    return this.people;
  }

  participant(id: string): Participant | null {
    const p = this.load().get(id);
    return p ? { ...p } : null;
  }

  participants(): Participant[] {
    return [...this.load().values()].map((p) => ({ ...p }));
  }

  /** Adds a participant, or brings one back (a rejoin clears its leaving and takes the new mode). */
  upsertParticipant(p: { id: string; mode: Mode; name: string }, now: number): Participant {
    this.sql.exec(
      "INSERT INTO participants (id, mode, name, joined_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET left_at = NULL, mode = excluded.mode, name = excluded.name",
      p.id, p.mode, p.name, now,
    );
    this.people = undefined;
    return this.participant(p.id)!;
  }

  setMode(id: string, mode: Mode): void {
    this.sql.exec("UPDATE participants SET mode = ? WHERE id = ?", mode, id);
    this.people = undefined;
  }

  markLeft(id: string, now: number): void {
    this.sql.exec("UPDATE participants SET left_at = ? WHERE id = ?", now, id);
    this.people = undefined;
  }

  markRead(id: string, seq: number): void {
    const p = this.load().get(id);
    if (!p || p.readSeq >= seq) return;
    this.sql.exec("UPDATE participants SET read_seq = MAX(read_seq, ?) WHERE id = ?", seq, id);
    p.readSeq = seq;
  }

  private last: number | undefined;

  lastSeq(): number {
    this.last ??= this.sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM messages").one().s ?? 0;
    return this.last;
  }

  byClientId(author: string, clientId: string): StoredMessage | null {
    const r = this.sql.exec<MessageRow>("SELECT * FROM messages WHERE author = ? AND client_id = ?", author, clientId).toArray()[0];
    return r ? toMessage(r) : null;
  }

  /** Stores the message, or returns null when its (author, clientId) is stored already. */
  insert(m: Omit<StoredMessage, "seq">): StoredMessage | null {
    // The sequence is the rowid: messages are never deleted, so it only grows (no AUTOINCREMENT
    // bookkeeping to write on every message).
    const row = this.sql
      .exec<{ seq: number }>(
        "INSERT INTO messages (client_id, author, author_name, role, kind, text, visibility, at, file_key, file_type, file_size, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING seq",
        m.clientId, m.from, m.name, m.role, m.kind, m.text, m.visibility, m.at, m.file?.key ?? null, m.file?.type ?? null, m.file?.size ?? null, m.extra ? JSON.stringify(m.extra) : null,
      )
      .toArray()[0];
    if (!row) return null;
    this.last = row.seq;
    return { ...m, seq: row.seq };
  }

  /** A message by its sender's id for it, whoever the sender (a delivery status knows only that id). */
  byAnyClientId(clientId: string): StoredMessage | null {
    const r = this.sql.exec<MessageRow>("SELECT * FROM messages WHERE client_id = ? ORDER BY seq LIMIT 1", clientId).toArray()[0];
    return r ? toMessage(r) : null;
  }

  /** Changes a message's extra (and its file, once its media is stored); answers it as changed. */
  update(seq: number, extra: MessageExtra | null, file?: StoredMessage["file"], kind?: MessageKind): StoredMessage | null {
    const set = ["extra = ?"];
    const args: SqlStorageValue[] = [extra && Object.keys(extra).length ? JSON.stringify(extra) : null];
    if (file) set.push("file_key = ?", "file_type = ?", "file_size = ?"), args.push(file.key, file.type, file.size);
    if (kind) set.push("kind = ?"), args.push(kind);
    const r = this.sql.exec<MessageRow>(`UPDATE messages SET ${set.join(", ")} WHERE seq = ? RETURNING *`, ...args, seq).toArray()[0];
    return r ? toMessage(r) : null;
  }

  /** Messages after `after`, oldest first, at most `limit`. */
  after(after: number, limit: number): StoredMessage[] {
    return this.sql.exec<MessageRow>("SELECT * FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", Math.max(0, after), limit).toArray().map(toMessage);
  }

  countFiles(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages WHERE kind = 'file'").one().n;
  }

  all(): StoredMessage[] {
    return this.sql.exec<MessageRow>("SELECT * FROM messages ORDER BY seq").toArray().map(toMessage);
  }

  /** Erasure: every participant, message and setting goes; the schema stays, as for a new chat.
   *  Answers the files the messages pointed at (their bytes are in R2). */
  wipe(): { messages: number; files: string[] } {
    const files = this.sql.exec<{ file_key: string }>("SELECT file_key FROM messages WHERE file_key IS NOT NULL").toArray().map((r) => r.file_key);
    const messages = this.sql.exec("DELETE FROM messages").rowsWritten;
    this.sql.exec("DELETE FROM participants; DELETE FROM kv WHERE k <> 'schema'");
    this.metaCache = null;
    this.people = undefined;
    return { messages, files };
  }
}
