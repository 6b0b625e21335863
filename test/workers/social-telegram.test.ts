// Telegram inside workerd: the webhook's secret token, exactly once per update_id, the provider's
// order, files through getFile kept through failures, unknown updates, sends (no window on
// Telegram), and each bot to its tenant.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import { tenv, offerFor, post, ready, until } from "../helpers.ts";
import { BOT_TOKEN_SECRET, drainSocial, sentFor, fakeProviders, retryMediaJob, socialRows, socialTenant, telegramPost, type SocialTenant } from "../social-helpers.ts";

const CHAT = 99887766;
let updates = 1000;
const update = (extra: Record<string, unknown>, id = updates++) => ({ update_id: id, ...extra });
const message = (text: string, at: number, extra: Record<string, unknown> = {}) => ({ message: { message_id: updates, from: { id: CHAT, is_bot: false, first_name: "Mira", last_name: "Sol" }, chat: { id: CHAT, type: "private" }, date: Math.floor(at / 1000), text, ...extra } });
const view = async (t: SocialTenant, id: string) => unwrap(await chatStub(await tenv(t.id), t.id, id).since("customer", 0)).messages;
const conversationOf = (t: SocialTenant) => until(async () => (await socialRows(t, "in")).find((r) => r.interaction_id)?.interaction_id, "the conversation");

describe("Telegram", () => {
  afterEach(() => vi.restoreAllMocks());

  it("refuses a wrong or missing secret token and an unknown bot alike, storing nothing", async () => {
    const t = await socialTenant();
    expect((await telegramPost(t, update(message("hi", Date.now())), "wrong")).status).toBe(403);
    const other = { ...t, botId: "123456789" };
    expect((await telegramPost(other, update(message("hi", Date.now())))).status).toBe(403);
    expect(await socialRows(t, "in")).toHaveLength(0);
  });

  it("stores a repeated update_id once, in the provider's order, and names the customer", async () => {
    const t = await socialTenant();
    const now = Date.now();
    const u2 = update(message("second", now));
    expect(await (await telegramPost(t, u2)).json()).toMatchObject({ received: 1 });
    expect(await (await telegramPost(t, u2)).json()).toMatchObject({ duplicates: 1 });
    await telegramPost(t, update(message("first", now - 60_000)));
    const id = await conversationOf(t);
    const said = (await view(t, id)).filter((m) => m.from === "customer").sort((a, b) => a.at - b.at || a.seq - b.seq);
    expect(said.map((m) => [m.text, m.extra?.late ?? false])).toEqual([["first", true], ["second", false]]);
    expect(said[0]!.name).toBe("Mira Sol");
  });

  it("fetches a photo through getFile, retrying after two failures, and keeps unknown updates flagged", async () => {
    const t = await socialTenant();
    let tries = 0;
    const { calls } = fakeProviders((url) => {
      if (url.includes("/getFile?file_id=PHOTO_BIG")) return ++tries <= 2 ? new Response("", { status: 502 }) : Response.json({ ok: true, result: { file_id: "PHOTO_BIG", file_path: "photos/file_7.jpg" } });
      if (url.endsWith("/file/bot" + `${t.botId}:${BOT_TOKEN_SECRET}` + "/photos/file_7.jpg")) return new Response("JPEGDATA", { headers: { "Content-Type": "image/jpeg" } });
      return new Response("", { status: 404 });
    });
    await telegramPost(t, update({ poll: { id: "p1", question: "?" } }));
    await telegramPost(t, update(message("", Date.now(), { text: undefined, caption: "receipt", photo: [{ file_id: "PHOTO_SMALL", width: 90 }, { file_id: "PHOTO_BIG", width: 1280 }] })));
    const rows = await socialRows(t, "in");
    expect(rows.map((r) => [r.kind, r.state])).toEqual([["unknown", "posted"], ["image", "posted"]]);
    expect(rows[0]!.flagged).toMatch(/poll/);
    const id = rows[1]!.interaction_id;
    expect((await view(t, id)).find((m) => m.clientId === `${rows[1]!.id}.0`)?.extra?.media).toBe("pending");
    await retryMediaJob(t, rows[1]!.id);
    expect((await view(t, id)).find((m) => m.clientId === `${rows[1]!.id}.0`)?.extra?.media).toBe("pending");
    await retryMediaJob(t, rows[1]!.id);
    const got = (await view(t, id)).find((m) => m.clientId === `${rows[1]!.id}.0`)!;
    expect(got).toMatchObject({ kind: "file", file: { type: "image/jpeg" } });
    expect(calls.filter((c) => c.includes("PHOTO_SMALL"))).toHaveLength(0);
    expect((await view(t, id)).some((m) => m.text === "receipt")).toBe(true);
  });

  it("sends the agent's text with sendMessage at any time, since Telegram has no window", async () => {
    const t = await socialTenant();
    const { sent } = fakeProviders();
    await ready(t, "ana");
    await telegramPost(t, update(message("are you there?", Date.now() - 3 * 86400_000)));
    const id = await conversationOf(t);
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    unwrap(await chatStub(await tenv(t.id), t.id, id).post("agent:ana", { clientId: "tg-1", text: "Yes, sorry for the wait" }));
    await drainSocial(t);
    expect(await sentFor(t, sent)).toEqual([{ url: `https://api.telegram.org/bot${t.botId}:${BOT_TOKEN_SECRET}/sendMessage`, auth: null, body: { chat_id: String(CHAT), text: "Yes, sorry for the wait" } }]);
    expect((await view(t, id)).find((m) => m.clientId === "tg-1")?.extra?.delivery).toBe("sent");
    expect((await socialRows(t, "out"))[0]).toMatchObject({ state: "sent", provider_id: `${t.botId}:msg:101` });
  });

  it("keeps a failed send's reason without the bot token in it", async () => {
    const t = await socialTenant();
    await ready(t, "ana");
    await telegramPost(t, update(message("hello", Date.now())));
    const id = await conversationOf(t);
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    const realFetch = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://api.telegram.org/")) return realFetch(input, init);
      return Response.json({ ok: false, error_code: 403, description: `Forbidden: bot was blocked by the user (url ${url})` }, { status: 403 });
    });
    unwrap(await chatStub(await tenv(t.id), t.id, id).post("agent:ana", { clientId: "tg-2", text: "Hello?" }));
    await drainSocial(t);
    const [row] = await socialRows(t, "out");
    expect(row!.state).toBe("failed");
    const failed = (await view(t, id)).find((m) => m.clientId === "tg-2")!;
    expect(failed.extra).toMatchObject({ delivery: "failed", error: expect.stringMatching(/blocked by the user/) });
    expect(JSON.stringify(failed)).not.toContain(BOT_TOKEN_SECRET);
    expect(JSON.stringify(await env.SHARD_1.prepare("SELECT error FROM social_messages WHERE tenant_id = ?").bind(t.id).all())).not.toContain(BOT_TOKEN_SECRET);
  });
});
