// Twilio's inbound webhook: signed requests become SMS interactions (paging mode) once per
// MessageSid; STOP, START and HELP are recorded and answered; forged, malformed and foreign
// requests are refused with a clear error. Signatures are made by workers/sms/twilio-signature.ts,
// whose output test/node/twilio-signature.test.ts checks against the twilio package itself.
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../workers/index.ts";
import { twilioSignature } from "../../workers/sms/twilio-signature.ts";
import { tenv, interaction, makeTenant, offerFor, post, ready, until, type Tenant } from "../helpers.ts";

const TOKEN = "tenant-own-twilio-token-5a7c9e1b3d";
const HOOK = "http://localhost:8787/api/v1/sms/twilio";
let n = 0;

async function smsTenant(): Promise<Tenant & { number: string }> {
  const number = `+1415555${String(1000 + (Date.now() % 8000) + n++).padStart(4, "0")}`;
  const t = await makeTenant([{ id: "ana", capacity: { sms: 2 } }], undefined, { numbers: [{ number, provider: "twilio", mode: "paging", workflow: "main", accountSid: "AC-test", secret: "twilio" }] }, { secrets: { twilio: TOKEN } });
  return Object.assign(t, { number });
}

function fields(t: { number: string }, over: Record<string, string> = {}): [string, string][] {
  const sid = `SM${crypto.randomUUID().replace(/-/g, "")}`;
  return Object.entries({ MessageSid: sid, SmsSid: sid, AccountSid: "AC-test", From: "+14155550123", To: t.number, Body: "Is my order shipped?", NumMedia: "0", ...over });
}

async function hook(params: [string, string][], opts: { signature?: string | null; token?: string; contentType?: string; body?: string } = {}): Promise<Response> {
  const sig = opts.signature === undefined ? await twilioSignature(opts.token ?? TOKEN, HOOK, params) : opts.signature;
  const headers = new Headers({ "Content-Type": opts.contentType ?? "application/x-www-form-urlencoded" });
  if (sig !== null) headers.set("X-Twilio-Signature", sig);
  return exports.default.fetch(new Request("http://parley.test/api/v1/sms/twilio", { method: "POST", headers, body: opts.body ?? new URLSearchParams(params).toString() }));
}

