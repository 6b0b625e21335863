// The transcript's writes in D1 (workers/chat/transcript.ts over workers/ucs/chats.ts): written once
// however often the object retries, its event copied from the interaction's row, and the mail the
// per-address limit refuses noted in the history instead of sent.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChatMeta, StoredMessage } from "../../durable-objects/chat-store.ts";
import { mailTranscript, writeTranscript } from "../../workers/chat/transcript.ts";
import { createInteraction } from "../../workers/ucs/interactions.ts";
import { chatTenant } from "../chat-helpers.ts";
import { tenv } from "../helpers.ts";

async function endedChat(extra: Parameters<typeof chatTenant>[2] = {}): Promise<{ m: ChatMeta; messages: StoredMessage[] }> {
  const t = await chatTenant(undefined, {}, extra);
  const { id } = await createInteraction(env.SHARD_1, { tenant: t.id, media: "chat", channel: "web-chat", direction: "inbound", subject: "Hi", queue: "inbound", priority: 1, categories: [], attributes: {}, actor: "customer" });
  const at = Date.now();
  const m: ChatMeta = {
    tenant: t.id, interactionId: id, queue: "inbound", contactId: null, customerName: "Kim", customerEmail: "kim@example.com", status: "ended",
    startedAt: at - 60_000, endedAt: at, endedBy: "agent:ana", endReason: "agent", lastCustomerAt: at, idleStage: 0, positionAt: null, idleAt: null, retryAt: null,
    retries: 0, position: null, ewtSeconds: null, transcriptTo: "kim@example.com", transcriptWritten: false, transcriptMailed: false, invites: {},
  };
  const line = (seq: number, text: string, kind: StoredMessage["kind"] = "text"): StoredMessage => ({ seq, clientId: null, from: seq % 2 ? "customer" : "agent:ana", name: seq % 2 ? "Kim" : "Ana", role: seq % 2 ? "customer" : "agent", kind, text, visibility: "all", at: at - 1000 + seq, file: null });
  // More lines than one insert takes (7 rows of 13 parameters each).
  const messages = Array.from({ length: 16 }, (_, i) => line(i + 1, `line ${i + 1}`));
  messages.push(line(17, "Ana left", "notice"));
  return { m, messages };
}

const count = async (sql: string, ...params: (string | number)[]) => (await env.SHARD_1.prepare(sql).bind(...params).first<{ n: number }>())!.n;

describe("chat transcript in D1", () => {
  it("writes the lines, the record, one chat_ended event and one search entry, however often it is retried", async () => {
    const { m, messages } = await endedChat();
    await writeTranscript(env.SHARD_1, m, messages);
    await writeTranscript(env.SHARD_1, m, messages);
    expect(await count("SELECT COUNT(*) AS n FROM chat_messages WHERE tenant_id = ? AND interaction_id = ?", m.tenant, m.interactionId)).toBe(17);
    expect(await count("SELECT COUNT(*) AS n FROM search_index WHERE tenant_id = ? AND ref = ?", m.tenant, m.interactionId)).toBe(1);
    const chat = await env.SHARD_1.prepare("SELECT ended_at, ended_by, end_reason, message_count, transcript_to FROM chats WHERE tenant_id = ? AND interaction_id = ?").bind(m.tenant, m.interactionId).first();
    expect(chat).toEqual({ ended_at: m.endedAt, ended_by: "agent:ana", end_reason: "agent", message_count: 17, transcript_to: "kim@example.com" });
    const ev = await env.SHARD_1.prepare("SELECT e.at, e.actor, e.from_state, e.to_state, e.queue, e.reason, i.state FROM interaction_events e JOIN interactions i ON i.tenant_id = e.tenant_id AND i.id = e.interaction_id WHERE e.tenant_id = ? AND e.interaction_id = ? AND e.action = 'chat_ended'")
      .bind(m.tenant, m.interactionId).all<{ at: number; actor: string; from_state: string; to_state: string; queue: string; reason: string; state: string }>();
    expect(ev.results).toHaveLength(1);
    const e = ev.results[0]!;
    expect(e).toMatchObject({ at: m.endedAt, actor: "agent:ana", from_state: e.state, to_state: e.state, queue: "inbound" });
    expect(JSON.parse(e.reason)).toEqual({ reason: "agent", messages: 17 });
  });

  it("refuses to write a chat that has not ended, and writes nothing", async () => {
    const { m, messages } = await endedChat();
    await expect(writeTranscript(env.SHARD_1, { ...m, endedAt: null }, messages)).rejects.toThrow();
    expect(await count("SELECT COUNT(*) AS n FROM chat_messages WHERE tenant_id = ? AND interaction_id = ?", m.tenant, m.interactionId)).toBe(0);
  });

  it("notes a transcript the per-address limit refused, and mails nothing", async () => {
    const { m, messages } = await endedChat({ mailboxes: [{ address: `help@${Date.now()}.example`, workflow: "main" }], email: { autoReplyLimit: { max: 0, perSeconds: 60 } } });
    await writeTranscript(env.SHARD_1, m, messages);
    expect(await mailTranscript(await tenv(m.tenant), m, messages)).toBe("limited");
    const ev = await env.SHARD_1.prepare("SELECT actor, from_state, to_state, queue, agent_id, reason FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND action = 'auto_reply_suppressed'")
      .bind(m.tenant, m.interactionId).first<{ actor: string; from_state: string | null; to_state: string; queue: string | null; agent_id: string | null; reason: string }>();
    const row = await env.SHARD_1.prepare("SELECT state FROM interactions WHERE tenant_id = ? AND id = ?").bind(m.tenant, m.interactionId).first<{ state: string }>();
    expect(ev).toMatchObject({ actor: "workflow", from_state: null, to_state: row!.state, queue: null, agent_id: null });
    expect(JSON.parse(ev!.reason).why).toMatch(/^transcript not mailed: more than 0 automatic mails to kim@example.com within 60 s$/);
    expect(await count("SELECT COUNT(*) AS n FROM chats WHERE tenant_id = ? AND interaction_id = ? AND transcript_email_id IS NOT NULL", m.tenant, m.interactionId)).toBe(0);
  });
});
