// Web forms through the Worker: every encoding, validation, honeypot, rate limit, CORS, Turnstile,
// duplicates, size caps, the thank-you redirect, files in R2. Every refusal stores no interaction.
import { createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TenantConfigInput } from "../../workers/config/schema.ts";
import { formRoutes } from "../../workers/http/routes/forms.ts";
import { buildRouter } from "../../workers/http/router.ts";
import { makeTenant, stateIs, uniq, type Tenant } from "../helpers.ts";

const SHOP = "https://shop.example.com";
const contactForm = {
  name: "contact", workflow: "main", title: "Contact us", allowedOrigins: [`${SHOP}/`], thankYouUrl: `${SHOP}/thanks`,
  rateLimit: { max: 100, perSeconds: 600 },
  fields: [
    { name: "name", label: "Your name", type: "text", required: true },
    { name: "email", label: "Email", type: "email", required: true },
    { name: "phone", label: "Phone", type: "phone" },
    { name: "message", label: "Message", type: "textarea", required: true },
    { name: "attachment", label: "Attachment", type: "file", accept: ["image/*", "text/plain"], maxBytes: 1024 },
  ],
} satisfies NonNullable<TenantConfigInput["forms"]>[number];

const tenant = (forms: NonNullable<TenantConfigInput["forms"]> = [contactForm]) => makeTenant([{ id: "a" }], undefined, { forms });
const good = { name: "Kim Lee", email: "kim@example.com", message: "My lamp flickers." };

function send(t: Tenant | string, body: BodyInit | null, headers: Record<string, string>, form = "contact", method = "POST"): Promise<Response> {
  const id = typeof t === "string" ? t : `${t.id}.${form}`;
  return exports.default.fetch(new Request(`http://parley.test/api/v1/forms/${id}`, { method, body, redirect: "manual", headers: { "CF-Connecting-IP": "203.0.113.7", ...headers } }));
}
const json = (t: Tenant, body: unknown, headers: Record<string, string> = {}, form?: string) => send(t, JSON.stringify(body), { "Content-Type": "application/json", ...headers }, form);
const urlencoded = (t: Tenant, body: Record<string, string>, headers: Record<string, string> = {}) =>
  send(t, new URLSearchParams(body).toString(), { "Content-Type": "application/x-www-form-urlencoded", ...headers });
function multipart(t: Tenant, fd: FormData, headers: Record<string, string> = {}) {
  // Serialized by Request itself, boundary included.
  const r = new Request("http://x/", { method: "POST", body: fd });
  return r.arrayBuffer().then((buf) => send(t, buf, { "Content-Type": r.headers.get("Content-Type")!, ...headers }));
}
const count = async (t: Tenant) => (await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n;
async function refused(res: Response, status: number, code: string): Promise<string> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect([res.status, body.error.code], body.error.message).toEqual([status, code]);
  return body.error.message;
}
const accepted = async (res: Response) => {
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as { interactionId: string; duplicate: boolean };
};
const parts = (t: Tenant, id: string) =>
  env.SHARD_1.prepare("SELECT seq, kind, content, r2_key, content_type, name, size, sha256 FROM message_parts WHERE tenant_id = ? AND interaction_id = ? ORDER BY seq").bind(t.id, id).all<Record<string, unknown>>().then((r) => r.results);

afterEach(() => vi.restoreAllMocks());

