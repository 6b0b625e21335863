// Workflow steps on inbound email (screening, acknowledgement with field codes, loop protection),
// QA review of replies, and outbound delivery with retries and the dead-letter queue.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import PostalMime from "postal-mime";
import { autoCount, deliver, flush, mail, mailTenant, mid, outbox, outboxRaw } from "../email-helpers.ts";
import { interaction, offerFor, post, ready, stateIs, until } from "../helpers.ts";
import type { TenantConfigInput } from "../../workers/config/schema.ts";
import { backoffSeconds } from "../../workers/outbound/deliver.ts";
import { sweep } from "../../workers/sweep.ts";

const QUEUES: TenantConfigInput["queues"] = [
  { name: "inbound", media: ["email"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
  { name: "billing", media: ["email"], steps: [{ type: "route", targets: [{ skills: "billing >= 1" }] }] },
  { name: "review", media: ["email"], steps: [] },
];

afterEach(() => vi.restoreAllMocks());

describe("screening rules", () => {
  it("routes, prioritizes, categorizes and stops spam, as the rules say", async () => {
    const t = await mailTenant([{ id: "a1", skills: { billing: 5 } }], {
      screeningRules: [
        { name: "spam", when: 'RegExFind(subject, "casino|viagra") || Find(header("X-Spam-Flag"), "yes")', actions: [{ type: "spam", reason: "spam words" }] },
        { name: "billing", when: 'Find(any, "invoice") && !Find(from, "@partner.example")', actions: [{ type: "route", queue: "billing" }, { type: "addCategory", category: "billing" }, { type: "setAttributes", attributes: { topic: "billing" } }] },
        { name: "urgent", when: 'RegExMatch(subject, ".*\\\\burgent\\\\b.*")', actions: [{ type: "setPriority", priority: 7 }] },
      ],
      workflows: [{ name: "email", queue: "inbound", screen: ["spam", "billing", "urgent"] }],
    }, QUEUES);
    const spam = await t.receive(mail({ subject: "Win at the CASINO" }));
    expect(spam.state).toBe("stopped");
    const s = await interaction(t, spam.interactionId);
    expect(s.history.at(-1)).toMatchObject({ action: "stopped", reason: { why: "spam words", rules: ["spam"] } });
    // Created and stopped at once, in one batch: done from the start, its history 'created' then 'stopped'.
    expect(s.history.map((h) => [h.action, h.from, h.to])).toEqual([["created", null, "new"], ["stopped", "new", "stopped"]]);
    const row = await env.SHARD_1.prepare("SELECT created_at, done_at FROM interactions WHERE tenant_id = ? AND id = ?").bind(t.id, spam.interactionId).first<{ created_at: number; done_at: number | null }>();
    expect(row!.done_at).toBe(row!.created_at);
    const flagged = await t.receive(mail({ subject: "hello", headers: { "X-Spam-Flag": "YES" } }));
    expect(flagged.state).toBe("stopped");

    const bill = await t.receive(mail({ subject: "URGENT: wrong amount", text: "My INVOICE 42 is wrong" }));
    const b = await stateIs(t, bill.interactionId, "queued");
    expect(b).toMatchObject({ queue: "billing", priority: 7 });
    expect((b as unknown as { categories: string[] }).categories).toEqual(["billing"]);

    const partner = await t.receive(mail({ from: "x@partner.example", subject: "invoice copy" }));
    expect((await stateIs(t, partner.interactionId, "queued")).queue).toBe("inbound");
  });

  it("auto-responds from a rule with the standard response's field codes rendered", async () => {
    const t = await mailTenant([{ id: "a1" }], {
      screeningRules: [{ name: "refunds", when: 'Find(subject, "refund")', actions: [{ type: "autoRespond", response: "refund" }] }],
      workflows: [{ name: "email", queue: "inbound", screen: ["refunds"] }],
    }, QUEUES);
    await t.receive(mail({ subject: "Where is my refund?" }));
    await t.receive(mail({ subject: "Other question" }));
    await flush(t.id);
    const box = await outbox(t);
    expect(box).toHaveLength(1);
    const text = (await PostalMime.parse(await outboxRaw(t, box[0]!.id))).text ?? "";
    // No agent on an automatic response: Agent.FullName renders empty, never as a field code.
    expect(text).toContain("Hi Jane, your refund is on its way.");
    expect(text).not.toContain("<$");
  });

  it("refuses a config with a bad rule or an unknown field code, naming the field", async () => {
    const t = await mailTenant([{ id: "a1", role: "admin" }]);
    const cfg = (await t.call<{ config: Record<string, unknown> }>("/api/v1/admin/config", { as: "a1" })).config;
    const bad1 = await t.api("/api/v1/admin/config", { method: "PUT", as: "a1", json: { ...cfg, screeningRules: [{ name: "x", when: 'Find(subject, "a" ||', actions: [{ type: "spam" }] }] } });
    expect(bad1.status).toBe(400);
    expect(((await bad1.json()) as { error: { message: string } }).error.message).toMatch(/^screeningRules\[0\]\.when: /);
    const bad2 = await t.api("/api/v1/admin/config", { method: "PUT", as: "a1", json: { ...cfg, standardResponses: [{ id: "r", name: "R", text: "Hi <$ Contact.FristName $>" }] } });
    expect(bad2.status).toBe(400);
    expect(((await bad2.json()) as { error: { message: string } }).error.message).toMatch(/standardResponses\[0\]\.text: .*Contact\.FristName/);
  });
});

describe("acknowledgements and loop protection", () => {
  const ackConfig = (extra: Partial<TenantConfigInput> = {}): Partial<TenantConfigInput> => ({
    workflows: [{ name: "email", queue: "inbound", acknowledge: "ack" }],
    ...extra,
  });

  it("acknowledges with field codes rendered, marked Auto-Submitted, threaded to the customer's message", async () => {
    const t = await mailTenant([{ id: "a1" }], ackConfig(), QUEUES);
    const m = mid("ack");
    const r = await t.receive(mail({ messageId: m, subject: "Broken zipper" }));
    await flush(t.id);
    const box = await outbox(t);
    expect(box).toHaveLength(1);
    expect(box[0]).toMatchObject({ auto: true, delivered: false, rcpt_to: ["jane@customer.example"] });
    const parsed = await PostalMime.parse(await outboxRaw(t, box[0]!.id));
    expect(parsed.text).toContain(`Hello Jane, we received Broken zipper as ${r.interactionId}.`);
    expect(parsed.headers.find((h) => h.key === "auto-submitted")?.value).toBe("auto-replied");
    expect(parsed.inReplyTo).toBe(`<${m}>`);
    expect(parsed.subject).toMatch(/^Re: Broken zipper \[#[A-Z0-9]{5}\]$/);
    const i = await interaction(t, r.interactionId);
    await until(async () => (await interaction(t, r.interactionId)).history.some((h) => h.action === "auto_reply_sent"), "auto_reply_sent");
    expect(i.history[0]!.action).toBe("created");
  });

  it("sends nothing automatic to robots: Auto-Submitted, Precedence bulk, List-Id, empty Return-Path, mailer-daemon", async () => {
    const t = await mailTenant([{ id: "a1" }], ackConfig(), QUEUES);
    const robots = [
      mail({ headers: { "Auto-Submitted": "auto-replied" } }),
      mail({ headers: { Precedence: "bulk" } }),
      mail({ headers: { "List-Id": "<news.list.example>" } }),
      mail({ headers: { "Return-Path": "<>" } }),
      mail({ from: "MAILER-DAEMON@mx.example" }),
      mail({ from: "postmaster@mx.example" }),
    ];
    for (const raw of robots) {
      const r = await t.receive(raw);
      const i = await interaction(t, r.interactionId);
      expect(i.history.some((h) => h.action === "auto_reply_suppressed")).toBe(true);
    }
    expect(await autoCount(t.id)).toBe(0);
    // Auto-Submitted: no is a person.
    await t.receive(mail({ headers: { "Auto-Submitted": "no" } }));
    expect(await autoCount(t.id)).toBe(1);
  });

  it("sends at most N automatic replies to one sender per period (the autowar guard)", async () => {
    const t = await mailTenant([{ id: "a1" }], ackConfig({ email: { autoReplyLimit: { max: 2, perSeconds: 3600 } } }), QUEUES);
    for (let i = 0; i < 5; i++) await t.receive(mail({ subject: `Try ${i}` }));
    expect(await autoCount(t.id)).toBe(2);
    await t.receive(mail({ from: "other@customer.example" }));
    expect(await autoCount(t.id)).toBe(3);
  });

  it("stops two Parley mailboxes that acknowledge each other", async () => {
    const a = await mailTenant([{ id: "a1" }], ackConfig(), QUEUES);
    const b = await mailTenant([{ id: "b1" }], ackConfig(), QUEUES);
    // Something sends from B's mailbox to A's: A acknowledges; B gets that acknowledgement; and so on.
    let next = mail({ from: b.mailbox, to: a.mailbox, subject: "Hello from B" });
    const acks = { a: 0, b: 0 };
    for (let round = 0; round < 6; round++) {
      const [to, from] = round % 2 === 0 ? [a, b] : [b, a];
      await to.receive(next, to.mailbox);
      await flush(to.id);
      const sent = (await outbox(to)).filter((m) => m.auto);
      if (to === a) acks.a = sent.length;
      else acks.b = sent.length;
      if (sent.length === 0) break;
      next = await outboxRaw(to, sent[0]!.id);
      expect(from.mailbox).toBeDefined();
    }
    expect(acks).toEqual({ a: 1, b: 0 });

    // Robots that strip the headers are stopped by the per-sender limit instead.
    const c = await mailTenant([{ id: "c1" }], ackConfig({ email: { autoReplyLimit: { max: 3, perSeconds: 3600 } } }), QUEUES);
    for (let i = 0; i < 10; i++) await c.receive(mail({ from: "robot@loop.example", subject: `Re: Re: ${i}` }));
    expect(await autoCount(c.id)).toBe(3);
  });
});

describe("QA review", () => {
  async function reviewTenant() {
    const t = await mailTenant([{ id: "a1", capacity: { email: 5 } }, { id: "sup", role: "supervisor" }], {
      workflows: [{ name: "email", queue: "inbound", review: { queue: "review", agents: ["a1"] } }],
    }, QUEUES);
    await ready(t, "a1");
    const r = await t.receive(mail({ messageId: mid("qa") }));
    await offerFor(t, "a1", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
    const d = await t.call<{ id: string; state: string; review: boolean }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "Draft answer", send: true }, expect: 201 });
    expect(d).toMatchObject({ state: "queued", review: true });
    await stateIs(t, d.id, "queued", (i) => i.queue === "review");
    const list = await t.call<{ items: { id: string }[] }>("/api/v1/reviews", { as: "sup" });
    expect(list.items.map((x) => x.id)).toContain(d.id);
    return { t, id: d.id };
  }

  it("approve: the reply goes out as written", async () => {
    const { t, id } = await reviewTenant();
    expect((await t.api(`/api/v1/replies/${id}/review`, { method: "POST", as: "a1", json: { action: "approve" } })).status).toBe(403);
    await t.call(`/api/v1/replies/${id}/review`, { method: "POST", as: "sup", json: { action: "approve" } });
    await flush(t.id);
    const msg = (await outbox(t)).find((m) => m.interaction_id === id)!;
    expect((await PostalMime.parse(await outboxRaw(t, msg.id))).text).toContain("Draft answer");
    const i = await stateIs(t, id, "done");
    expect(i.history.map((h) => h.action)).toEqual(expect.arrayContaining(["drafted", "review_requested", "approved", "kept_in_outbox"]));
  });

  it("edit: the reviewer's text is what goes out", async () => {
    const { t, id } = await reviewTenant();
    await t.call(`/api/v1/replies/${id}/review`, { method: "POST", as: "sup", json: { action: "approve", comment: "tone", edit: { text: "Better answer" } } });
    await flush(t.id);
    const msg = (await outbox(t)).find((m) => m.interaction_id === id)!;
    const text = (await PostalMime.parse(await outboxRaw(t, msg.id))).text ?? "";
    expect(text).toContain("Better answer");
    expect(text).not.toContain("Draft answer");
  });

  it("return: back to the author as a draft with the comment; the author fixes and sends again", async () => {
    const { t, id } = await reviewTenant();
    const bad = await t.api(`/api/v1/replies/${id}/review`, { method: "POST", as: "sup", json: { action: "return" } });
    expect(bad.status).toBe(400);
    await t.call(`/api/v1/replies/${id}/review`, { method: "POST", as: "sup", json: { action: "return", comment: "Add the order number" } });
    await stateIs(t, id, "draft");
    const drafts = await t.call<{ replies: { id: string; last_note: string }[] }>("/api/v1/replies", { as: "a1" });
    expect(drafts.replies.find((r) => r.id === id)?.last_note).toContain("Add the order number");
    await t.call(`/api/v1/replies/${id}`, { method: "PUT", as: "a1", json: { text: "Order 1234 ships today" } });
    const again = await t.call<{ state: string }>(`/api/v1/replies/${id}/send`, { method: "POST", as: "a1", json: {} });
    expect(again.state).toBe("queued");
    expect((await t.api(`/api/v1/replies/${id}/send`, { method: "POST", as: "a1", json: {} })).status).toBe(409);
  });
});

/** Answers the provider's requests (only those: anything else still goes to the real fetch). */
function provider(answer: (init: RequestInit | undefined) => Promise<Response>) {
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.startsWith("https://mail.provider.example.com/") ? answer(init) : realFetch(input, init);
  });
}

