// Attacks on the website chat (issue 12): the transcript as a mail relay (item 6), the widget's
// clientId as a permanent credential (item 9), a customer flooding the chat (item 10) and a form's
// thankYouUrl as a script URL (item 10).
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { chatStub } from "../../durable-objects/names.ts";
import { parseConfig, type ConfigError, type TenantConfigInput } from "../../workers/config/schema.ts";
import { agentTakes, chatTenant, client, session, SHOP, startChat } from "../chat-helpers.ts";
import { flush, outbox, outboxRaw } from "../email-helpers.ts";
import { tenv, baseConfig, ready, until, type Tenant } from "../helpers.ts";

const mailTenant = (extra: Partial<TenantConfigInput> = {}) =>
  chatTenant([{ id: "ana", capacity: { chat: 20 } }], {}, { mailboxes: [{ address: `help@${Date.now()}.example`, workflow: "main" }], ...extra });

const start = (t: Tenant, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  exports.default.fetch(
    new Request(`http://parley.test/api/v1/chat/${t.id}/sessions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Origin: SHOP, ...headers },
      body: JSON.stringify({ name: "Kim Lee", ...body }),
    }),
  );

const transcripts = async (t: Tenant) => (await outbox(t)).filter((m) => m.subject.startsWith("Your chat with"));

describe("item 6: chat transcripts are no mail relay", () => {
  it("refuses a transcript to an address the customer did not give before the chat", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const s = await startChat(t, { email: "kim@example.com" });
    const r = await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: { email: "victim@example.net" }, origin: SHOP });
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: { code: "transcript_address" } });
    // The pre-chat address itself (named again, in any case) is fine.
    const ok = await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: { email: "KIM@example.com" }, origin: SHOP });
    expect(ok.status).toBe(200);
  });

  it("refuses a transcript when no address was given before the chat", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const s = await startChat(t);
    const r = await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: { email: "victim@example.net" }, origin: SHOP });
    expect(r.status).toBe(403);
    const bare = await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: {}, origin: SHOP });
    expect(bare.status).toBe(409);
    expect(await bare.json()).toMatchObject({ error: { code: "no_transcript_address" } });
  });

  it("mails the bare address, without the display name the customer typed", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const s = await startChat(t, { name: "Win a prize at evil.example", email: "kim@example.com" });
    expect((await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: {}, origin: SHOP })).status).toBe(200);
    expect((await session(`${s.chatId}/end`, s.token, { method: "POST", json: {}, origin: SHOP })).status).toBe(200);
    await until(async () => (await transcripts(t)).length === 1 || (await flush(t.id), false), "the transcript mail");
    const [m] = await transcripts(t);
    const raw = await outboxRaw(t, m!.id);
    const to = /^To:.*$/im.exec(raw)?.[0] ?? "";
    expect(to).toContain("kim@example.com");
    expect(to).not.toMatch(/prize|evil/i);
  });

  it("mails one address no more than the tenant's autoReplyLimit, however many chats ask", async () => {
    const t = await mailTenant({ email: { autoReplyLimit: { max: 2, perSeconds: 86400 } } });
    await ready(t, "ana");
    for (let i = 0; i < 5; i++) {
      const s = await startChat(t, { email: "victim@example.net" });
      expect((await session(`${s.chatId}/transcript`, s.token, { method: "POST", json: {}, origin: SHOP })).status).toBe(200);
      expect((await session(`${s.chatId}/end`, s.token, { method: "POST", json: {}, origin: SHOP })).status).toBe(200);
    }
    await flush(t.id);
    expect(await transcripts(t)).toHaveLength(2);
    const suppressed = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interaction_events WHERE tenant_id = ? AND action = 'auto_reply_suppressed'").bind(t.id).first<{ n: number }>();
    expect(suppressed?.n).toBe(3);
  });
});

describe("item 9: a chat's clientId is no permanent credential", () => {
  it("gives no token for a known clientId once the chat has ended", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const clientId = crypto.randomUUID();
    const s = await startChat(t, { clientId });
    await session(`${s.chatId}/end`, s.token, { method: "POST", json: {}, origin: SHOP });
    const again = await start(t, { clientId }, { "CF-Connecting-IP": "203.0.113.9" });
    expect(again.status).toBe(409);
    const body = await again.json<{ token?: string; error: { code: string } }>();
    expect(body.token).toBeUndefined();
    expect(body.error.code).toBe("chat_not_resumable");
  });

  it("gives no token for a known clientId after the resume window, without the original token", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const clientId = crypto.randomUUID();
    const s = await startChat(t, { clientId });
    // The chat started three minutes ago.
    await env.SHARD_1.prepare("UPDATE interactions SET created_at = created_at - 180000 WHERE tenant_id = ? AND id = ?").bind(t.id, s.interactionId).run();
    const stolen = await start(t, { clientId }, { "CF-Connecting-IP": "203.0.113.9" });
    expect(stolen.status).toBe(409);
    expect((await stolen.json<{ token?: string }>()).token).toBeUndefined();
    // Someone else's token for another chat is no proof either.
    const other = await startChat(t);
    const wrong = await start(t, { clientId }, { Authorization: `Bearer ${other.token}` });
    expect(wrong.status).toBe(409);
    // The customer who holds the chat's token still renews it while the chat is live.
    const mine = await start(t, { clientId }, { Authorization: `Bearer ${s.token}` });
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ interactionId: s.interactionId, token: expect.any(String) });
  });

  it("still answers a retry (a lost answer, a reload) within the window with the same chat", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const clientId = crypto.randomUUID();
    const a = await startChat(t, { clientId });
    const b = await start(t, { clientId });
    expect(b.status).toBe(200);
    expect(await b.json()).toMatchObject({ interactionId: a.interactionId });
  });
});

describe("item 10: a customer cannot flood a chat, and staff can always post", () => {
  it("refuses a customer's burst of posts with 429 rate_limited and Retry-After", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const s = await startChat(t);
    const codes: number[] = [];
    let limited: Response | null = null;
    for (let i = 0; i < 40; i++) {
      const r = await session(`${s.chatId}/messages`, s.token, { method: "POST", json: { clientId: `f${i}`, text: `flood ${i}` }, origin: SHOP });
      codes.push(r.status);
      if (r.status === 429) limited ??= r;
      else await r.body?.cancel();
    }
    expect(codes.filter((c) => c === 201).length).toBeLessThan(40);
    expect(limited).not.toBeNull();
    expect(limited!.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await limited!.json()).toMatchObject({ error: { code: "rate_limited" } });
  });

  it("answers a burst of socket frames past the limit with rate_limited error frames", async () => {
    const t = await mailTenant();
    await ready(t, "ana");
    const s = await startChat(t);
    const kim = await client(s.chatId, s.token);
    await kim.next((f) => f.type === "hello", "hello");
    for (let i = 0; i < 40; i++) kim.send({ type: "msg", clientId: `w${i}`, text: `flood ${i}` });
    const err = await kim.next((f) => f.type === "error" && f.error?.code === "rate_limited", "a rate_limited frame");
    expect(err.clientId).toMatch(/^w\d+$/);
    kim.close();
  });

  it("lets the agent post after the customer filled the chat to its cap", async () => {
    // A generous customer rate, so the test can reach the cap quickly.
    const t = await chatTenant([{ id: "ana", capacity: { chat: 3 } }], { messageRate: { max: 100_000, perSeconds: 1 } });
    await ready(t, "ana");
    const s = await startChat(t);
    await agentTakes(t, "ana", s.interactionId, true);
    const stub = chatStub(await tenv(t.id), t.id, s.interactionId);
    let refused: string | null = null;
    for (let i = 0; i < 2100 && !refused; i++) {
      const r = await stub.post("customer", { clientId: `c${i}`, text: `spam ${i}` });
      if (!r.ok) refused = r.error.code;
    }
    expect(refused).toBe("chat_too_long");
    const agent = await stub.post("agent:ana", { clientId: "a1", text: "I am still here" });
    expect(agent.ok).toBe(true);
    // 2,000 posts one after another: room for a loaded machine.
  }, 120_000);
});

describe("item 10: a form's thankYouUrl and the config's origins are web URLs", () => {
  const base = () => baseConfig("sec", [{ id: "ana" }]);
  const issues = (extra: Partial<TenantConfigInput>): string[] => {
    try {
      parseConfig({ ...base(), ...extra });
      return [];
    } catch (e) {
      return (e as ConfigError).issues.map((i) => i.path);
    }
  };
  const form = (f: Record<string, unknown>) => ({ forms: [{ name: "contact", workflow: "main", ...f }] }) as Partial<TenantConfigInput>;

  it("refuses javascript:, data: and other non-https thankYouUrls", () => {
    for (const url of ["javascript:alert(document.domain)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>", "http://evil.example/thanks", "ftp://x.example/"]) {
      expect(issues(form({ thankYouUrl: url })), url).toEqual(["forms[0].thankYouUrl"]);
    }
    expect(issues(form({ thankYouUrl: "https://shop.example/thanks" }))).toEqual([]);
    // Local development: plain http on a loopback host.
    expect(issues(form({ thankYouUrl: "http://localhost:8787/thanks" }))).toEqual([]);
  });

  it("takes only https origins (http on a loopback host) as allowedOrigins", () => {
    expect(issues(form({ allowedOrigins: ["javascript:alert(1)"] }))).toEqual(["forms[0].allowedOrigins[0]"]);
    expect(issues(form({ allowedOrigins: ["http://shop.example"] }))).toEqual(["forms[0].allowedOrigins[0]"]);
    expect(issues(form({ allowedOrigins: ["https://shop.example/some/page?x=1"] }))).toEqual(["forms[0].allowedOrigins[0]"]);
    expect(issues(form({ allowedOrigins: ["https://shop.example", "https://shop.example/", "http://localhost:8787", "http://127.0.0.1:8787"] }))).toEqual([]);
    expect(issues({ chat: { workflow: "main", allowedOrigins: ["null"] } } as Partial<TenantConfigInput>)).toEqual(["chat.allowedOrigins[0]"]);
    expect(issues({ callbacks: { workflow: "main", allowedOrigins: ["http://shop.example"] } } as Partial<TenantConfigInput>)).toEqual(["callbacks.allowedOrigins[0]"]);
  });
});
