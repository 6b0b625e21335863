// Messenger and Instagram inside workerd: the handshake and the signature, exactly once per mid,
// the provider's order, media kept through failures, unknown events, echoes (ours and the page
// inbox's) stored once, reactions and edits, delivery and read watermarks, the 24-hour window with
// HUMAN_AGENT up to 7 days, and each message to its tenant by page or Instagram id.
import { exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { tenv, offerFor, post, ready, until } from "../helpers.ts";
import { drainSocial, sentFor, fakeProviders, metaBody, PAGE_TOKEN, retryMediaJob, signedPost, socialRows, socialTenant, VERIFY, type SocialTenant } from "../social-helpers.ts";

const PSID = "6100000000000001";
const hook = (body: unknown, secret?: string) => signedPost("/api/v1/social/meta", body, secret);
const msg = (t: SocialTenant, mid: string, text: string, at: number, extra: Record<string, unknown> = {}) => ({ sender: { id: PSID }, recipient: { id: t.pageId }, timestamp: at, message: { mid, text, ...extra } });
const view = async (t: SocialTenant, id: string) => unwrap(await chatStub(await tenv(t.id), t.id, id).since("customer", 0)).messages;
const conversationOf = (t: SocialTenant) => until(async () => (await socialRows(t, "in"))[0]?.interaction_id, "the conversation");

async function accepted(t: SocialTenant, first: { mid: string; text: string; at: number }): Promise<string> {
  await ready(t, "ana");
  expect((await hook(metaBody("page", t.pageId, [msg(t, first.mid, first.text, first.at)]))).status).toBe(200);
  const id = await conversationOf(t);
  await offerFor(t, "ana", id);
  await post(t, `/api/v1/interactions/${id}/accept`, "ana");
  return id;
}

describe("Messenger and Instagram", () => {
  // No test reaches the real Graph API (a new conversation asks it for the customer's name).
  beforeEach(() => void fakeProviders());
  afterEach(() => vi.restoreAllMocks());

  it("answers the handshake with the verify token, and refuses a forged or unsigned webhook without storing it", async () => {
    const t = await socialTenant();
    const ok = await exports.default.fetch(new Request(`http://parley.test/api/v1/social/meta?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=abc123`));
    expect(await ok.text()).toBe("abc123");
    expect((await exports.default.fetch(new Request("http://parley.test/api/v1/social/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"))).status).toBe(403);
    const body = metaBody("page", t.pageId, [msg(t, "m_1", "hi", Date.now())]);
    expect((await hook(body, "forged")).status).toBe(403);
    const unsigned = await exports.default.fetch(new Request("http://parley.test/api/v1/social/meta", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }));
    expect(unsigned.status).toBe(403);
    expect(await socialRows(t, "in")).toHaveLength(0);
  });

  it("names the customer from the page's Graph API, and opens the conversation without it when the API fails", async () => {
    const t = await socialTenant();
    fakeProviders((url) => (url.startsWith(`https://graph.facebook.com/v21.0/${PSID}?fields=first_name,last_name`) ? Response.json({ first_name: "Lena", last_name: "Park", id: PSID }) : new Response("", { status: 500 })));
    await hook(metaBody("page", t.pageId, [msg(t, "m_name", "hi", Date.now())]));
    const id = await conversationOf(t);
    expect((await t.call<{ subject: string }>(`/api/v1/interactions/${id}`)).subject).toBe("Messenger conversation with Lena Park");
    const ig = { object: "instagram", entry: [{ id: t.instagramId, time: Date.now(), messaging: [{ sender: { id: "99" }, recipient: { id: t.instagramId }, timestamp: Date.now(), message: { mid: "ig_n", text: "yo" } }] }] };
    await hook(ig);
    const row = (await socialRows(t, "in")).find((r) => r.provider_id === "ig_n")!;
    expect((await t.call<{ subject: string }>(`/api/v1/interactions/${row.interaction_id}`)).subject).toBe("Instagram conversation with Instagram user");
  });

  it("stores a retried mid once, and places a late message by its timestamp", async () => {
    const t = await socialTenant();
    const now = Date.now();
    const later = metaBody("page", t.pageId, [msg(t, "m_2", "second", now)]);
    expect(await (await hook(later)).json()).toMatchObject({ received: 1 });
    expect(await (await hook(later)).json()).toMatchObject({ duplicates: 1 });
    await hook(metaBody("page", t.pageId, [msg(t, "m_1", "first", now - 5000)]));
    const id = await conversationOf(t);
    const said = (await view(t, id)).filter((m) => m.from === "customer").sort((a, b) => a.at - b.at || a.seq - b.seq);
    expect(said.map((m) => [m.text, m.extra?.late ?? false])).toEqual([["first", true], ["second", false]]);
    expect(await socialRows(t, "in")).toHaveLength(2);
  });

  it("keeps an attachment whose CDN fetch fails twice, and shows unknown events without stopping", async () => {
    const t = await socialTenant();
    let tries = 0;
    fakeProviders((url) => (url.startsWith("https://scontent.xx.fbcdn.net/") ? (++tries <= 2 ? new Response("", { status: 500 }) : new Response("PNGDATA", { headers: { "Content-Type": "image/png" } })) : new Response("", { status: 404 })));
    const now = Date.now();
    const res = await hook(
      metaBody("page", t.pageId, [
        { sender: { id: PSID }, recipient: { id: t.pageId }, timestamp: now, optin: { type: "notification_messages", payload: "x" } },
        msg(t, "m_img", "", now + 1, { attachments: [{ type: "image", payload: { url: "https://scontent.xx.fbcdn.net/v/t1/pic.png" } }] }),
      ]),
    );
    expect(res.status).toBe(200);
    const rows = await socialRows(t, "in");
    expect(rows.map((r) => r.kind)).toEqual(["unknown", "image"]);
    expect(rows[0]!.flagged).toMatch(/optin/);
    const img = rows[1]!;
    const id = img.interaction_id;
    expect((await view(t, id)).find((m) => m.clientId === `${img.id}.0`)?.extra?.media).toBe("pending");
    await retryMediaJob(t, img.id);
    await retryMediaJob(t, img.id);
    const stored = (await view(t, id)).find((m) => m.clientId === `${img.id}.0`)!;
    expect(stored).toMatchObject({ kind: "file", file: { type: "image/png" } });
  });

  it("shows an echo from the page inbox once, and never stores its own send's echo again", async () => {
    const t = await socialTenant();
    const { sent } = fakeProviders();
    const id = await accepted(t, { mid: "m_q", text: "is it in stock?", at: Date.now() });
    unwrap(await chatStub(await tenv(t.id), t.id, id).post("agent:ana", { clientId: "r-1", text: "Yes, it is." }));
    await drainSocial(t);
    const mine = await sentFor(t, sent);
    expect(mine[0]).toMatchObject({ url: "https://graph.facebook.com/v21.0/me/messages", auth: `Bearer ${PAGE_TOKEN}`, body: { recipient: { id: PSID }, messaging_type: "RESPONSE", message: { text: "Yes, it is." } } });
    const metadata = (mine[0]!.body.message as { metadata: string }).metadata;
    const echo = (mid: string, text: string, meta?: string) => ({ sender: { id: t.pageId }, recipient: { id: PSID }, timestamp: Date.now(), message: { mid, text, is_echo: true, app_id: 1, ...(meta ? { metadata: meta } : {}) } });
    // The echo of our own send: nothing new.
    await hook(metaBody("page", t.pageId, [echo("m_out_1", "Yes, it is.", metadata)]));
    // A colleague answered from the page's inbox: shown once, even when Meta repeats it.
    await hook(metaBody("page", t.pageId, [echo("m_inbox_1", "We also have it in blue.")]));
    await hook(metaBody("page", t.pageId, [echo("m_inbox_1", "We also have it in blue.")]));
    const staff = (await view(t, id)).filter((m) => m.role === "agent");
    expect(staff.map((m) => m.text)).toEqual(["Yes, it is.", "We also have it in blue."]);
    expect(staff[1]).toMatchObject({ name: "Messenger inbox", from: "inbox" });
    expect((await socialRows(t, "out")).map((r) => r.body)).toEqual(["Yes, it is.", "We also have it in blue."]);
  });

  it("shows reactions and edits on the message they are about, and moves statuses by the watermarks", async () => {
    const t = await socialTenant();
    fakeProviders();
    const now = Date.now();
    const id = await accepted(t, { mid: "m_a", text: "my parcel is lost", at: now - 1000 });
    unwrap(await chatStub(await tenv(t.id), t.id, id).post("agent:ana", { clientId: "r-2", text: "I'll look into it" }));
    await drainSocial(t);
    await hook(
      metaBody("page", t.pageId, [
        { sender: { id: PSID }, recipient: { id: t.pageId }, timestamp: now + 10, reaction: { mid: "m_out_1", action: "react", emoji: "👍", reaction: "like" } },
        { sender: { id: PSID }, recipient: { id: t.pageId }, timestamp: now + 20, message_edit: { mid: "m_a", text: "my parcel is lost, order 5521", num_edit: 1 } },
        { sender: { id: PSID }, recipient: { id: t.pageId }, timestamp: now + 30, delivery: { mids: ["m_out_1"], watermark: Date.now() + 60_000 } },
      ]),
    );
    const l = await view(t, id);
    expect(l.find((m) => m.extra?.kind === "reaction")).toMatchObject({ text: "reacted 👍", extra: { about: "I'll look into it" } });
    expect(l.find((m) => m.extra?.kind === "edit")).toMatchObject({ text: "my parcel is lost, order 5521", extra: { about: "my parcel is lost" } });
    expect(l.find((m) => m.clientId === "r-2")?.extra?.delivery).toBe("delivered");
    await hook(metaBody("page", t.pageId, [{ sender: { id: PSID }, recipient: { id: t.pageId }, timestamp: now + 40, read: { watermark: Date.now() + 60_000 } }]));
    expect((await view(t, id)).find((m) => m.clientId === "r-2")?.extra?.delivery).toBe("read");
  });

  it("replies with HUMAN_AGENT between 24 hours and 7 days, and refuses after 7 days", async () => {
    const t = await socialTenant();
    const { sent } = fakeProviders();
    const id = await accepted(t, { mid: "m_old", text: "hello?", at: Date.now() - 3 * 86400_000 });
    const info = await t.call<{ social: { window: { mode: string } } }>(`/api/v1/chats/${id}`, { as: "ana" });
    expect(info.social.window.mode).toBe("human_agent");
    unwrap(await chatStub(await tenv(t.id), t.id, id).post("agent:ana", { clientId: "late-1", text: "Sorry for the wait!" }));
    await drainSocial(t);
    expect((await sentFor(t, sent))[0]!.body).toMatchObject({ messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT" });
    const t2 = await socialTenant();
    const id2 = await accepted(t2, { mid: "m_older", text: "hello?", at: Date.now() - 8 * 86400_000 });
    expect(await chatStub(await tenv(t2.id), t2.id, id2).post("agent:ana", { clientId: "late-2", text: "Hi" })).toMatchObject({ ok: false, error: { code: "window_closed" } });
    // Templates are WhatsApp's.
    expect((await t2.api(`/api/v1/chats/${id2}/template`, { method: "POST", as: "ana", json: { name: "follow_up", clientId: "tpl-00002" } })).status).toBe(400);
  });

  it("takes Instagram messages by the linked account id, to the tenant that owns it", async () => {
    const a = await socialTenant();
    const b = await socialTenant({}, "b-app-secret");
    const ig = { object: "instagram", entry: [{ id: b.instagramId, time: Date.now(), messaging: [{ sender: { id: "1784" }, recipient: { id: b.instagramId }, timestamp: Date.now(), message: { mid: "ig_1", text: "hi from insta" } }] }] };
    expect((await hook(ig)).status).toBe(403);
    expect((await hook(ig, "b-app-secret")).status).toBe(200);
    const rows = await socialRows(b, "in");
    expect(rows).toHaveLength(1);
    expect((await b.call<{ channel: string }>(`/api/v1/interactions/${rows[0]!.interaction_id}`)).channel).toBe("instagram");
    expect(await socialRows(a, "in")).toHaveLength(0);
  });
});