describe("Twilio inbound SMS", () => {
  it("makes a signed message an SMS interaction, once per MessageSid, offered to an agent", async () => {
    const t = await smsTenant();
    await ready(t, "ana");
    const msg = fields(t, { From: "(415) 555-0123".replace(/\D/g, "").replace(/^/, "+1") });
    const res = await hook(msg);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("text/xml; charset=utf-8");
    expect(await res.text()).toBe(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`);
    // Twilio retries (a timeout on its side): the same MessageSid is one interaction.
    expect((await hook(msg)).status).toBe(200);
    const rows = await env.SHARD_1.prepare("SELECT interaction_id, customer, encoding, segments FROM sms_messages WHERE tenant_id = ?").bind(t.id).all<{ interaction_id: string; customer: string; encoding: string; segments: number }>();
    expect(rows.results).toHaveLength(1);
    expect(rows.results[0]).toMatchObject({ customer: "+14155550123", encoding: "GSM-7", segments: 1 });
    const id = rows.results[0]!.interaction_id;
    const i = await interaction(t, id);
    expect(i).toMatchObject({ media: "sms", channel: "sms" });
    expect(i.contactId).toBeTruthy();
    await offerFor(t, "ana", id);
  });

  it("opts a number out and back in, and answers HELP, without making interactions", async () => {
    const t = await smsTenant();
    const say = async (body: string) => (await hook(fields(t, { Body: body }))).text();
    expect(await say("STOP")).toContain("You are unsubscribed from Test");
    const out = await env.SHARD_1.prepare("SELECT customer FROM sms_opt_outs WHERE tenant_id = ? AND center = ?").bind(t.id, t.number).all();
    expect(out.results).toEqual([{ customer: "+14155550123" }]);
    expect(await say("start")).toContain("subscribed to Test");
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_opt_outs WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n).toBe(0);
    expect(await say(" Help ")).toContain("Reply STOP to unsubscribe");
    const made = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(made!.n).toBe(0);
  });

  it("refuses forged, unsigned and foreign requests with 403", async () => {
    const t = await smsTenant();
    const msg = fields(t);
    expect((await hook(msg, { token: "not-the-auth-token-000000000000000" })).status).toBe(403);
    expect((await hook(msg, { signature: null })).status).toBe(403);
    // Signed, then changed on the way.
    const sig = await twilioSignature(TOKEN, HOOK, msg);
    const changed = msg.map(([k, v]) => [k, k === "Body" ? "Refund me" : v] as [string, string]);
    const forged = await hook(changed, { signature: sig });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ error: { code: "invalid_signature" } });
    expect((await hook(fields(t, { AccountSid: "AC-other" }))).status).toBe(403);
    const made = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_messages WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(made!.n).toBe(0);
  });

  it("answers malformed requests with 4xx and a reason", async () => {
    const t = await smsTenant();
    const noSid = fields(t).filter(([k]) => k !== "MessageSid" && k !== "SmsSid");
    const r1 = await hook(noSid);
    expect(r1.status).toBe(400);
    expect(await r1.json()).toMatchObject({ error: { code: "missing_field", message: "MessageSid: required" } });
    expect((await hook(fields(t, { To: "not-a-number" }))).status).toBe(400);
    // An unknown number is answered as a bad signature is (issue 12): no telling which numbers are ours.
    expect((await hook(fields(t, { To: "+19995550000" }))).status).toBe(403);
    expect((await hook(fields(t), { contentType: "application/json" })).status).toBe(415);
    const bad = await exports.default.fetch(new Request("http://parley.test/api/v1/sms/twilio", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new Uint8Array([0x42, 0x6f, 0x64, 0x79, 0x3d, 0xff, 0xfe]) }));
    expect(bad.status).toBe(400);
    expect((await hook(fields(t), { body: "x".repeat(70_000) })).status).toBe(413);
  });
});

describe("MMS from Twilio", () => {
  afterEach(() => vi.restoreAllMocks());

  it("keeps every media part, fetched with the account's credentials, and notes the ones it refused", async () => {
    const t = await smsTenant();
    const realFetch = globalThis.fetch;
    const auths: (string | null)[] = [];
    const bodies: Record<string, Uint8Array> = {
      ME1: new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]),
      ME2: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 4, 5]),
      ME3: new TextEncoder().encode("BEGIN:VCARD\nFN:Kim\nEND:VCARD"),
    };
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://api.twilio.com/")) return realFetch(input, init);
      auths.push(new Headers(init?.headers).get("Authorization"));
      const me = url.split("/").at(-1)!;
      return bodies[me] ? new Response(bodies[me]) : new Response("gone", { status: 404 });
    });
    const base = "https://api.twilio.com/2010-04-01/Accounts/AC-test/Messages/MM1/Media";
    const msg = fields(t, {
      Body: "Here is the damage", NumMedia: "5",
      MediaUrl0: `${base}/ME1`, MediaContentType0: "image/jpeg",
      MediaUrl1: `${base}/ME2`, MediaContentType1: "image/png",
      MediaUrl2: `${base}/ME3`, MediaContentType2: "text/vcard",
      MediaUrl3: "https://evil.example/steal", MediaContentType3: "image/jpeg",
      MediaUrl4: `${base}/ME9`, MediaContentType4: "image/gif",
    });
    expect((await hook(msg)).status).toBe(200);
    expect(auths).toHaveLength(4);
    expect(new Set(auths)).toEqual(new Set([`Basic ${btoa(`AC-test:${TOKEN}`)}`]));
    const row = await env.SHARD_1.prepare("SELECT interaction_id FROM sms_messages WHERE tenant_id = ?").bind(t.id).first<{ interaction_id: string }>();
    const i = await t.call<{ channel: string; parts: { kind: string; content: string | null; r2_key: string | null; content_type: string | null; size: number | null }[] }>(`/api/v1/interactions/${row!.interaction_id}`);
    expect(i.channel).toBe("mms");
    const files = i.parts.filter((p) => p.kind === "attachment");
    expect(files.map((p) => [p.content_type, p.size])).toEqual([["image/jpeg", 6], ["image/png", 6], ["text/vcard", bodies.ME3!.length]]);
    for (const f of files) expect(new Uint8Array(await (await env.BLOBS.get(f.r2_key!))!.arrayBuffer()).length).toBe(f.size);
    const notes = i.parts.filter((p) => p.kind === "text").map((p) => p.content).join("\n");
    expect(notes).toContain("refused to fetch from evil.example");
    expect(notes).toContain("the provider answered 404");
    expect(notes).toContain("Here is the damage");
    // Twilio's retry: nothing fetched again, nothing doubled.
    expect((await hook(msg)).status).toBe(200);
    expect(auths).toHaveLength(4);
  });
});

describe("SMS replies", () => {
  async function smsInHand(t: Tenant & { number: string }) {
    await ready(t, "ana");
    await hook(fields(t));
    const row = await env.SHARD_1.prepare("SELECT interaction_id FROM sms_messages WHERE tenant_id = ?").bind(t.id).first<{ interaction_id: string }>();
    const id = row!.interaction_id;
    await offerFor(t, "ana", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "ana");
    return id;
  }
  const twilioApi = (answer: (body: URLSearchParams, auth: string | null) => Response) => {
    const realFetch = globalThis.fetch;
    const calls: URLSearchParams[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith("https://api.twilio.com/")) return realFetch(input, init);
      const body = new URLSearchParams(String(init?.body ?? ""));
      calls.push(body);
      return answer(body, new Headers(init?.headers).get("Authorization"));
    });
    return calls;
  };
  const run = async (tenant: string, smsId: string, opts: { attempts?: number; queue?: string } = {}) => {
    const batch = createMessageBatch(opts.queue ?? "parley-sends", [{ id: `m-${smsId}-${opts.attempts ?? 1}`, timestamp: new Date(), attempts: opts.attempts ?? 1, body: { tenant, smsId } }]);
    const ctx = createExecutionContext();
    await worker.queue!(batch, env, ctx);
    return getQueueResult(batch, ctx);
  };
  const sms = (tenant: string, id: string) => env.SHARD_1.prepare("SELECT status, provider_id, error, segments, encoding FROM sms_messages WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<{ status: string; provider_id: string | null; error: string | null; segments: number; encoding: string }>();

  afterEach(() => vi.restoreAllMocks());

  it("sends an agent's reply through Twilio's Messages API once, and follows its status callbacks", async () => {
    const t = await smsTenant();
    const id = await smsInHand(t);
    const calls = twilioApi((_b, auth) => {
      expect(auth).toBe(`Basic ${btoa(`AC-test:${TOKEN}`)}`);
      return Response.json({ sid: "SMout1", status: "queued" }, { status: 201 });
    });
    const res = await t.call<{ smsId: string; segments: number; encoding: string }>(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: { text: "Yes, it ships today 🚚" }, expect: 202 });
    expect(res).toMatchObject({ segments: 1, encoding: "UCS-2" });
    const r = await run(t.id, res.smsId);
    expect(r.explicitAcks).toHaveLength(1);
    // The Queue's own consumer may have sent it first: either way Twilio was asked once.
    await until(async () => (await sms(t.id, res.smsId))?.status === "queued", "the SMS handed to Twilio");
    expect(calls).toHaveLength(1);
    expect(Object.fromEntries(calls[0]!)).toMatchObject({ To: "+14155550123", From: t.number, Body: "Yes, it ships today 🚚", StatusCallback: "http://localhost:8787/api/v1/sms/twilio/status" });
    await run(t.id, res.smsId);
    expect(calls).toHaveLength(1);
    // Status callbacks, signed like webhooks, move it forward only.
    const cb = async (status: string) => {
      const p: [string, string][] = [["MessageSid", "SMout1"], ["MessageStatus", status], ["From", t.number], ["To", "+14155550123"], ["AccountSid", "AC-test"]];
      const sig = await twilioSignature(TOKEN, "http://localhost:8787/api/v1/sms/twilio/status", p);
      return exports.default.fetch(new Request("http://parley.test/api/v1/sms/twilio/status", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig }, body: new URLSearchParams(p).toString() }));
    };
    expect((await cb("delivered")).status).toBe(204);
    expect((await cb("sent")).status).toBe(204);
    expect(await sms(t.id, res.smsId)).toMatchObject({ status: "delivered", provider_id: "SMout1" });
  });

  it("texts a reply once when the desktop sends it twice with the same clientId, and lists the thread newest-last", async () => {
    const t = await smsTenant();
    const id = await smsInHand(t);
    twilioApi(() => Response.json({ sid: `SM${crypto.randomUUID().slice(0, 8)}`, status: "queued" }, { status: 201 }));
    const body = { text: "On its way", clientId: "desk-0123456789" };
    const a = await t.call<{ smsId: string }>(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: body, expect: 202 });
    const b = await t.call<{ smsId: string }>(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: body, expect: 202 });
    expect(b.smsId).toBe(a.smsId);
    const other = await t.call<{ smsId: string }>(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: { text: "And a second one", clientId: "desk-abcdef012345" }, expect: 202 });
    expect(other.smsId).not.toBe(a.smsId);
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM sms_messages WHERE tenant_id = ? AND interaction_id = ? AND direction = 'outbound'").bind(t.id, id).first<{ n: number }>();
    expect(n!.n).toBe(2);
    const list = await t.call<{ messages: { direction: string; text: string }[] }>(`/api/v1/interactions/${id}/sms`, { as: "ana" });
    expect(list.messages.map((m) => [m.direction, m.text]).slice(-2)).toEqual([["outbound", "On its way"], ["outbound", "And a second one"]]);
    expect(list.messages[0]!.direction).toBe("inbound");
    expect((await t.api(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: { text: "x", clientId: "no spaces allowed" } })).status).toBe(400);
    expect((await t.api(`/api/v1/interactions/i_nope/sms`, { as: "ana" })).status).toBe(404);
  });

  it("refuses a reply to a number that said STOP, and fails a send Twilio refuses", async () => {
    const t = await smsTenant();
    const id = await smsInHand(t);
    twilioApi(() => Response.json({ code: 21211, message: "Invalid 'To' Phone Number" }, { status: 400 }));
    const res = await t.call<{ smsId: string }>(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: { text: "Hello" }, expect: 202 });
    await run(t.id, res.smsId);
    await until(async () => (await sms(t.id, res.smsId))?.status === "failed", "the refused SMS failed");
    expect((await sms(t.id, res.smsId))!.error).toContain("Invalid 'To' Phone Number");
    await hook(fields(t, { Body: "STOP" }));
    const refused = await t.api(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: { text: "Still there?" } });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: "opted_out" } });
  });

  it("retries when Twilio is down, and gives up through the dead-letter queue", async () => {
    const t = await smsTenant();
    const id = await smsInHand(t);
    twilioApi(() => new Response("busy", { status: 503 }));
    const res = await t.call<{ smsId: string }>(`/api/v1/interactions/${id}/sms`, { method: "POST", as: "ana", json: { text: "Hello" }, expect: 202 });
    const r = await run(t.id, res.smsId);
    expect(r.retryMessages).toHaveLength(1);
    expect(await sms(t.id, res.smsId)).toMatchObject({ status: "sending", error: expect.stringContaining("503") });
    await run(t.id, res.smsId, { queue: "parley-sends-dlq", attempts: 6 });
    expect(await sms(t.id, res.smsId)).toMatchObject({ status: "failed" });
  });

  it("sends a paging SMS to a number as an outbound interaction, once per externalId, and never to a number that said STOP", async () => {
    const t = await smsTenant();
    const calls = twilioApi(() => Response.json({ sid: "SMpage1", status: "queued" }, { status: 201 }));
    const first = await t.call<{ interactionId: string; smsId: string; segments: number }>("/api/v1/sms", { method: "POST", as: "ana", json: { to: "+1 415 555 0142", text: "Your table is ready", externalId: "page-1" }, expect: 202 });
    const again = await t.call<{ interactionId: string; duplicate: boolean }>("/api/v1/sms", { method: "POST", as: "ana", json: { to: "+1 415 555 0142", text: "Your table is ready", externalId: "page-1" } });
    expect(again).toEqual({ interactionId: first.interactionId, duplicate: true });
    await run(t.id, first.smsId);
    await until(async () => calls.length === 1, "the paging SMS sent");
    expect(calls[0]!.get("To")).toBe("+14155550142");
    const i = await interaction(t, first.interactionId);
    expect(i).toMatchObject({ media: "sms", direction: "outbound" });
    await until(async () => (await interaction(t, first.interactionId)).state === "done", "the outbound interaction done");
    await hook(fields(t, { From: "+14155550142", Body: "STOP" }));
    const refused = await t.api("/api/v1/sms", { method: "POST", as: "ana", json: { to: "+14155550142", text: "Hello again" } });
    expect(refused.status).toBe(409);
    expect((await t.api("/api/v1/sms", { method: "POST", as: "ana", json: { to: "not a number", text: "x" } })).status).toBe(400);
  });

  it("texts a workflow step's message to the customer once, even when the interaction is submitted again", async () => {
    const number = `+1415556${String(1000 + (Date.now() % 8000)).padStart(4, "0")}`;
    const t = Object.assign(
      await makeTenant([{ id: "ana", capacity: { sms: 1 } }], [{ name: "inbound", media: ["sms"], steps: [{ type: "sendSms", text: "Thanks! We'll text you back within the hour." }, { type: "route", targets: [{ skills: "*" }] }] }], {
        numbers: [{ number, provider: "twilio", mode: "paging", workflow: "main", accountSid: "AC-test", secret: "twilio" }],
      }, { secrets: { twilio: TOKEN } }),
      { number },
    );
    await hook(fields(t));
    const out = () => env.SHARD_1.prepare("SELECT id, body, customer FROM sms_messages WHERE tenant_id = ? AND direction = 'outbound'").bind(t.id).all<{ id: string; body: string; customer: string }>();
    await until(async () => (await out()).results.length === 1, "the step's SMS");
    expect((await out()).results[0]).toMatchObject({ body: "Thanks! We'll text you back within the hour.", customer: "+14155550123" });
    // The sweep resubmits an interaction no queue holds: the step runs again but texts nothing new.
    const row = await env.SHARD_1.prepare("SELECT interaction_id FROM sms_messages WHERE tenant_id = ? AND direction = 'inbound'").bind(t.id).first<{ interaction_id: string }>();
    const { queueStub } = await import("../../durable-objects/names.ts");
    await queueStub(await tenv(t.id), t.id, "inbound").stop(row!.interaction_id, "test", { reason: "again" });
    await queueStub(await tenv(t.id), t.id, "inbound").submit({ id: row!.interaction_id, media: "sms", priority: 0, subject: null, contactId: null, categories: [], attributes: { center: number, customer: "+14155550123" } }, { actor: "test" });
    expect((await out()).results).toHaveLength(1);
  });

  it("has the sweep queue a lost SMS again, and mark one interrupted mid-handover without sending it twice", async () => {
    const t = await smsTenant();
    const { sweep } = await import("../../workers/sweep.ts");
    const old = Date.now() - 2 * 3600_000;
    const ins = (id: string, status: string) =>
      env.SHARD_1.prepare("INSERT INTO sms_messages (tenant_id, id, provider, direction, center, customer, body, status, created_at, updated_at) VALUES (?, ?, 'twilio', 'outbound', ?, '+14155550123', 'hi', ?, ?, ?)").bind(t.id, id, t.number, status, old, old).run();
    await ins(`lost-${t.id}`, "sending");
    await ins(`mid-${t.id}`, "handing");
    const r = await sweep(env);
    expect(r.requeued).toContain(`lost-${t.id}`);
    expect(await sms(t.id, `mid-${t.id}`)).toMatchObject({ status: "failed", error: expect.stringContaining("may or may not") });
  });

  it("counts segments for the agent before sending", async () => {
    const t = await smsTenant();
    expect(await t.call("/api/v1/sms/segments", { method: "POST", as: "ana", json: { text: "a".repeat(161) } })).toMatchObject({ encoding: "GSM-7", segments: 2, perSegment: 153 });
  });
});
