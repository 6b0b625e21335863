// The chat's transcript in the contact history, written once when the chat ends, and the copy the
// customer asked for, mailed through the outbound path. Both are idempotent: the object retries
// after a failure and nothing is written or sent twice.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { StoredMessage, ChatMeta } from "../../durable-objects/chat-store.ts";
import { getConfig } from "../config/store.ts";
import { AUTO_REPLY_HEADERS } from "../email/loop-guard.ts";
import { enqueueDelivery, prepareMail } from "../outbound/message.ts";
import { newId } from "../kernel/ids.ts";
import { chatNotRecorded, chatRecordInsert, chatSearchInsert, claimTranscriptMail, transcriptClaimedBy, transcriptEmailId, transcriptInserts } from "../ucs/chats.ts";
import { AS_IS, eventStatements } from "../ucs/events.ts";
import { hitRate } from "../ucs/rate-limit.ts";

/** Writes the transcript, the chat's record, a `chat_ended` event and the full-text entry, in one transaction. */
export async function writeTranscript(db: D1Database, m: ChatMeta, messages: StoredMessage[]): Promise<void> {
  // chats.ended_at and interaction_events.at are NOT NULL: a chat not yet ended has nothing to write.
  const endedAt = m.endedAt;
  if (endedAt === null) throw new Error(`chat ${m.interactionId} has not ended: no transcript to write`);
  const said = messages.filter((x) => x.kind !== "notice").map((x) => `${x.name}: ${x.text}`).join("\n");
  const endedBy = m.endedBy ?? "system";
  await db.batch([
    ...transcriptInserts(db, m.tenant, m.interactionId, messages),
    chatSearchInsert(db, m, said.slice(0, 200_000)),
    // Only with the first `chats` row: a retried write adds no second event.
    ...eventStatements(
      db,
      [{ tenant: m.tenant, interaction: m.interactionId, at: endedAt, actor: endedBy, action: "chat_ended", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { reason: m.endReason, messages: messages.length } }],
      chatNotRecorded(m.tenant, m.interactionId),
    ),
    chatRecordInsert(db, { tenant: m.tenant, interactionId: m.interactionId, contactId: m.contactId, startedAt: m.startedAt, endedAt, endedBy, endReason: m.endReason ?? "agent", messageCount: messages.length, transcriptTo: m.transcriptTo }),
  ]);
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
export async function mailTranscript(env: TenantEnv, m: ChatMeta, messages: StoredMessage[]): Promise<MailOutcome> {
  if (!m.transcriptTo) return "already_sent";
  const cfg = await getConfig(env.DB, m.tenant);
  const wf = cfg.workflows.get(cfg.raw.chat?.workflow ?? "");
  const mailbox = cfg.raw.mailboxes.find((x) => x.workflow === wf?.name) ?? cfg.raw.mailboxes[0];
  if (!mailbox) return "no_mailbox";
  if (await transcriptEmailId(env.DB, m.tenant, m.interactionId)) return "already_sent";
  const lim = cfg.raw.email.autoReplyLimit;
  const now = Date.now();
  if (!(await hitRate(env.DB, `auto:${m.tenant}:${m.transcriptTo.toLowerCase()}`, lim.max, lim.perSeconds, now)).allowed) {
    const why = `transcript not mailed: more than ${lim.max} automatic mails to ${m.transcriptTo} within ${lim.perSeconds} s`;
    await env.DB.batch(eventStatements(env.DB, [{ tenant: m.tenant, interaction: m.interactionId, at: now, actor: "workflow", action: "auto_reply_suppressed", to: AS_IS, reason: { why } }]));
    return "limited";
  }
  const claim = newId("t");
  const mine = transcriptClaimedBy(m.tenant, m.interactionId, claim);
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
    claimTranscriptMail(env.DB, m.tenant, m.interactionId, claim, m.transcriptTo),
    ...p.statements,
  ]);
  if ((res[0]?.meta.changes ?? 0) === 0) return "already_sent";
  await enqueueDelivery(env, { tenant: m.tenant, emailId: p.emailId });
  return "sent";
}
