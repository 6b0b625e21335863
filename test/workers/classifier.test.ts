// The Content Analyzer in workerd: importing training objects, training in slices (across an
// eviction), activation and rollback, POST /classify, the classify step on email and SMS, and the
// agent's feedback becoming training data.
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeTenant, me, offerFor, post, ready, until, type Tenant } from "../helpers.ts";
import { genericSignature } from "../../workers/sms/generic-signature.ts";
import { session, SHOP, startChat } from "../chat-helpers.ts";
import { flush, mailTenant, mail, outbox } from "../email-helpers.ts";
import { CATEGORY_TREE, finishTraining, importExamples, jsonl, trainAndActivate } from "../classifier-helpers.ts";
import { EXAMPLES, PROBES } from "../fixtures/classifier/examples.ts";

const adminAndAgent = [{ id: "admin", role: "admin" as const }, { id: "a", capacity: { email: 1, sms: 1, chat: 1 } }];
const classifierTenant = () => makeTenant(adminAndAgent, undefined, { categories: CATEGORY_TREE });

describe("importing examples", () => {
  it("adds JSON Lines and CSV examples, and posting the same file again adds nothing", async () => {
    const t = await classifierTenant();
    const first = await importExamples(t);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ received: EXAMPLES.length, added: EXAMPLES.length, duplicates: 0 });
    expect(await (await importExamples(t)).json()).toEqual({ received: EXAMPLES.length, added: 0, duplicates: EXAMPLES.length });
    const csv = await t.api("/api/v1/admin/classifier/examples", { method: "POST", as: "admin", headers: { "Content-Type": "text/csv" }, body: 'text,category\n"Charged twice, again",billing\nI was charged twice for my subscription this month,billing\n' });
    expect(await csv.json()).toEqual({ received: 2, added: 1, duplicates: 1 });
    const summary = await t.call<{ categories: { id: string; imported: number }[] }>("/api/v1/admin/classifier", { as: "admin" });
    expect(summary.categories.find((c) => c.id === "billing")!.imported).toBe(13);
    const page = await t.call<{ examples: { text: string; category: string; source: string }[]; next: string | null }>("/api/v1/admin/classifier/examples?category=shipping&limit=5", { as: "admin" });
    expect(page.examples).toHaveLength(5);
    expect(page.examples.every((e) => e.category === "shipping" && e.source === "import")).toBe(true);
    const rest = await t.call<{ examples: unknown[] }>(`/api/v1/admin/classifier/examples?category=shipping&limit=50&before=${page.next}`, { as: "admin" });
    expect(rest.examples).toHaveLength(7);
  });

  it("refuses a wrong format, an unknown category, empty text and an oversized file, and stores nothing", async () => {
    const t = await classifierTenant();
    const post = (body: string | Uint8Array, type = "application/x-ndjson") => t.api("/api/v1/admin/classifier/examples", { method: "POST", as: "admin", headers: { "Content-Type": type }, body });
    const expectError = async (res: Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    };
    await expectError(await post(jsonl([{ text: "x", category: "billing" }]), "application/json"), 415, "unsupported_media_type");
    await expectError(await post('{"text":"ok","category":"billing"}\nnot json'), 400, "invalid_jsonl");
    await expectError(await post(jsonl([{ text: "ok", category: "billing" }, { text: "who", category: "legal" }])), 400, "unknown_category");
    await expectError(await post(jsonl([{ text: "  ", category: "billing" }])), 400, "empty_text");
    await expectError(await post("text,category\n\"open,billing", "text/csv"), 400, "invalid_csv");
    await expectError(await post(new Uint8Array(10 * 1024 * 1024 + 10).fill(0x20)), 413, "payload_too_large");
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM classifier_examples WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it("is for admins only", async () => {
    const t = await classifierTenant();
    expect((await importExamples(t, "a")).status).toBe(403);
    expect((await t.api("/api/v1/admin/classifier/train", { method: "POST", as: "a" })).status).toBe(403);
  });
});