/** A tenant delivering through an HTTP provider, and an email in agent a1's hands. */
async function viaProvider(tag: string) {
  // The bearer token is the tenant's own secret "mail" (issue 12: never the platform's MAIL_API_TOKEN).
  const t = await mailTenant([{ id: "a1" }], { email: { transport: { kind: "http", url: "https://mail.provider.example.com/send", secret: "mail" } } }, QUEUES, { mail: "test-token" });
  await ready(t, "a1");
  const r = await t.receive(mail({ messageId: mid(tag) }));
  await offerFor(t, "a1", r.interactionId);
  await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
  return { t, r };
}

describe("outbound delivery", () => {
  it("backs off 10 s, 30 s, 90 s ... up to 15 minutes", () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(backoffSeconds)).toEqual([10, 30, 90, 270, 810, 900, 900]);
  });

  it("retries a failing provider with backoff, records each failure, and marks the reply failed from the dead-letter queue", async () => {
    const { t, r } = await viaProvider("fail");
    const calls: string[] = [];
    provider(async (init) => {
      calls.push(String(init?.body ?? ""));
      return new Response("try later", { status: 503 });
    });
    const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", send: true }, expect: 201 });
    const res1 = await deliver(t.id, [d.emailId], { attempts: 1 });
    // Retried, not acknowledged (the plugin's result does not carry the delay: backoffSeconds is unit-tested).
    expect(res1.retryMessages.map((m) => m.msgId)).toEqual([`msg-0-${d.emailId}`]);
    expect(res1.explicitAcks).toEqual([]);
    const res2 = await deliver(t.id, [d.emailId], { attempts: 2 });
    expect(res2.retryMessages).toHaveLength(1);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    const sentBody = JSON.parse(calls[0]!) as { from: string; to: string[]; raw: string };
    expect(sentBody.to).toEqual(["jane@customer.example"]);
    expect(atob(sentBody.raw)).toContain("Subject: Re: Help with my order");
    const row = await env.SHARD_1.prepare("SELECT status, attempts, last_error FROM emails WHERE tenant_id = ? AND id = ?").bind(t.id, d.emailId).first<{ status: string; attempts: number; last_error: string }>();
    expect(row).toMatchObject({ status: "sending" });
    expect(row!.attempts).toBeGreaterThanOrEqual(2);
    expect(row!.last_error).toContain("503");
    // The Queue gives up after max_retries and hands the job to the dead-letter queue.
    await deliver(t.id, [d.emailId], { queue: "parley-sends-dlq", attempts: 6 });
    const i = await stateIs(t, d.id, "failed");
    expect(i.history.filter((h) => h.action === "delivery_attempt_failed").length).toBeGreaterThanOrEqual(2);
    expect(i.history.at(-1)).toMatchObject({ action: "delivery_failed" });
    const failed = await t.call<{ messages: { delivery: { attempts: number; lastError: string } }[] }>(`/api/v1/interactions/${d.id}/messages`, { as: "a1" });
    expect(failed.messages.at(-1)!.delivery.lastError).toContain("503");
  });

  it("delivers once when the provider recovers, even if the job runs twice", async () => {
    const { t, r } = await viaProvider("ok");
    let n = 0;
    provider(async () => {
      n++;
      return n === 1 ? new Response("busy", { status: 429 }) : Response.json({ id: "prov-1" });
    });
    const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", send: true }, expect: 201 });
    await deliver(t.id, [d.emailId], { attempts: 1 });
    await deliver(t.id, [d.emailId], { attempts: 2 });
    await deliver(t.id, [d.emailId], { attempts: 3 });
    expect(n).toBe(2);
    const i = await stateIs(t, d.id, "done");
    expect(i.history.at(-1)).toMatchObject({ action: "delivered" });
  });

  it("delivers through Cloudflare's send_email binding (wrangler's local one here)", async () => {
    const t = await mailTenant([{ id: "a1" }], { email: { transport: { kind: "send_email" } } }, QUEUES);
    await ready(t, "a1");
    const r = await t.receive(mail({ messageId: mid("se"), cc: "boss@customer.example" }));
    await offerFor(t, "a1", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
    const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", send: true }, expect: 201 });
    await deliver(t.id, [d.emailId]);
    const i = await stateIs(t, d.id, "done");
    expect(i.history.at(-1)).toMatchObject({ action: "delivered", reason: { transport: "send_email", delivered: true } });
    const row = await env.SHARD_1.prepare("SELECT status, transport, attempts FROM emails WHERE tenant_id = ? AND id = ?").bind(t.id, d.emailId).first();
    expect(row).toMatchObject({ status: "sent", transport: "send_email" });
    expect((await outbox(t)).length).toBe(0);
  });

  it("gives up at once on a permanent refusal", async () => {
    const { t, r } = await viaProvider("perm");
    provider(async () => new Response("mailbox does not exist", { status: 422 }));
    const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "hi", send: true }, expect: 201 });
    const res = await deliver(t.id, [d.emailId]);
    expect(res.retryMessages).toEqual([]);
    await stateIs(t, d.id, "failed");
  });
});

