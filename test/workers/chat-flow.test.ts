// The seed's chat flow through the Worker, step by step: the widget's request, the session, the
// contact history, the queue, the greeting and position, the offer, the agent joining, the
// conversation over WebSockets, the end, the transcript in the history and by mail.
import { describe, expect, it } from "vitest";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { agentTakes, chatTenant, client, session, SHOP, startChat } from "../chat-helpers.ts";
import { tenv, interaction, me, offerFor, post, ready, stateIs, until } from "../helpers.ts";
import { flush, outbox } from "../email-helpers.ts";

describe("chat flow", () => {
  it("runs from the widget's request to the transcript in the history and the customer's mailbox", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 2 } }], {}, { mailboxes: [{ address: `help@${Date.now()}.example`, workflow: "main" }] });
    // Somebody must be logged in for chat to be offered at all.
    await post(t, "/api/v1/me/login", "ana", { ready: false });
    const cfg = await (await t.api(`/api/v1/chat/${t.id}/config`, { headers: { Origin: SHOP } })).json<{ available: boolean; reason?: string }>();
    expect(cfg).toMatchObject({ available: false, reason: "no_agents" });
    await ready(t, "ana");
    expect(await (await t.api(`/api/v1/chat/${t.id}/config`, { headers: { Origin: SHOP } })).json()).toMatchObject({ available: true, preChat: { fields: [{ name: "name" }, { name: "email" }] } });

    // 1–4: the request, the session, the history, the queue.
    const s = await startChat(t, { email: "kim@example.com", subject: "Order 1234" });
    expect(s.chatId).toBe(`${t.id}.${s.interactionId}`);
    const row = await interaction(t, s.interactionId);
    expect(row).toMatchObject({ media: "chat", channel: "web-chat", subject: "Order 1234" });
    expect(row.contactId).toBeTruthy();

    // 5: the greeting, then the place in the queue (the chat is offered to ana meanwhile).
    const kim = await client(s.chatId, s.token);
    await kim.next((f) => f.type === "hello", "hello");
    await kim.next((f) => f.message?.text === "Welcome! An agent will be with you shortly.", "the greeting");

    // 6–7: the offer, the acceptance, the agent in the chat.
    await agentTakes(t, "ana", s.interactionId, true);
    await kim.next((f) => f.message?.text === "Agent ana joined the chat", "ana joining");
    await kim.next((f) => f.type === "status" && f.status === "active", "active");

    // 8: the conversation, both ways, acknowledged and ordered.
    const ana = await client(s.interactionId, t.tokens.ana!);
    kim.send({ type: "msg", clientId: "k1", text: "Where is my order?" });
    const ack = await kim.next((f) => f.type === "ack" && f.clientId === "k1", "ack");
    await ana.next((f) => f.message?.text === "Where is my order?", "the question at ana");
    ana.send({ type: "msg", clientId: "a1", text: "Let me look: it ships today." });
    const reply = await kim.next((f) => f.message?.text === "Let me look: it ships today.", "the answer at kim");
    expect(reply.message!.seq).toBeGreaterThan(ack.seq as number);
    expect(reply.message).toMatchObject({ from: "agent:ana", name: "Agent ana", role: "agent", visibility: "all" });

    // Typing and read receipts reach the other side.
    ana.send({ type: "typing", on: true });
    await kim.next((f) => f.type === "typing" && f.from === "agent:ana" && f.on === true, "typing at kim");
    kim.send({ type: "read", seq: reply.message!.seq });
    await ana.next((f) => f.type === "read" && f.from === "customer" && f.seq === reply.message!.seq, "read receipt at ana");

    // The agent sees who they talk to, and their history.
    const view = await t.call<{ contact: { id: string } | null; participants: { id: string }[] }>(`/api/v1/chats/${s.interactionId}`, { as: "ana" });
    expect(view.contact?.id).toBe(row.contactId);
    expect(view.participants.map((p) => p.id)).toEqual(["customer", "agent:ana"]);

    // 11 (asked for during the chat): the transcript by mail at the end.
    const asked = await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: {}, origin: SHOP });
    expect(asked.status).toBe(200);
    expect(await asked.json()).toMatchObject({ status: "queued" });

    // 9: the agent ends it; both sides hear so, and the sockets close.
    await post(t, `/api/v1/chats/${s.interactionId}/end`, "ana");
    await kim.next((f) => f.type === "status" && f.status === "ended" && f.reason === "agent", "ended at kim");
    await until(async () => kim.closed, "kim's socket to close");

    // 10: the transcript in the contact history, the interaction still ana's until she marks it done.
    const done = await until(async () => {
      const i = await t.call<{ transcript?: { text: string; visibility: string }[]; state: string; history: { action: string }[] }>(`/api/v1/interactions/${s.interactionId}`);
      return i.transcript?.length ? i : null;
    }, "the transcript in D1");
    expect(done.transcript!.map((m) => m.text)).toEqual(expect.arrayContaining(["Where is my order?", "Let me look: it ships today.", "Agent ana ended the chat"]));
    expect(done.history.map((h) => h.action)).toContain("chat_ended");
    expect(done.state).toBe("handling");
    await post(t, `/api/v1/interactions/${s.interactionId}/done`, "ana");
    await stateIs(t, s.interactionId, "done");

    // The transcript is searchable.
    const hits = await t.call<{ results: { ref: string }[] }>(`/api/v1/search?q=${encodeURIComponent("ships today")}`, { as: "ana" });
    expect(hits.results.map((h) => h.ref)).toContain(s.interactionId);

    // 11: the mail, through the outbound path, once.
    await flush(t.id);
    const mails = (await outbox(t)).filter((m) => m.subject.startsWith("Your chat with"));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.rcpt_to).toContain("kim@example.com");
    const again = await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: {}, origin: SHOP });
    expect(again.status).toBe(409);
  });

  it("gives a retried start the same chat, and refuses a start when nobody could answer", async () => {
    const t = await chatTenant();
    const none = await t.api(`/api/v1/chat/${t.id}/sessions`, { method: "POST", json: { clientId: "abcdefgh-1", name: "Kim" }, headers: { Origin: SHOP } });
    expect(none.status).toBe(409);
    expect(await none.json()).toMatchObject({ error: { code: "chat_unavailable", details: { reason: "no_agents" } } });
    await ready(t, "ana");
    const a = await startChat(t, { clientId: "abcdefgh-2" });
    const b = await startChat(t, { clientId: "abcdefgh-2" });
    expect(b.interactionId).toBe(a.interactionId);
    expect(b.token).toBeTruthy();
    // A required pre-chat field left out is named.
    const missing = await t.api(`/api/v1/chat/${t.id}/sessions`, { method: "POST", json: { clientId: "abcdefgh-3" }, headers: { Origin: SHOP } });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: "missing_field", message: "name: required" } });
  });

  it("tells the waiting customer their place in the queue and an estimated wait", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 1 } }]);
    await ready(t, "ana");
    const first = await startChat(t);
    await agentTakes(t, "ana", first.interactionId, true);
    // Ana is full now: the next two wait.
    const second = await startChat(t, { name: "Lou" });
    const third = await startChat(t, { name: "Max" });
    const max = await client(third.chatId, third.token);
    const stub = chatStub(await tenv(t.id), t.id, third.interactionId);
    const { runDurableObjectAlarm } = await import("cloudflare:test");
    await until(async () => runDurableObjectAlarm(stub), "the position alarm");
    const q = await max.next((f) => f.type === "queue", "a queue frame");
    expect(q).toMatchObject({ position: 2 });
    expect(q.ewtSeconds).toBeGreaterThan(0);
    await max.next((f) => /You are number 2 in the queue\. Estimated wait: about \d+ minutes?\./.test(f.message?.text ?? ""), "the position notice");
    expect(unwrap(await stub.state())).toMatchObject({ status: "waiting", position: 2 });
    void second;
  });

  it("gives an agent several chats at once, up to their chat capacity", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 2 } }]);
    await ready(t, "ana");
    const a = await startChat(t);
    const b = await startChat(t, { name: "Lou" });
    const c = await startChat(t, { name: "Max" });
    await agentTakes(t, "ana", a.interactionId, true);
    await agentTakes(t, "ana", b.interactionId, true);
    const ana = [await client(a.interactionId, t.tokens.ana!), await client(b.interactionId, t.tokens.ana!)];
    ana[0]!.send({ type: "msg", clientId: "x", text: "to Kim" });
    ana[1]!.send({ type: "msg", clientId: "x", text: "to Lou" });
    const kim = await client(a.chatId, a.token);
    const lou = await client(b.chatId, b.token);
    await kim.next((f) => f.message?.text === "to Kim", "Kim's answer");
    await lou.next((f) => f.message?.text === "to Lou", "Lou's answer");
    expect(kim.texts()).not.toContain("to Lou");
    // The third waits until one of the two is done.
    const me = await t.call<{ offers: { interactionId: string }[]; work: { interactionId: string }[] }>("/api/v1/me", { as: "ana" });
    expect(me.work.map((w) => w.interactionId).sort()).toEqual([a.interactionId, b.interactionId].sort());
    expect(me.offers).toEqual([]);
    await post(t, `/api/v1/interactions/${a.interactionId}/done`, "ana");
    await kim.next((f) => f.type === "status" && f.status === "ended", "Kim's chat ended by done");
    await agentTakes(t, "ana", c.interactionId, true);
    for (const x of [...ana, kim, lou]) x.close();
  });

  it("withdraws the offer of a chat the customer ends while it is being offered", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 1 } }]);
    await ready(t, "ana");
    const s = await startChat(t);
    await offerFor(t, "ana", s.interactionId);
    expect((await session(`${s.chatId}/end`, s.token, { method: "POST" })).status).toBe(200);
    const row = await stateIs(t, s.interactionId, "stopped");
    expect(row.history.map((h) => h.action)).toContain("abandoned");
    expect((await me(t, "ana")).offers).toEqual([]);
    // Ana is free for the next customer at once, not after the offer's timeout.
    const next = await startChat(t, { name: "Lou" });
    await offerFor(t, "ana", next.interactionId);
  });

  it("abandons a chat the customer ends while it waits", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 1 } }]);
    await ready(t, "ana");
    await post(t, "/api/v1/me/ready", "ana", { ready: false });
    // Logged in but not ready: the chat is accepted and waits.
    await post(t, "/api/v1/me/ready", "ana", { ready: true });
    const busy = await startChat(t);
    await agentTakes(t, "ana", busy.interactionId, true);
    const s = await startChat(t);
    const kim = await client(s.chatId, s.token);
    kim.send({ type: "end" });
    await kim.next((f) => f.type === "status" && f.status === "ended" && f.reason === "customer", "ended");
    const row = await stateIs(t, s.interactionId, "stopped");
    expect(row.history.map((h) => h.action)).toContain("abandoned");
  });
});
