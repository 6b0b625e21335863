// Attacks on the SMS and MMS doors (issue 12): MM7 parsed before authentication and with a parser a
// few kilobytes could stall or crash, senders without "+" that escaped STOP and contact
// identification, webhook answers that told known numbers from unknown ones, and an unchecked
// generic `from`. Each test names the attack and the answer expected.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { genericSignature } from "../../workers/sms/generic-signature.ts";
import { twilioSignature } from "../../workers/sms/twilio-signature.ts";
import { makeTenant, offerFor, post, ready, type Tenant } from "../helpers.ts";

const GENERIC_SECRET = "test-generic-secret";
const TWILIO_TOKEN = "test-twilio-auth-token-0000000000";
const REL6 = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4";
let n = 0;

/** A tenant with one number (unique across the run) on the given provider. */
async function numberTenant(provider: "generic" | "twilio", prefix: string): Promise<Tenant & { number: string }> {
  const number = `+1${prefix}${String(1000 + ((Date.now() + n++ * 7) % 8999)).padStart(4, "0")}`;
  const entry = provider === "generic" ? { number, provider, mode: "paging" as const, workflow: "main", secret: "generic" } : { number, provider, mode: "paging" as const, workflow: "main", accountSid: "AC-test", secret: "twilio" };
  const t = await makeTenant([{ id: "ana", capacity: { sms: 2 } }], undefined, { numbers: [entry] }, { secrets: { [entry.secret]: provider === "generic" ? GENERIC_SECRET : TWILIO_TOKEN } });
  return Object.assign(t, { number });
}

const envelope = (o: { tx: string; to: string; from: string; subject?: string }) =>
  `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">` +
  `<env:Header><mm7:TransactionID xmlns:mm7="${REL6}" env:mustUnderstand="1">${o.tx}</mm7:TransactionID></env:Header>` +
  `<env:Body><DeliverReq xmlns="${REL6}"><MM7Version>6.8.0</MM7Version><Sender><Number>${o.from}</Number></Sender>` +
  `<Recipients><To><Number>${o.to}</Number></To></Recipients><Subject>${o.subject ?? "hello"}</Subject></DeliverReq></env:Body></env:Envelope>`;

function mm7(body: string | Uint8Array, o: { password?: string | null; contentType?: string } = {}): Promise<Response> {
  const headers = new Headers({ "Content-Type": o.contentType ?? "text/xml; charset=utf-8" });
  if (o.password !== null) headers.set("Authorization", `Basic ${btoa(`relay:${o.password ?? GENERIC_SECRET}`)}`);
  return exports.default.fetch(new Request("http://parley.test/api/v1/mms/mm7", { method: "POST", headers, body }));
}

async function generic(body: unknown, secret = GENERIC_SECRET): Promise<Response> {
  const raw = new TextEncoder().encode(JSON.stringify(body));
  const ts = String(Math.floor(Date.now() / 1000));
  return exports.default.fetch(
    new Request("http://parley.test/api/v1/sms/generic", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Parley-Timestamp": ts, "X-Parley-Signature": await genericSignature(secret, ts, raw) },
      body: raw,
    }),
  );
}

const TWILIO_HOOK = "http://localhost:8787/api/v1/sms/twilio";
async function twilio(fields: Record<string, string>, signature?: string | null): Promise<Response> {
  const params = Object.entries(fields);
  const sig = signature === undefined ? await twilioSignature(TWILIO_TOKEN, TWILIO_HOOK, params) : signature;
  const headers = new Headers({ "Content-Type": "application/x-www-form-urlencoded" });
  if (sig !== null) headers.set("X-Twilio-Signature", sig);
  return exports.default.fetch(new Request("http://parley.test/api/v1/sms/twilio", { method: "POST", headers, body: new URLSearchParams(params).toString() }));
}
const sid = () => `SM${crypto.randomUUID().replace(/-/g, "")}`;

const smsRows = (t: Tenant) => env.SHARD_1.prepare("SELECT interaction_id, customer, keyword FROM sms_messages WHERE tenant_id = ? AND direction = 'inbound'").bind(t.id).all<{ interaction_id: string | null; customer: string; keyword: string | null }>();