describe("QA review under contention", () => {
  it("lets one of two reviewers act; the other gets 409 and the reply goes out once", async () => {
    const t = await mailTenant([{ id: "a1", capacity: { email: 5 } }, { id: "s1", role: "supervisor" }, { id: "s2", role: "supervisor" }], {
      workflows: [{ name: "email", queue: "inbound", review: { queue: "review", agents: ["a1"] } }],
    }, QUEUES);
    await ready(t, "a1");
    const r = await t.receive(mail({ messageId: mid("qa2") }));
    await offerFor(t, "a1", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
    const d = await t.call<{ id: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "Answer", send: true }, expect: 201 });
    // Supervisors cannot take a reply out of review by moving or stopping it.
    expect((await t.api(`/api/v1/interactions/${d.id}/move`, { method: "POST", as: "s1", json: { queue: "inbound" } })).status).toBe(409);
    const [x, y] = await Promise.all([
      t.api(`/api/v1/replies/${d.id}/review`, { method: "POST", as: "s1", json: { action: "approve" } }),
      t.api(`/api/v1/replies/${d.id}/review`, { method: "POST", as: "s2", json: { action: "approve", edit: { text: "Edited" } } }),
    ]);
    expect([x.status, y.status].sort()).toEqual([200, 409]);
    await flush(t.id);
    expect((await outbox(t)).filter((m) => m.interaction_id === d.id)).toHaveLength(1);
    await stateIs(t, d.id, "done");
  });
});