describe("training", () => {
  it("trains in slices, survives an eviction between them, and ends with the report an unbroken run gives", async () => {
    const sliced = await classifierTenant();
    const whole = await classifierTenant();
    await importExamples(sliced);
    await importExamples(whole);
    const a = await env.CLASSIFIER.getByName(sliced.id).train({ by: null, sliceUpdates: 60, options: { dim: 1 << 12 } });
    const b = await env.CLASSIFIER.getByName(whole.id).train({ by: null, sliceUpdates: 100_000, options: { dim: 1 << 12 } });
    if (!a.ok || !b.ok) throw new Error("train refused");
    let evictions = 0;
    const doneA = await finishTraining(sliced.id, a.value.version, async (slice) => {
      if (slice % 3 === 1) {
        await evictDurableObject(env.CLASSIFIER.getByName(sliced.id));
        evictions++;
      }
    });
    const doneB = await finishTraining(whole.id, b.value.version);
    expect(doneA.state).toBe("ready");
    expect(evictions).toBeGreaterThan(1);
    expect(doneA.report.slices).toBeGreaterThan(5);
    expect(doneB.report.slices).toBe(1);
    const strip = (r: Record<string, unknown>) => ({ ...r, slices: 0 });
    expect(strip(doneA.report)).toEqual(strip(doneB.report));
    // The checkpoint is gone once training is over.
    expect((await env.BLOBS.list({ prefix: `classifier/${sliced.id}/` })).objects.map((o) => o.key)).toEqual([`classifier/${sliced.id}/v${a.value.version}/model`]);
  });

  it("reports per category, the curve, top-3 and out-of-scope recall on a held-out 10%", async () => {
    const t = await classifierTenant();
    await importExamples(t);
    const started = await t.call<{ version: number; heldOut: number; examples: number; labels: string[] }>("/api/v1/admin/classifier/train", { method: "POST", as: "admin", expect: 202 });
    expect(started.labels).toEqual(["_none", "billing", "cancel", "password", "shipping"]);
    expect(started.heldOut).toBeGreaterThanOrEqual(Math.ceil(started.examples * 0.1) - 1);
    await finishTraining(t.id, started.version);
    const v = await t.call<{ state: string; bytes: number; report: { categories: { id: string }[]; curve: unknown[]; top3: number; outOfScope: { examples: number }; macro: { f1: number }; thresholds: unknown } }>(
      `/api/v1/admin/classifier/versions/${started.version}`, { as: "admin" },
    );
    expect(v.state).toBe("ready");
    expect(v.report.categories.map((c) => c.id)).toEqual(["billing", "cancel", "password", "shipping"]);
    expect(v.report.curve).toHaveLength(21);
    expect(v.report.outOfScope.examples).toBeGreaterThan(0);
    expect(v.report.top3).toBeGreaterThan(0.5);
    expect(v.bytes).toBeGreaterThan(0);
  });

  it("trains one version at a time", async () => {
    const t = await classifierTenant();
    await importExamples(t);
    const first = await env.CLASSIFIER.getByName(t.id).train({ by: null, sliceUpdates: 5, options: { dim: 1 << 12 } });
    expect(first.ok).toBe(true);
    const second = await t.api("/api/v1/admin/classifier/train", { method: "POST", as: "admin" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("training_running");
  });

  it("fails a version the object left training when it stopped before its job was saved, and trains the next", async () => {
    const t = await classifierTenant();
    await importExamples(t);
    await env.SHARD_1.prepare("INSERT INTO classifier_models (tenant_id, version, state, created_at) VALUES (?, 1, 'training', ?)").bind(t.id, Date.now()).run();
    const started = await t.call<{ version: number }>("/api/v1/admin/classifier/train", { method: "POST", as: "admin", expect: 202 });
    expect(started.version).toBe(2);
    expect(await env.SHARD_1.prepare("SELECT state, error FROM classifier_models WHERE tenant_id = ? AND version = 1").bind(t.id).first()).toEqual({ state: "failed", error: "interrupted before training started; train again" });
    expect((await finishTraining(t.id, 2)).state).toBe("ready");
  });

  it("refuses to train without two categories' examples", async () => {
    const t = await classifierTenant();
    const r = await t.api("/api/v1/admin/classifier/train", { method: "POST", as: "admin" });
    expect(r.status).toBe(409);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("not_enough_examples");
  });
});

describe("activation, rollback and POST /classify", () => {
  it("classifies with the active version only, and rolls back to the one before", async () => {
    const t = await classifierTenant();
    await importExamples(t);
    const noModel = await t.api("/api/v1/classify", { method: "POST", json: { text: "refund me" } });
    expect(noModel.status).toBe(409);
    const v1 = await trainAndActivate(t);
    const probe = await t.call<{ categories: { id: string; confidence: number }[]; outOfScope: boolean; model: number; explanation: { feature: string }[] }>("/api/v1/classify", { method: "POST", json: { text: PROBES[0]!.text } });
    expect(probe.model).toBe(v1);
    expect(probe.categories[0]!.id).toBe("billing");
    expect(probe.outOfScope).toBe(false);
    expect(probe.explanation.length).toBeGreaterThan(0);
    // Staff tokens classify too.
    expect((await t.call<{ model: number }>("/api/v1/classify", { method: "POST", as: "a", json: { text: "where is my parcel" } })).model).toBe(v1);
    const off = await t.call<{ outOfScope: boolean }>("/api/v1/classify", { method: "POST", json: { text: "What is the weather in Rome tomorrow?" } });
    expect(off.outOfScope).toBe(true);

    const v2 = await trainAndActivate(t);
    expect((await t.call<{ model: number }>("/api/v1/classify", { method: "POST", json: { text: "refund" } })).model).toBe(v2);
    expect(await t.call("/api/v1/admin/classifier/rollback", { method: "POST", as: "admin" })).toEqual({ active: v1 });
    expect((await t.call<{ model: number }>("/api/v1/classify", { method: "POST", json: { text: "refund" } })).model).toBe(v1);
    expect((await t.api("/api/v1/admin/classifier/activate", { method: "POST", as: "admin", json: { version: 99 } })).status).toBe(409);
  });
});

async function classifyingMailTenant(autoRespond: boolean) {
  const t = await mailTenant([{ id: "admin", role: "admin", capacity: {} }, { id: "a", capacity: { email: 2 }, skills: { billing: 3 } }, { id: "b", capacity: { email: 2 } }], {
    categories: CATEGORY_TREE,
    workflows: [{ name: "email", queue: "inbound", classify: { autoRespond, rules: [{ category: "billing", queue: "money", priority: 7, skills: "billing >= 2" }] } }],
  }, [
    { name: "inbound", media: ["email", "generic"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
    { name: "money", media: ["email"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
  ]);
  await importExamples(t);
  await trainAndActivate(t);
  return t;
}

const interactionRow = (t: Tenant, id: string) => env.SHARD_1.prepare("SELECT queue, priority, categories, attributes FROM interactions WHERE tenant_id = ? AND id = ?").bind(t.id, id).first<{ queue: string; priority: number; categories: string; attributes: string }>();
const classification = (t: Tenant, id: string) => env.SHARD_1.prepare("SELECT model_version, categories, explanation FROM interaction_classifications WHERE tenant_id = ? AND interaction_id = ?").bind(t.id, id).first<{ model_version: number; categories: string; explanation: string }>();

describe("the classify step", () => {
  it("assigns categories with the model version and explanation, routes by category, requires its skill, raises priority, and replies above the threshold", async () => {
    const t = await classifyingMailTenant(true);
    const { categories } = await t.call<{ categories: { confidence: number }[] }>("/api/v1/classify", { method: "POST", json: { text: PROBES[0]!.text, subject: "Refund" } });
    await t.call("/api/v1/admin/classifier/settings", { method: "PUT", as: "admin", json: { autoPrecision: 0.85, outOfScopeBelow: 0.05, autoRespondAt: categories[0]!.confidence - 0.05, routeAt: 0.1, suggestAt: 0 } });
    await ready(t, "b");
    await ready(t, "a");
    const r = await t.receive(mail({ subject: "Refund", text: `${PROBES[0]!.text}\n\n-- \nJane` }));
    const row = await interactionRow(t, r.interactionId);
    expect(row).toMatchObject({ queue: "money", priority: 7 });
    expect(JSON.parse(row!.categories)).toContain("billing");
    expect(JSON.parse(row!.attributes)).toMatchObject({ required_skills: "(billing >= 2)" });
    const c = await classification(t, r.interactionId);
    expect(c!.model_version).toBeGreaterThan(0);
    expect(JSON.parse(c!.categories)[0].id).toBe("billing");
    expect(JSON.parse(c!.explanation).length).toBeGreaterThan(0);
    await flush(t.id);
    const sent = (await outbox(t)).filter((m) => m.interaction_id === r.interactionId && m.auto);
    expect(sent).toHaveLength(1);
    // Only the agent with the billing skill is offered it, though b was ready first.
    await offerFor(t, "a", r.interactionId);
    expect((await me(t, "b")).offers ?? []).toEqual([]);
    const offered = await env.SHARD_1.prepare("SELECT agent_id FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND action = 'offered'").bind(t.id, r.interactionId).all<{ agent_id: string }>();
    expect(offered.results.map((e) => e.agent_id)).toEqual(["a"]);
  });

  it("sends no automatic reply below the auto-respond threshold, and leaves out-of-scope mail where the workflow puts it", async () => {
    const t = await classifyingMailTenant(true);
    await t.call("/api/v1/admin/classifier/settings", { method: "PUT", as: "admin", json: { autoPrecision: 0.85, outOfScopeBelow: 0.05, autoRespondAt: 1, routeAt: 0.1, suggestAt: 0 } });
    const r = await t.receive(mail({ subject: "Refund", text: PROBES[0]!.text }));
    await flush(t.id);
    expect((await outbox(t)).filter((m) => m.interaction_id === r.interactionId && m.auto)).toHaveLength(0);
    expect((await interactionRow(t, r.interactionId))!.queue).toBe("money");
    const off = await t.receive(mail({ subject: "Hi", text: "What is the weather in Rome tomorrow?" }));
    expect(await interactionRow(t, off.interactionId)).toMatchObject({ queue: "inbound", priority: 0, categories: "[]" });
  });
});

describe("the classify step on SMS and chat", () => {
  it("classifies an SMS as it arrives and a chat on the customer's first message", async () => {
    const number = `+1312556${String(1000 + (Date.now() % 8000)).padStart(4, "0")}`;
    const t = await makeTenant(adminAndAgent, [
      { name: "inbound", media: ["email", "chat", "sms", "generic"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
      { name: "money", media: ["sms", "chat"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
      { name: "mailonly", media: ["email"], steps: [] },
    ], {
      categories: CATEGORY_TREE,
      workflows: [{ name: "main", queue: "inbound", classify: { autoRespond: false, rules: [{ category: "billing", queue: "money" }, { category: "shipping", queue: "mailonly" }] } }],
      numbers: [{ number, provider: "generic", mode: "paging", workflow: "main", secret: "generic" }],
      chat: { workflow: "main", allowedOrigins: [SHOP] },
    }, { secrets: { generic: "generic-secret-for-classify" } });
    await importExamples(t);
    await trainAndActivate(t);
    await t.call("/api/v1/admin/classifier/settings", { method: "PUT", as: "admin", json: { autoPrecision: 0.85, outOfScopeBelow: 0.05, autoRespondAt: null, routeAt: 0.3, suggestAt: 0 } });

    const raw = new TextEncoder().encode(JSON.stringify({ id: "cls-1", from: "+13125550111", to: number, text: PROBES[0]!.text }));
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await t.api("/api/v1/sms/generic", { method: "POST", headers: { "Content-Type": "application/json", "X-Parley-Timestamp": ts, "X-Parley-Signature": await genericSignature("generic-secret-for-classify", ts, raw), Authorization: "" }, body: raw });
    expect(res.status).toBe(200);
    const sms = await res.json<{ interactionId: string }>();
    expect((await interactionRow(t, sms.interactionId))!.queue).toBe("money");
    expect(JSON.parse((await classification(t, sms.interactionId))!.categories)[0].id).toBe("billing");
    // A category's queue that does not take SMS is not used: the message stays where the workflow puts it.
    const raw2 = new TextEncoder().encode(JSON.stringify({ id: "cls-2", from: "+13125550111", to: number, text: PROBES[2]!.text }));
    const res2 = await t.api("/api/v1/sms/generic", { method: "POST", headers: { "Content-Type": "application/json", "X-Parley-Timestamp": ts, "X-Parley-Signature": await genericSignature("generic-secret-for-classify", ts, raw2), Authorization: "" }, body: raw2 });
    const shipping = await res2.json<{ interactionId: string }>();
    expect(JSON.parse((await classification(t, shipping.interactionId))!.categories)[0].id).toBe("shipping");
    expect((await interactionRow(t, shipping.interactionId))!.queue).toBe("inbound");

    await ready(t, "a");
    const chat = await startChat(t, { email: "kim@example.com" });
    const posted = await session(`${chat.chatId}/messages`, chat.token, { method: "POST", origin: SHOP, json: { clientId: "c1", text: PROBES[2]!.text } });
    expect(posted.status).toBeLessThan(300);
    await session(`${chat.chatId}/messages`, chat.token, { method: "POST", origin: SHOP, json: { clientId: "c2", text: "also I want to cancel" } });
    const c = await until(() => classification(t, chat.interactionId), "the chat's classification");
    expect(JSON.parse(c.categories)[0].id).toBe("shipping");
    expect(JSON.parse((await interactionRow(t, chat.interactionId))!.categories)).toEqual(["shipping"]);
  });
});

describe("agent feedback", () => {
  it("the handling agent's correction replaces the categories and becomes training data; other agents may not", async () => {
    const t = await classifyingMailTenant(false);
    const r = await t.receive(mail({ subject: "Parcel", text: PROBES[2]!.text }));
    const view = await t.call<{ categories: { id: string }[]; suggestions: unknown[]; tree: unknown[] }>(`/api/v1/interactions/${r.interactionId}/classification`, { as: "a" });
    expect(view.categories[0]!.id).toBe("shipping");
    expect(view.tree).toHaveLength(4);
    await ready(t, "a");
    await offerFor(t, "a", r.interactionId);
    await post(t, `/api/v1/interactions/${r.interactionId}/accept`, "a");
    expect((await t.api(`/api/v1/interactions/${r.interactionId}/categories`, { method: "PUT", as: "b", json: { categories: ["cancel"] } })).status).toBe(403);
    expect((await t.api(`/api/v1/interactions/${r.interactionId}/categories`, { method: "PUT", as: "a", json: { categories: ["legal"] } })).status).toBe(400);
    await t.call(`/api/v1/interactions/${r.interactionId}/categories`, { method: "PUT", as: "a", json: { categories: ["cancel", "shipping"] } });
    // Changing one's mind replaces the earlier answer rather than adding to it.
    await t.call(`/api/v1/interactions/${r.interactionId}/categories`, { method: "PUT", as: "a", json: { categories: ["cancel"] } });
    const ex = await env.SHARD_1.prepare("SELECT category, text, agent_id FROM classifier_examples WHERE tenant_id = ? AND source = 'agent'").bind(t.id).all<{ category: string; text: string; agent_id: string }>();
    expect(ex.results).toEqual([{ category: "cancel", text: `Parcel\n${PROBES[2]!.text}`, agent_id: "a" }]);
    expect(JSON.parse((await interactionRow(t, r.interactionId))!.categories)).toEqual(["cancel"]);
    const again = await t.call<{ confirmed: string[] }>(`/api/v1/interactions/${r.interactionId}/classification`, { as: "a" });
    expect(again.confirmed).toEqual(["cancel"]);
    const events = await env.SHARD_1.prepare("SELECT actor FROM interaction_events WHERE tenant_id = ? AND interaction_id = ? AND action = 'categorized'").bind(t.id, r.interactionId).all<{ actor: string }>();
    expect(events.results.map((e) => e.actor)).toEqual(["agent:a", "agent:a"]);
  });
});