describe("web forms", () => {
  it("turns a urlencoded post into an email-type interaction in the workflow's queue, with its contact", async () => {
    const t = await tenant();
    const { interactionId, duplicate } = await accepted(await urlencoded(t, { ...good, phone: "+1 415 555 0100", message: "Line one\r\nline two" }, { Accept: "application/json" }));
    expect(duplicate).toBe(false);
    const i = await stateIs(t, interactionId, "queued");
    expect(i).toMatchObject({ queue: "inbound", media: "email", channel: "webform", subject: "Contact us", attributes: { form: "contact" } });
    expect((await parts(t, interactionId))[0]).toMatchObject({ kind: "text", content: "Your name: Kim Lee\nEmail: kim@example.com\nPhone: +14155550100\nMessage: Line one\nline two" });
    const c = await t.call<{ identifiers: { kind: string; value: string }[]; firstName: string }>(`/api/v1/contacts/${i.contactId}`, { as: "a" });
    expect(c.identifiers.map((x) => `${x.kind}:${x.value}`).sort()).toEqual(["email:kim@example.com", "phone:+14155550100"]);
    // A typed name names the contact but is no identifier: on a public form anyone can type any name.
    expect(c.firstName).toBe("Kim");
    expect(i.history[0]).toMatchObject({ action: "created", actor: "webform" });
  });

  it("takes JSON and multipart, and keeps files in R2 under their sha256", async () => {
    const t = await tenant();
    const j = await accepted(await json(t, good));
    expect((await parts(t, j.interactionId)).map((p) => p.kind)).toEqual(["text"]);

    const fd = new FormData();
    for (const [k, v] of Object.entries(good)) fd.append(k, v);
    const bytes = new TextEncoder().encode("hello, attachment\n");
    fd.append("attachment", new File([bytes], "note.txt", { type: "text/plain" }));
    fd.append("attachment", new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff])], "pixel.png", { type: "image/png" }));
    const m = await accepted(await multipart(t, fd));
    const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
    const stored = await parts(t, m.interactionId);
    expect(stored[1]).toMatchObject({ kind: "attachment", r2_key: `${t.id}/att/${sha}`, sha256: sha, content_type: "text/plain", name: "note.txt", size: bytes.byteLength });
    expect(stored[2]).toMatchObject({ kind: "attachment", content_type: "image/png", name: "pixel.png", size: 5 });
    const obj = await env.BLOBS.get(`${t.id}/att/${sha}`);
    expect(await obj!.text()).toBe("hello, attachment\n");
    expect(obj!.httpMetadata?.contentType).toBe("text/plain");
    expect(new Uint8Array(await (await env.BLOBS.get(stored[2]!.r2_key as string))!.arrayBuffer())).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff]));
    expect(stored[0]!.content).toContain("Attachment: note.txt (18 bytes)\nAttachment: pixel.png (5 bytes)");
  });

  it("redirects a plain HTML post to the thank-you page, and answers JSON to scripts or without a page", async () => {
    const t = await tenant([contactForm, { ...contactForm, name: "nothanks", thankYouUrl: undefined }]);
    const html = { Accept: "text/html,application/xhtml+xml,*/*;q=0.8", Origin: SHOP, "Sec-Fetch-Mode": "navigate" };
    const r = await urlencoded(t, good, html);
    expect([r.status, r.headers.get("Location")]).toEqual([303, `${SHOP}/thanks`]);
    const fd = new FormData();
    for (const [k, v] of Object.entries(good)) fd.append(k, v);
    expect((await multipart(t, fd, html)).status).toBe(303);
    expect((await urlencoded(t, good, { ...html, "Sec-Fetch-Mode": "cors" })).status).toBe(202);
    expect((await json(t, good, { Accept: "text/html" })).status).toBe(202);
    expect((await send(t, new URLSearchParams(good).toString(), { "Content-Type": "application/x-www-form-urlencoded", ...html }, "nothanks")).status).toBe(202);
    expect(await count(t)).toBe(5);
  });

  it("refuses bad fields, naming them, and stores nothing", async () => {
    const t = await tenant();
    expect(await refused(await json(t, { ...good, email: "kim at example" }), 400, "invalid_request")).toBe("fields.email: not an email address");
    expect(await refused(await json(t, { email: "kim@example.com" }), 400, "invalid_request")).toBe("fields.name: required");
    expect(await refused(await json(t, { ...good, coupon: "FREE" }), 400, "invalid_request")).toBe("fields.coupon: unknown field");
    expect(await refused(await json(t, { ...good, phone: "12" }), 400, "invalid_request")).toMatch(/^fields\.phone: not a phone number/);
    expect(await refused(await json(t, { ...good, name: "x".repeat(5001) }), 400, "invalid_request")).toBe("fields.name: longer than 5000 characters");
    const fd = new FormData();
    for (const [k, v] of Object.entries(good)) fd.append(k, v);
    fd.append("attachment", new File(["MZ"], "run.exe", { type: "application/x-msdownload" }));
    expect(await refused(await multipart(t, fd), 400, "invalid_request")).toBe("fields.attachment: file 'run.exe' is application/x-msdownload; accepted: image/*, text/plain");
    const big = new FormData();
    for (const [k, v] of Object.entries(good)) big.append(k, v);
    big.append("attachment", new File([new Uint8Array(1025)], "big.png", { type: "image/png" }));
    expect(await refused(await multipart(t, big), 400, "invalid_request")).toBe("fields.attachment: file 'big.png' is over 1024 bytes");
    await refused(await send(t, "name=Kim", { "Content-Type": "text/plain" }), 415, "unsupported_media_type");
    await refused(await send(t, new Uint8Array([0x6e, 0x61, 0x6d, 0x65, 0x3d, 0xff]), { "Content-Type": "application/x-www-form-urlencoded" }), 400, "invalid_encoding");
    await refused(await send(t, "{nope", { "Content-Type": "application/json" }), 400, "invalid_json");
    await refused(await send(t, new Uint8Array(25 * 1024 * 1024 + 1), { "Content-Type": "multipart/form-data; boundary=x" }), 413, "payload_too_large");
    expect(await count(t)).toBe(0);
    expect(await env.BLOBS.list({ prefix: `${t.id}/` }).then((l) => l.objects.length)).toBe(0);
  });

  it("refuses a filled honeypot as spam, and unknown forms", async () => {
    const t = await tenant();
    await refused(await urlencoded(t, { ...good, website: "http://cheap.example" }), 400, "spam_suspected");
    await refused(await json(t, good, {}, "nope"), 404, "unknown_form");
    await refused(await send(`${uniq("ghost")}.contact`, "{}", { "Content-Type": "application/json" }), 404, "unknown_form");
    await refused(await send("no-dot-here", "{}", { "Content-Type": "application/json" }), 404, "unknown_form");
    expect(await count(t)).toBe(0);
  });

  it("limits posts per client IP per form (429 with Retry-After)", async () => {
    const t = await tenant([{ ...contactForm, rateLimit: { max: 3, perSeconds: 600 } }]);
    for (let i = 0; i < 3; i++) await accepted(await json(t, good));
    const r = await json(t, good, { Origin: SHOP });
    expect(Number(r.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(r.headers.get("Access-Control-Allow-Origin")).toBe(SHOP);
    await refused(r, 429, "rate_limited");
    await accepted(await json(t, good, { "CF-Connecting-IP": "198.51.100.9" }));
    expect(await count(t)).toBe(4);
  });

  it("answers allowed origins with CORS headers, refuses the others, and answers preflights", async () => {
    const t = await tenant();
    await refused(await json(t, good, { Origin: "https://evil.example" }), 403, "origin_not_allowed");
    await refused(await urlencoded(t, good, { Origin: "null", Accept: "text/html" }), 403, "origin_not_allowed");
    expect(await count(t)).toBe(0);
    const ok = await json(t, good, { Origin: SHOP });
    expect([ok.status, ok.headers.get("Access-Control-Allow-Origin"), ok.headers.get("Vary")]).toEqual([202, SHOP, "Origin"]);
    const bad = await json(t, { ...good, email: "x" }, { Origin: SHOP });
    expect([bad.status, bad.headers.get("Access-Control-Allow-Origin")]).toEqual([400, SHOP]);

    const pre = await send(t, null, { Origin: SHOP, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" }, "contact", "OPTIONS");
    expect(pre.status).toBe(204);
    expect(pre.headers.get("Access-Control-Allow-Origin")).toBe(SHOP);
    expect(pre.headers.get("Access-Control-Allow-Methods")).toBe("POST, OPTIONS");
    expect(pre.headers.get("Access-Control-Allow-Headers")).toMatch(/Content-Type/);
    await refused(await send(t, null, { Origin: "https://evil.example", "Access-Control-Request-Method": "POST" }, "contact", "OPTIONS"), 403, "origin_not_allowed");
    expect(await count(t)).toBe(1);
  });

  it("answers a repeated submission (Idempotency-Key or _submission) with the first interaction", async () => {
    const t = await tenant();
    const a = await accepted(await json(t, good, { "Idempotency-Key": "k-1" }));
    const b = await accepted(await json(t, { ...good, message: "changed" }, { "Idempotency-Key": "k-1" }));
    expect(b).toEqual({ interactionId: a.interactionId, duplicate: true });
    const c = await accepted(await urlencoded(t, { ...good, _submission: "s-9" }));
    const d = await accepted(await urlencoded(t, { ...good, _submission: "s-9" }));
    expect(d).toEqual({ interactionId: c.interactionId, duplicate: true });
    expect(await count(t)).toBe(2);
    const row = await env.SHARD_1.prepare("SELECT external_id FROM interactions WHERE tenant_id = ? AND id = ?").bind(t.id, a.interactionId).first<{ external_id: string }>();
    expect(row!.external_id).toBe("form:contact:k-1");
  });

  it("is described in the OpenAPI document, preflight included", async () => {
    const doc = (await (await exports.default.fetch(new Request("http://parley.test/api/openapi.json"))).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    expect(Object.keys(doc.paths["/api/v1/forms/{formId}"]!).sort()).toEqual(["options", "post"]);
    expect(doc.paths["/api/v1/forms/{formId}"]!.post!.summary).toMatch(/'<tenant>\.<form>'/);
  });

  it("verifies Turnstile when the form asks for it", async () => {
    const t = await tenant([{ ...contactForm, turnstile: true }]);
    // No secret configured: refused, never accepted unverified.
    await refused(await json(t, { ...good, "cf-turnstile-response": "tok" }), 403, "turnstile_not_configured");
    // The same routes with a secret in their env; siteverify stubbed (the test shares the Worker's isolate).
    const router = buildRouter(formRoutes);
    const withSecret = (body: unknown) =>
      router.fetch(new Request(`http://parley.test/api/v1/forms/${t.id}.contact`, { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.1" } }), { ...env, TURNSTILE_SECRET: "sekrit" }, createExecutionContext()) as Promise<Response>;
    const calls: { url: string; body: string }[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      calls.push({ url: String(input instanceof Request ? input.url : input), body: String(init?.body) });
      return Response.json({ success: new URLSearchParams(String(init?.body)).get("response") === "good-token", "error-codes": ["invalid-input-response"] });
    });
    await refused(await withSecret(good), 403, "turnstile_failed");
    await refused(await withSecret({ ...good, "cf-turnstile-response": "bad-token" }), 403, "turnstile_failed");
    expect(await count(t)).toBe(0);
    await accepted(await withSecret({ ...good, "cf-turnstile-response": "good-token" }));
    expect(calls.map((c) => c.url)).toEqual(Array(2).fill("https://challenges.cloudflare.com/turnstile/v0/siteverify"));
    expect(Object.fromEntries(new URLSearchParams(calls[1]!.body))).toEqual({ secret: "sekrit", response: "good-token", remoteip: "192.0.2.1" });
    expect(await count(t)).toBe(1);
  });
});

describe("web forms through the workflow", () => {
  it("screens posts (spam is kept but stopped) and acknowledges by email with a thread tag", async () => {
    const t = await makeTenant([{ id: "a" }], undefined, {
      forms: [contactForm],
      mailboxes: [{ address: `${uniq("help")}@t.parley.test`, workflow: "main" }],
      standardResponses: [{ id: "thanks", name: "Thanks", text: "Thanks <$ Contact.FirstName $>, we have <$ Interaction.Id $>." }],
      screeningRules: [{ name: "spam", when: 'Find(body, "cheap pills")', actions: [{ type: "spam" }] }],
      workflows: [{ name: "main", queue: "inbound", screen: ["spam"], acknowledge: "thanks" }],
    });
    const spam = await accepted(await json(t, { ...good, message: "Buy cheap pills now" }));
    await stateIs(t, spam.interactionId, "stopped");
    const ok = await accepted(await json(t, good));
    await stateIs(t, ok.interactionId, "queued");
    const ack = await env.SHARD_1.prepare("SELECT subject, to_addrs, auto FROM emails WHERE tenant_id = ? AND interaction_id = ?").bind(t.id, ok.interactionId).first<{ subject: string; to_addrs: string; auto: number }>();
    expect(ack).toMatchObject({ auto: 1 });
    expect(ack!.subject).toMatch(/^Re: Contact us \[#[A-Z0-9]{5}\]$/);
    expect(JSON.parse(ack!.to_addrs)).toEqual([{ addr: "kim@example.com", name: "Kim Lee" }]);
    const spamAcks = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM emails WHERE tenant_id = ? AND interaction_id = ?").bind(t.id, spam.interactionId).first<{ n: number }>();
    expect(spamAcks!.n).toBe(0);
  });
});