describe("the sweep and interrupted sends", () => {
  it("gives a draft back to its author, and a reply back to review, when the Worker holding it died midway", async () => {
    const t = await mailTenant([{ id: "a1", capacity: { email: 5 } }], {}, QUEUES);
    await ready(t, "a1");
    const r = await t.receive(mail({ messageId: mid("held") }));
    await offerFor(t, "a1", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a1");
    const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${r.interactionId}/replies`, { method: "POST", as: "a1", json: { text: "x" }, expect: 201 });
    // A send that claimed the draft and never finished (the Worker went away).
    const old = Date.now() - 11 * 60_000;
    await env.SHARD_1.prepare("UPDATE emails SET status = 'claimed', updated_at = ? WHERE tenant_id = ? AND id = ?").bind(old, t.id, d.emailId).run();
    expect((await t.api(`/api/v1/replies/${d.id}`, { method: "PUT", as: "a1", json: { text: "y" } })).status).toBe(409);
    const report = await sweep(env);
    expect(report.released).toBeGreaterThanOrEqual(1);
    expect((await t.api(`/api/v1/replies/${d.id}`, { method: "PUT", as: "a1", json: { text: "y" } })).status).toBe(200);
    // A recent claim is a send in progress: left alone.
    await env.SHARD_1.prepare("UPDATE emails SET status = 'claimed', updated_at = ? WHERE tenant_id = ? AND id = ?").bind(Date.now(), t.id, d.emailId).run();
    await sweep(env);
    const row = await env.SHARD_1.prepare("SELECT status FROM emails WHERE tenant_id = ? AND id = ?").bind(t.id, d.emailId).first<{ status: string }>();
    expect(row!.status).toBe("claimed");
  });
});
