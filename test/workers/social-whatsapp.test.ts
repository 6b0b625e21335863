// WhatsApp Cloud API end to end inside workerd: the handshake and the signature, exactly once per
// wamid, the provider's order, media kept through failures, unknown types, statuses, the 24-hour
// window and templates, and each message to its tenant by phone number id.
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { tenv, offerFor, post, ready, until } from "../helpers.ts";
import { APP_SECRET, drainSocial, sentFor, fakeProviders, postWhatsApp, retryMediaJob, signedPost, socialRows, socialTenant, VERIFY, waBody, waText, WA_TOKEN, type SocialTenant } from "../social-helpers.ts";

const handshake = (q: string) => exports.default.fetch(new Request(`http://parley.test/api/v1/social/whatsapp?${q}`));
const customerView = async (t: SocialTenant, id: string) => unwrap(await chatStub(await tenv(t.id), t.id, id).since("customer", 0)).messages;
const ordered = <T extends { at: number; seq: number }>(l: T[]) => [...l].sort((a, b) => a.at - b.at || a.seq - b.seq);

async function conversationOf(t: SocialTenant): Promise<string> {
  return until(async () => (await socialRows(t, "in"))[0]?.interaction_id, "the conversation");
}

describe("WhatsApp", () => {
  afterEach(() => vi.restoreAllMocks());

  it("answers the subscription handshake only with an account's verify token", async () => {
    await socialTenant();
    const ok = await handshake(`hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("1158201444");
    expect((await handshake("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")).status).toBe(403);
    expect((await handshake("hub.mode=subscribe&hub.challenge=1")).status).toBe(400);
  });

  it("takes a signed message into a chat, refuses forged ones, and stores a retried delivery once", async () => {
    const t = await socialTenant();
    const now = Date.now();
    const body = waBody(t.phoneNumberId, [waText("wamid.A1", "Hello, my order is late", now)]);
    const forged = await signedPost("/api/v1/social/whatsapp", body, "not-the-app-secret");
    expect(forged.status).toBe(403);
    expect(await socialRows(t, "in")).toHaveLength(0);
    const first = await signedPost("/api/v1/social/whatsapp", body);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ received: 1, duplicates: 0 });
    // WhatsApp repeats a delivery it thinks failed, for days: the same answer, nothing doubled.
    const again = await signedPost("/api/v1/social/whatsapp", body);
    expect(await again.json()).toMatchObject({ received: 0, duplicates: 1 });
    const id = await conversationOf(t);
    expect(await socialRows(t, "in")).toHaveLength(1);
    expect((await customerView(t, id)).filter((m) => m.from === "customer").map((m) => m.text)).toEqual(["Hello, my order is late"]);
    const i = await t.call<{ channel: string; media: string; contactId: string }>(`/api/v1/interactions/${id}`);
    expect(i).toMatchObject({ channel: "whatsapp", media: "chat" });
    // A WhatsApp number is a phone number: the same contact as SMS and callbacks.
    const c = await t.call<{ identifiers: { kind: string; value: string }[] }>(`/api/v1/contacts/${i.contactId}`, { as: "ana" });
    expect(c.identifiers).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "phone", value: "+14155550142" })]));
  });

  it("shows two messages delivered in reverse order in the provider's order, the late one marked", async () => {
    const t = await socialTenant();
    const now = Date.now();
    expect((await postWhatsApp(t, [waText("wamid.B2", "second", now)])).status).toBe(200);
    expect((await postWhatsApp(t, [waText("wamid.B1", "first", now - 30_000)])).status).toBe(200);
    const id = await conversationOf(t);
    const said = ordered((await customerView(t, id)).filter((m) => m.from === "customer"));
    expect(said.map((m) => m.text)).toEqual(["first", "second"]);
    expect(said[0]!.extra?.late).toBe(true);
    expect(said[1]!.extra?.late).toBeUndefined();
    const history = await t.call<{ messages: { body: string }[] }>(`/api/v1/interactions/${id}/social`, { as: "ana" });
    expect(history.messages.map((m) => m.body)).toEqual(["first", "second"]);
  });

  it("keeps an image whose fetch fails twice, retrying from the Queue until it is stored", async () => {
    const t = await socialTenant();
    let tries = 0;
    fakeProviders((url) => {
      if (url.startsWith("https://graph.facebook.com/v21.0/MEDIA77")) return Response.json({ url: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=MEDIA77", mime_type: "image/jpeg" });
      if (url.startsWith("https://lookaside.fbsbx.com/")) return ++tries <= 2 ? new Response("busy", { status: 503 }) : new Response(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), { headers: { "Content-Type": "image/jpeg" } });
      return new Response("?", { status: 404 });
    });
    const res = await postWhatsApp(t, [{ from: "14155550142", id: "wamid.IMG", timestamp: String(Math.floor(Date.now() / 1000)), type: "image", image: { id: "MEDIA77", mime_type: "image/jpeg", caption: "the broken part" } }]);
    expect(res.status).toBe(200);
    const id = await conversationOf(t);
    const [row] = await socialRows(t, "in");
    const pending = (await customerView(t, id)).find((m) => m.clientId === `${row!.id}.0`)!;
    expect(pending.extra?.media).toBe("pending");
    expect((await customerView(t, id)).some((m) => m.text === "the broken part")).toBe(true);
    await retryMediaJob(t, row!.id);
    expect((await env.SHARD_1.prepare("SELECT state, attempts FROM social_media WHERE tenant_id = ?").bind(t.id).first())).toMatchObject({ state: "pending", attempts: 2 });
    await retryMediaJob(t, row!.id);
    const stored = (await customerView(t, id)).find((m) => m.clientId === `${row!.id}.0`)!;
    expect(stored.kind).toBe("file");
    expect(stored.extra?.media).toBeUndefined();
    expect(stored.file?.type).toBe("image/jpeg");
    const obj = await env.BLOBS.get(`${t.id}/chat/${id}/${row!.id}-0`);
    expect(new Uint8Array(await obj!.arrayBuffer())).toEqual(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    // The provider's retry of the webhook neither fetches again nor doubles the message.
    const calls = tries;
    expect(await (await postWhatsApp(t, [{ from: "14155550142", id: "wamid.IMG", timestamp: "1", type: "image", image: { id: "MEDIA77" } }])).json()).toMatchObject({ duplicates: 1 });
    expect(tries).toBe(calls);
  });

  it("stores an unknown message type flagged and takes the next message as usual", async () => {
    const t = await socialTenant();
    const now = Date.now();
    const res = await postWhatsApp(t, [
      { from: "14155550142", id: "wamid.U1", timestamp: String(Math.floor(now / 1000)), type: "hologram", hologram: { depth: 3 } },
      { from: "14155550142", id: "wamid.U2", timestamp: String(Math.floor(now / 1000)), type: "location", location: { latitude: 52.52, longitude: 13.405, name: "Shop" } },
      waText("wamid.U3", "did you get that?", now + 1000),
    ]);
    expect(res.status).toBe(200);
    const rows = await socialRows(t, "in");
    expect(rows.map((r) => [r.kind, r.state])).toEqual([["unknown", "posted"], ["location", "posted"], ["text", "posted"]]);
    expect(rows[0]!.flagged).toMatch(/hologram/);
    const id = rows[2]!.interaction_id;
    const view = await customerView(t, id);
    expect(view.find((m) => m.text.includes("openstreetmap.org"))?.extra?.kind).toBe("location");
    expect(view.find((m) => m.extra?.flagged)?.text).toMatch(/cannot show/);
    expect(view.some((m) => m.text === "did you get that?")).toBe(true);
  });

  it("sends the agent's reply, and moves its status forward only: sent, delivered, read", async () => {
    const t = await socialTenant();
    const { sent } = fakeProviders();
    await ready(t, "ana");
    await postWhatsApp(t, [waText("wamid.S1", "hi there", Date.now())]);
    const id = await conversationOf(t);
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    const chat = chatStub(await tenv(t.id), t.id, id);
    unwrap(await chat.post("agent:ana", { clientId: "reply-1", text: "Hello! How can I help?" }));
    expect(await drainSocial(t)).toBe(1);
    const sends = await sentFor(t, sent);
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ url: `https://graph.facebook.com/v21.0/${t.phoneNumberId}/messages`, auth: `Bearer ${WA_TOKEN}`, body: { to: "14155550142", type: "text", text: { body: "Hello! How can I help?" } } });
    const mine = () => customerView(t, id).then((l) => l.find((m) => m.clientId === "reply-1")!);
    expect((await mine()).extra?.delivery).toBe("sent");
    const status = (s: string, at: number) => ({ id: "wamid.OUT1", status: s, timestamp: String(at), recipient_id: "14155550142" });
    const now = Math.floor(Date.now() / 1000);
    await postWhatsApp(t, [], [status("read", now + 2)]);
    // A late "delivered" never undoes "read".
    await postWhatsApp(t, [], [status("delivered", now + 1)]);
    expect((await mine()).extra?.delivery).toBe("read");
    expect((await socialRows(t, "out"))[0]).toMatchObject({ state: "read", provider_id: "wamid.OUT1" });
    // A failure the provider reports shows on the message with its reason.
    unwrap(await chat.post("agent:ana", { clientId: "reply-2", text: "One more thing" }));
    await drainSocial(t);
    await postWhatsApp(t, [], [{ id: "wamid.OUT2", status: "failed", timestamp: String(now + 3), recipient_id: "14155550142", errors: [{ code: 131026, title: "Message undeliverable" }] }]);
    const failed = (await customerView(t, id)).find((m) => m.clientId === "reply-2")!;
    expect(failed.extra).toMatchObject({ delivery: "failed", error: expect.stringMatching(/131026 Message undeliverable/) });
  });

  it("refuses free text once the 24-hour window has closed, and sends an approved template", async () => {
    const t = await socialTenant();
    const { sent } = fakeProviders();
    await ready(t, "ana");
    // The customer wrote 25 hours ago (a message the provider delivered late): the window has closed.
    await postWhatsApp(t, [waText("wamid.W1", "any news?", Date.now() - 25 * 3600_000)]);
    const id = await conversationOf(t);
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    const info = await t.call<{ social: { channel: string; window: { mode: string } } }>(`/api/v1/chats/${id}`, { as: "ana" });
    expect(info.social).toMatchObject({ channel: "whatsapp", window: { mode: "templates" } });
    const refused = await chatStub(await tenv(t.id), t.id, id).post("agent:ana", { clientId: "free-1", text: "Yes! It shipped." });
    expect(refused).toMatchObject({ ok: false, error: { code: "window_closed" } });
    const templates = await t.call<{ templates: { name: string }[] }>("/api/v1/social/templates", { as: "ana" });
    expect(templates.templates.map((x) => x.name)).toEqual(["follow_up"]);
    const out = await t.call<{ message: { text: string; extra: { template: string } } }>(`/api/v1/chats/${id}/template`, { method: "POST", as: "ana", json: { name: "follow_up", clientId: "tpl-00001" } });
    expect(out.message).toMatchObject({ text: "Hello Kerry, we have news about your request.", extra: { template: "follow_up" } });
    await drainSocial(t);
    expect((await sentFor(t, sent)).map((s) => s.body)).toEqual([
      expect.objectContaining({ type: "template", template: { name: "follow_up", language: { code: "en" }, components: [{ type: "body", parameters: [{ type: "text", text: "Kerry" }] }] } }),
    ]);
    // The customer answers: the window opens again, and free text goes.
    await postWhatsApp(t, [waText("wamid.W2", "great, thanks", Date.now())]);
    expect(unwrap(await chatStub(await tenv(t.id), t.id, id).post("agent:ana", { clientId: "free-2", text: "You're welcome" })).message.extra?.delivery).toBe("sending");
  });

  it("routes each message to its tenant by phone number id, under that tenant's own app secret", async () => {
    const a = await socialTenant();
    const b = await socialTenant({}, "tenant-b-app-secret");
    const toB = waBody(b.phoneNumberId, [waText("wamid.T1", "for b", Date.now())]);
    // Tenant A's secret signs nothing of B's.
    expect((await signedPost("/api/v1/social/whatsapp", toB, APP_SECRET)).status).toBe(403);
    expect((await signedPost("/api/v1/social/whatsapp", toB, "tenant-b-app-secret")).status).toBe(200);
    expect(await socialRows(b, "in")).toHaveLength(1);
    expect(await socialRows(a, "in")).toHaveLength(0);
  });
});

describe("WhatsApp media and sends the Queue lost", () => {
  afterEach(() => vi.restoreAllMocks());

  it("does nothing for a retry that comes early, and the sweep requeues an overdue one", async () => {
    const t = await socialTenant();
    fakeProviders(() => new Response("down", { status: 503 }));
    await postWhatsApp(t, [{ from: "14155550142", id: "wamid.LOST", timestamp: String(Math.floor(Date.now() / 1000)), type: "audio", audio: { id: "AUD1", mime_type: "audio/ogg" } }]);
    const [row] = await socialRows(t, "in");
    const media = () => env.SHARD_1.prepare("SELECT state, attempts, next_at FROM social_media WHERE tenant_id = ?").bind(t.id).first<{ state: string; attempts: number; next_at: number }>();
    const before = await media();
    expect(before).toMatchObject({ state: "pending", attempts: 1 });
    // The Queue delivered a copy early: no second attempt now.
    const { createExecutionContext, createMessageBatch, getQueueResult } = await import("cloudflare:test");
    const { default: worker } = await import("../../workers/index.ts");
    const batch = createMessageBatch("parley-sends", [{ id: "early", timestamp: new Date(), attempts: 1, body: { tenant: t.id, socialMedia: { messageId: row!.id, idx: 0 } } }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch, env, ctx);
    await getQueueResult(batch, ctx);
    expect((await media())!.attempts).toBe(1);
    // Its message lost, the attempt overdue: the sweep queues it again.
    await env.SHARD_1.prepare("UPDATE social_media SET next_at = ? WHERE tenant_id = ?").bind(Date.now() - 20 * 60_000, t.id).run();
    const { sweep } = await import("../../workers/sweep.ts");
    await sweep(env);
    expect((await media())!.next_at).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("WhatsApp automatic messages and files", () => {
  afterEach(() => vi.restoreAllMocks());
  const ack = { workflows: [{ name: "main", queue: "inbound", acknowledge: "ack" }], standardResponses: [{ id: "ack", name: "Ack", text: 'Thanks <$ Contact.FirstName | "" $>, we have your message.' }] };

  it("acknowledges inside the window as text, and outside it with the fallback template or not at all, with the reason", async () => {
    const inside = await socialTenant(ack);
    const { sent } = fakeProviders();
    await postWhatsApp(inside, [waText("wamid.K1", "hello", Date.now())]);
    await drainSocial(inside);
    // (The Queue's own consumer may deliver an earlier test's message meanwhile: only this number's count.)
    const to = (t: SocialTenant) => sent.filter((s) => s.url.includes(`/${t.phoneNumberId}/`)).map((s) => s.body);
    expect(to(inside)).toEqual([expect.objectContaining({ type: "text", text: { body: "Thanks Kerry, we have your message.", preview_url: false } })]);

    // Thirty hours late, with a fallback template: the template goes instead.
    const withFallback = await socialTenant(ack, APP_SECRET, { fallbackTemplate: "follow_up" });
    await postWhatsApp(withFallback, [waText("wamid.K3", "hello?", Date.now() - 30 * 3600_000)]);
    await drainSocial(withFallback);
    expect(to(withFallback)).toEqual([expect.objectContaining({ type: "template", template: { name: "follow_up", language: { code: "en" }, components: [{ type: "body", parameters: [{ type: "text", text: "Kerry" }] }] } })]);
    // And without one: skipped, with the reason recorded.
    const late = await socialTenant(ack);
    await postWhatsApp(late, [waText("wamid.K2", "hello?", Date.now() - 30 * 3600_000)]);
    const [skipped] = await socialRows(late, "out");
    expect(skipped).toMatchObject({ state: "skipped" });
    expect((await env.SHARD_1.prepare("SELECT error FROM social_messages WHERE tenant_id = ? AND direction = 'out'").bind(late.id).first<{ error: string }>())!.error).toMatch(/24-hour window.*fallback/);
    const history = await late.call<{ history: { action: string }[] }>(`/api/v1/interactions/${skipped!.interaction_id}`);
    expect(history.history.map((h) => h.action)).toContain("social_skipped");
  });

  it("sends an agent's file as media by a signed link, which the provider can fetch", async () => {
    const t = await socialTenant();
    const { sent } = fakeProviders();
    await ready(t, "ana");
    await postWhatsApp(t, [waText("wamid.F1", "send me the manual", Date.now())]);
    const id = await conversationOf(t);
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    const up = await exports.default.fetch(
      new Request(`http://parley.test/api/v1/chat/sessions/${id}/attachments?name=manual.pdf&clientId=file-1`, { method: "POST", headers: { Authorization: `Bearer ${t.tokens.ana}`, "Content-Type": "application/pdf" }, body: "%PDF-1.4 manual" }),
    );
    expect(up.status).toBe(201);
    await drainSocial(t);
    const doc = (await sentFor(t, sent))[0]!.body as { type: string; document: { link: string; filename: string } };
    expect(doc).toMatchObject({ type: "document", document: { filename: "manual.pdf" } });
    const link = new URL(doc.document.link);
    const fetched = await exports.default.fetch(new Request(`http://parley.test${link.pathname}${link.search}`));
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe("%PDF-1.4 manual");
  });
});
