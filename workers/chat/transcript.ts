// The chat's transcript in the contact history, written once when the chat ends, and the copy the
// customer asked for, mailed through the outbound path. Both are idempotent: the object retries
// after a failure and nothing is written or sent twice.
import type { StoredMessage, ChatMeta } from "../../durable-objects/chat-store.ts";
import { getConfig } from "../config/store.ts";
import { AUTO_REPLY_HEADERS } from "../email/loop-guard.ts";
import { enqueueDelivery, prepareMail } from "../outbound/message.ts";
import { newId } from "../kernel/ids.ts";
import { hitRate } from "../ucs/rate-limit.ts";
import { AS_IS, eventStatements } from "../ucs/events.ts";

const COLS = 13;
/** D1 binds at most 100 parameters per statement. */
const ROWS_PER_INSERT = Math.floor(100 / COLS);

/** Writes the transcript, the chat's record, a `chat_ended` event and the full-text entry, in one transaction. */
export async function writeTranscript(db: D1Database, m: ChatMeta, messages: StoredMessage[]): Promise<void> {
  const st: D1PreparedStatement[] = [];
  for (let i = 0; i < messages.length; i += ROWS_PER_INSERT) {
    const chunk = messages.slice(i, i + ROWS_PER_INSERT);
    st.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO chat_messages (tenant_id, interaction_id, seq, author, author_name, role, kind, text, visibility, at, file_key, file_type, file_size) VALUES ${chunk.map(() => `(${Array(COLS).fill("?").join(", ")})`).join(", ")}`,
        )
        .bind(...chunk.flatMap((x) => [m.tenant, m.interactionId, x.seq, x.from, x.name, x.role, x.kind, x.text, x.visibility, x.at, x.file?.key ?? null, x.file?.type ?? null, x.file?.size ?? null])),
    );
  }
  const said = messages.filter((x) => x.kind !== "notice").map((x) => `${x.name}: ${x.text}`).join("\n");
  const first = "WHERE NOT EXISTS (SELECT 1 FROM chats WHERE tenant_id = ? AND interaction_id = ?)";
  st.push(
    db.prepare(`INSERT INTO search_index (tenant_id, kind, ref, contact_id, body) SELECT ?, 'message', ?, ?, ? ${first}`).bind(m.tenant, m.interactionId, m.contactId, said.slice(0, 200_000), m.tenant, m.interactionId),
    ...eventStatements(
      db,
      [{ tenant: m.tenant, interaction: m.interactionId, at: m.endedAt ?? Date.now(), actor: m.endedBy ?? "system", action: "chat_ended", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { reason: m.endReason, messages: messages.length } }],
      { sql: "NOT EXISTS (SELECT 1 FROM chats WHERE tenant_id = ? AND interaction_id = ?)", params: [m.tenant, m.interactionId] },
    ),
    db
      .prepare("INSERT OR IGNORE INTO chats (tenant_id, interaction_id, started_at, ended_at, ended_by, end_reason, message_count, transcript_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .bind(m.tenant, m.interactionId, m.startedAt, m.endedAt, m.endedBy ?? "system", m.endReason ?? "agent", messages.length, m.transcriptTo),
  );
  await db.batch(st);
}

/** The text a customer gets: what everyone in the chat saw, with times in UTC. Pure. */
export function transcriptText(tenantName: string, messages: StoredMessage[], startedAt: number): string {
  const time = (at: number) => new Date(at).toISOString().slice(11, 16);
  const lines = messages.filter((x) => x.visibility === "all").map((x) => (x.kind === "notice" ? `[${time(x.at)}] — ${x.text}` : `[${time(x.at)}] ${x.name}: ${x.kind === "file" ? `(file) ${x.text}` : x.text}`));
  return `Your chat with ${tenantName}, ${new Date(startedAt).toISOString().slice(0, 10)} (times in UTC)\n\n${lines.join("\n")}\n`;
}

export type MailOutcome = "sent" | "already_sent" | "no_mailbox" | "limited";

/** Mails the transcript once per chat: the `chats` row records the mail's id, and the mail is stored only if this call set it.
 *  It is an automatic mail to an address a stranger may have typed, so it shares the tenant's
 *  per-address limit (`email.autoReplyLimit`, the "autowar" guard) with auto-replies and form
 *  acknowledgements, and goes to the bare address: the name the customer typed is not put in front of it. */
export async function mailTranscript(env: Env, m: ChatMeta, messages: StoredMessage[]): Promise<MailOutcome> {
  if (!m.transcriptTo) return "already_sent";
  const cfg = await getConfig(env.DB, m.tenant);
  const wf = cfg.workflows.get(cfg.raw.chat?.workflow ?? "");
  const mailbox = cfg.raw.mailboxes.find((x) => x.workflow === wf?.name) ?? cfg.raw.mailboxes[0];
  if (!mailbox) return "no_mailbox";
  const taken = await env.DB.prepare("SELECT transcript_email_id AS id FROM chats WHERE tenant_id = ? AND interaction_id = ?").bind(m.tenant, m.interactionId).first<{ id: string | null }>();
  if (taken?.id) return "already_sent";
  const lim = cfg.raw.email.autoReplyLimit;
  const now = Date.now();
  if (!(await hitRate(env.DB, `auto:${m.tenant}:${m.transcriptTo.toLowerCase()}`, lim.max, lim.perSeconds, now)).allowed) {
    await env.DB.batch(eventStatements(env.DB, [{ tenant: m.tenant, interaction: m.interactionId, at: now, actor: "workflow", action: "auto_reply_suppressed", to: AS_IS, reason: { why: `transcript not mailed: more than ${lim.max} automatic mails to ${m.transcriptTo} within ${lim.perSeconds} s` } }]));
    return "limited";
  }
  const claim = newId("t");
  const mine = { sql: "(SELECT transcript_email_id FROM chats WHERE tenant_id = ? AND interaction_id = ?) = ?", params: [m.tenant, m.interactionId, claim] };
  const p = await prepareMail(env, {
    tenant: m.tenant, interactionId: m.interactionId, threadId: m.interactionId, contactId: m.contactId, mailbox: mailbox.address,
    status: "sending", auto: true, author: null, guard: mine,
    mail: {
      from: { addr: mailbox.address, name: mailbox.name ?? cfg.raw.tenant.name },
      to: [{ addr: m.transcriptTo }],
      subject: `Your chat with ${cfg.raw.tenant.name}`,
      text: transcriptText(cfg.raw.tenant.name, messages, m.startedAt),
      headers: { ...AUTO_REPLY_HEADERS },
    },
  });
  const res = await env.DB.batch([
    env.DB.prepare("UPDATE chats SET transcript_email_id = ?, transcript_to = ? WHERE tenant_id = ? AND interaction_id = ? AND transcript_email_id IS NULL").bind(claim, m.transcriptTo, m.tenant, m.interactionId),
    ...p.statements,
  ]);
  if ((res[0]?.meta.changes ?? 0) === 0) return "already_sent";
  await enqueueDelivery(env, { tenant: m.tenant, emailId: p.emailId });
  return "sent";
}