describe("item 2: MM7 is authenticated before it is parsed, and parsed within limits", () => {
  it("refuses an MM7 request without credentials with 401 before reading its body (a 4 MiB unparseable body is not parsed)", async () => {
    const res = await mm7("\u0000<<<&&& not xml at all ".repeat(160_000), { password: null, contentType: "multipart/related; boundary=x" });
    expect(res.status).toBe(401);
    expect(res.headers.get("WWW-Authenticate")).toBe('Basic realm="parley-mm7"');
    const xml = await res.text();
    expect(xml).toContain("<StatusCode>4001</StatusCode>");
    // A parse failure would have been a 2007 fault.
    expect(xml).not.toContain("2007");
  });

  it("answers the nesting bomb ('<a>' x 100,000) with a 4xx fault naming the XML limit, not a 500", async () => {
    const res = await mm7("<a>".repeat(100_000));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const xml = await res.text();
    expect(xml).toContain("<env:Fault>");
    expect(xml).toMatch(/XML|limit|bytes/i);
    expect(xml).toContain("MAX_MM7_XML_BYTES");
  });

  it("answers the close-tag bomb ('<a>' x 2,000 + '</b>' x 1,000,000) with a 4xx fault naming the limit", async () => {
    const res = await mm7("<a>".repeat(2_000) + "</b>".repeat(1_000_000));
    expect(res.status).toBe(413);
    expect(await res.text()).toContain("MAX_MM7_XML_BYTES");
  });

  it("answers a deep envelope within the size limit with a 400 fault naming the depth limit", async () => {
    const res = await mm7("<a>".repeat(2_000) + "</b>".repeat(10_000));
    expect(res.status).toBe(400);
    const xml = await res.text();
    expect(xml).toContain("<StatusCode>2007</StatusCode>");
    expect(xml).toContain("MAX_MM7_XML_DEPTH");
  });

  it("answers an envelope of too many elements with a 400 fault naming the element limit", async () => {
    const res = await mm7(`<Envelope><Body>${"<x/>".repeat(10_000)}</Body></Envelope>`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("MAX_MM7_XML_ELEMENTS");
  });

  it("takes a message of 100,000 MIME parts in linear time: the first MAX_MM7_PARTS kept, the rest noted, one interaction", async () => {
    const t = await numberTenant("generic", "312777");
    const env1 = envelope({ tx: "many-parts", to: t.number, from: "+14155550123" });
    const body = `--b\r\nContent-Type: text/xml\r\n\r\n${env1}\r\n` + "--b\r\nContent-Type: image/gif\r\n\r\nx\r\n".repeat(100_000) + "--b--\r\n";
    const res = await mm7(body, { contentType: 'multipart/related; boundary="b"; type="text/xml"' });
    expect(res.status).toBe(200);
    const rows = await smsRows(t);
    expect(rows.results).toHaveLength(1);
    const i = await t.call<{ parts: { kind: string; content: string | null }[] }>(`/api/v1/interactions/${rows.results[0]!.interaction_id}`);
    expect(i.parts.filter((p) => p.kind === "attachment")).toHaveLength(40);
    expect(i.parts.some((p) => p.kind === "text" && /^\[99960 more MMS parts not read: over MAX_MM7_PARTS \(40\)/.test(p.content ?? ""))).toBe(true);
  });
});

describe("item 11a: MM7 senders written as bare digits are the same customer as their E.164 number", () => {
  it("a STOP from <Number>14155550177</Number> opts out +14155550177: a later POST /api/v1/sms to it is 409 opted_out", async () => {
    const t = await numberTenant("generic", "312778");
    const res = await mm7(envelope({ tx: `stop-${sid()}`, to: t.number, from: "14155550177", subject: "STOP" }));
    expect(res.status).toBe(200);
    const rows = await smsRows(t);
    expect(rows.results[0]).toMatchObject({ customer: "+14155550177", keyword: "opt_out" });
    const out = await t.api("/api/v1/sms", { method: "POST", json: { to: "+14155550177", text: "Our sale starts today" } });
    expect(out.status).toBe(409);
    expect(await out.json()).toMatchObject({ error: { code: "opted_out" } });
  });

  it("a message from bare digits identifies the contact by +14155550177, and the agent's reply is queued (202, not 400 invalid_phone)", async () => {
    const t = await numberTenant("generic", "312779");
    await ready(t, "ana");
    expect((await mm7(envelope({ tx: `msg-${sid()}`, to: t.number, from: "14155550177", subject: "Where is my order?" }))).status).toBe(200);
    const row = (await smsRows(t)).results[0]!;
    expect(row.customer).toBe("+14155550177");
    const i = await t.call<{ contactId: string | null }>(`/api/v1/interactions/${row.interaction_id}`);
    expect(i.contactId).toBeTruthy();
    const phone = await env.SHARD_1.prepare("SELECT value FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ? AND kind = 'phone'").bind(t.id, i.contactId).first<{ value: string }>();
    expect(phone?.value).toBe("+14155550177");
    await offerFor(t, "ana", row.interaction_id!);
    await post(t, `/api/v1/interactions/${row.interaction_id}/accept`, "ana");
    const reply = await t.api(`/api/v1/interactions/${row.interaction_id}/sms`, { method: "POST", as: "ana", json: { text: "It ships today" } });
    expect(reply.status).toBe(202);
  });

  it("the generic door normalises a national-format sender with the number's country (4155550177 to a US number is +14155550177)", async () => {
    const t = await numberTenant("generic", "312780");
    expect((await generic({ id: `g-${sid()}`, from: "4155550177", to: t.number, text: "STOP" })).status).toBe(200);
    expect((await smsRows(t)).results[0]).toMatchObject({ customer: "+14155550177", keyword: "opt_out" });
    expect((await t.api("/api/v1/sms", { method: "POST", json: { to: "+14155550177", text: "hi" } })).status).toBe(409);
  });

  it("a STOP stored before the fix under bare digits still refuses the E.164 number (migration 0012)", async () => {
    const t = await numberTenant("generic", "312784");
    await env.SHARD_1.prepare("INSERT INTO sms_opt_outs (tenant_id, center, customer, opted_out_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)")
      .bind(t.id, t.number, "14155550188", 1, t.id, t.number, "4155550199", 1)
      .run();
    const migrations = (env as unknown as { TEST_MIGRATIONS: { name: string; queries: string[] }[] }).TEST_MIGRATIONS;
    const m = migrations.find((x) => x.name.startsWith("0012_"));
    expect(m).toBeDefined();
    for (const q of m!.queries) await env.SHARD_1.prepare(q).run();
    expect((await t.api("/api/v1/sms", { method: "POST", json: { to: "+14155550188", text: "hi" } })).status).toBe(409);
    // Ten digits may be a national number: not guessed at.
    const rows = await env.SHARD_1.prepare("SELECT customer FROM sms_opt_outs WHERE tenant_id = ? ORDER BY customer").bind(t.id).all<{ customer: string }>();
    expect(rows.results.map((r) => r.customer)).toEqual(["+14155550188", "14155550188", "4155550199"]);
  });

  it("the Twilio door normalises a sender without '+' the same way", async () => {
    const t = await numberTenant("twilio", "415556");
    const s = sid();
    expect((await twilio({ MessageSid: s, AccountSid: "AC-test", From: "14155550177", To: t.number, Body: "STOP" })).status).toBe(200);
    expect((await smsRows(t)).results[0]).toMatchObject({ customer: "+14155550177", keyword: "opt_out" });
  });
});

describe("item 10: webhook answers don't tell known numbers from unknown ones; the generic `from` is checked", () => {
  it("an unsigned Twilio webhook gets the same status and body for an unknown number as for a known one", async () => {
    const t = await numberTenant("twilio", "415557");
    const known = await twilio({ MessageSid: "SMfixed", AccountSid: "AC-test", From: "+14155550123", To: t.number, Body: "hi" }, null);
    const unknown = await twilio({ MessageSid: "SMfixed", AccountSid: "AC-test", From: "+14155550123", To: "+19995550100", Body: "hi" }, null);
    expect(known.status).toBe(403);
    expect(unknown.status).toBe(known.status);
    expect(await unknown.text()).toBe(await known.text());
  });

  it("a forged generic webhook gets the same status and body for an unknown number as for a known one", async () => {
    const t = await numberTenant("generic", "312781");
    const known = await generic({ id: "g-fixed", from: "+14155550123", to: t.number, text: "hi" }, "forged");
    const unknown = await generic({ id: "g-fixed", from: "+14155550123", to: "+19995550100", text: "hi" }, "forged");
    expect(known.status).toBe(403);
    expect(unknown.status).toBe(known.status);
    expect(await unknown.text()).toBe(await known.text());
  });

  it("an MM7 request with a wrong password gets the same answer for an unknown number as for a known one", async () => {
    const t = await numberTenant("generic", "312782");
    const known = await mm7(envelope({ tx: "tx-same", to: t.number, from: "+14155550123" }), { password: "guess" });
    const unknown = await mm7(envelope({ tx: "tx-same", to: "+19995550100", from: "+14155550123" }), { password: "guess" });
    expect(known.status).toBe(401);
    expect(unknown.status).toBe(known.status);
    expect(await unknown.text()).toBe(await known.text());
  });

  it("refuses a signed generic message whose `from` is not a phone number, short code or sender id with 400 naming `from`", async () => {
    const t = await numberTenant("generic", "312783");
    for (const from of ["<script>alert(1)</script>", "+1", "not a number!", "++++"]) {
      const res = await generic({ id: `g-${sid()}`, from, to: t.number, text: "hi" });
      expect(res.status).toBe(400);
      const body = await res.json<{ error: { code: string; message: string } }>();
      expect(body.error.message).toMatch(/^from: /);
    }
    expect((await smsRows(t)).results).toHaveLength(0);
  });
});
