// Inbound email through both doors: real-world MIME, raw bytes and attachments kept in R2,
// exactly once per Message-ID, limits and bad input.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import * as C from "../fixtures/email/corpus.ts";
import { mail, mailTenant, mid, routedMessage } from "../email-helpers.ts";
import worker from "../../workers/index.ts";
import { until } from "../helpers.ts";

const enc = (s: string) => new TextEncoder().encode(s);
async function sha(b: ArrayBuffer | Uint8Array) {
  const d = await crypto.subtle.digest("SHA-256", b);
  return [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, "0")).join("");
}

async function messagesOf(t: Awaited<ReturnType<typeof mailTenant>>, id: string) {
  return t.call<{ threadId: string; messages: { id: string; subject: string; text: string; html: string | null; flags: string[]; from: { addr: string; name?: string } | null; attachments: { id: string; name: string; contentType: string; size: number; sha256: string; contentId: string | null; url: string }[] }[] }>(
    `/api/v1/interactions/${id}/messages`,
  );
}

describe("real-world MIME", () => {
  it("stores every corpus message: headers, text, sanitized HTML, attachments in R2 with sha256, the raw bytes", async () => {
    const t = await mailTenant([{ id: "a1", capacity: { email: 5 } }]);
    for (const entry of C.corpus({ to: t.mailbox, messageId: (name) => mid(name) })) {
      const r = await t.receive(entry.raw);
      expect(r.duplicate, entry.name).toBe(false);
      const m = (await messagesOf(t, r.interactionId)).messages.at(-1)!;
      if (entry.expect.subject !== undefined) expect(m.subject ?? "", entry.name).toBe(entry.expect.subject);
      if (entry.expect.fromAddress) expect(m.from?.addr, entry.name).toBe(entry.expect.fromAddress);
      if (entry.expect.text) expect(m.text, entry.name).toContain(entry.expect.text);
      // The sanitizer drops the document wrapper (html, head, body) and class attributes, and keeps the content.
      if (entry.expect.htmlHas && !entry.expect.htmlHas.includes("cid:")) expect(m.html ?? "", entry.name).toContain(entry.expect.htmlHas.replace(/<\/?(html|head|body)\b[^>]*>/gi, "").replace(/ class="[^"]*"/g, ""));
      for (const want of entry.expect.attachments ?? []) {
        const got = m.attachments.find((a) => (want.filename === null ? a.size === want.size : a.name === want.filename));
        expect(got, `${entry.name}: ${want.filename}`).toBeDefined();
        expect(got!.size).toBe(want.size);
        const res = await t.api(got!.url);
        expect(res.status).toBe(200);
        const body = new Uint8Array(await res.arrayBuffer());
        expect(await sha(body)).toBe(got!.sha256);
      }
      if (entry.expect.messageId === null) expect(m.flags, entry.name).toContain("no_message_id");
      // The raw message is kept exactly as received.
      const row = await env.SHARD_1.prepare("SELECT raw_key, raw_size FROM emails WHERE tenant_id = ? AND id = ?").bind(t.id, m.id).first<{ raw_key: string; raw_size: number }>();
      const raw = await env.BLOBS.get(row!.raw_key);
      expect(await sha(await raw!.arrayBuffer()), entry.name).toBe(await sha(entry.raw));
    }
  });

  it("rewrites inline cid: images to the part's URL and strips script from HTML", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const r = await t.receive(C.inlineImage({ to: t.mailbox }).raw);
    const m = (await messagesOf(t, r.interactionId)).messages[0]!;
    const img = m.attachments.find((a) => a.contentId);
    expect(img).toBeDefined();
    expect(m.html).toContain(img!.url);
    expect(m.html).not.toMatch(/cid:/i);

    const evil = mail({ text: "x" }).replace("Content-Type: text/plain; charset=utf-8", "Content-Type: text/html; charset=utf-8").replace(/\r\n\r\nx\r\n$/, "\r\n\r\n<p>Hi</p><script>alert(1)</script><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">x</a>\r\n");
    const r2 = await t.receive(evil);
    const m2 = (await messagesOf(t, r2.interactionId)).messages[0]!;
    expect(m2.html).toContain("<p>Hi</p>");
    expect(m2.html).not.toMatch(/<script|onerror|javascript:/i);
  });

  it("takes a 20 MB attachment and refuses a message over 25 MiB with 413, storing nothing", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    // 20 MB in base64 is 26.7 MB of message, over the 25 MiB message limit: the biggest base64
    // attachment that fits is about 18.7 MiB, and a 20 MB one fits only as 8-bit binary (RFC 3030).
    const b64 = C.bigAttachmentMessage(18 * 1024 * 1024, { to: t.mailbox, messageId: () => mid("big") });
    expect(b64.byteLength).toBeLessThan(25 * 1024 * 1024);
    const r = await t.receive(b64);
    expect((await messagesOf(t, r.interactionId)).messages[0]!.attachments[0]!.size).toBe(18 * 1024 * 1024);

    const payload = C.patternBytes(20 * 1000 * 1000);
    const head = enc(
      [`From: jane@customer.example`, `To: ${t.mailbox}`, `Subject: Scan`, `Message-ID: <${mid("bin")}>`, "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
        "Content-Type: text/plain", "", "Scan attached.", "--b1", 'Content-Type: application/octet-stream; name="scan.bin"', 'Content-Disposition: attachment; filename="scan.bin"',
        "Content-Transfer-Encoding: binary", "", ""].join("\r\n"),
    );
    const tail = enc("\r\n--b1--\r\n");
    const bin = new Uint8Array(head.length + payload.length + tail.length);
    bin.set(head);
    bin.set(payload, head.length);
    bin.set(tail, head.length + payload.length);
    const r20 = await t.receive(bin);
    const att = (await messagesOf(t, r20.interactionId)).messages[0]!.attachments[0]!;
    // postal-mime reads a binary part line by line and keeps the newline before the closing
    // boundary: the stored bytes are the 20 MB payload plus that one byte.
    expect(att.size).toBe(20 * 1000 * 1000 + 1);
    const stored = new Uint8Array(await (await t.api(att.url)).arrayBuffer());
    expect(await sha(stored.subarray(0, payload.length))).toBe(await sha(payload));

    const before = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM emails WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    const over = new Uint8Array(25 * 1024 * 1024 + 1).fill(65);
    over.set(enc(mail({ to: t.mailbox })));
    const res = await t.inbound(over);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
    const after = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM emails WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  }, 120_000); // 23 s alone, 33 s on a loaded 2-core machine

  it("stores a message with a broken boundary or no Message-ID, flagged; identical bytes again are a duplicate", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    for (const b of [C.brokenBoundaryUnclosed, C.brokenBoundaryAbsent]) {
      const r = await t.receive(b({ to: t.mailbox }).raw);
      expect(r.duplicate).toBe(false);
    }
    const noId = mail({ to: t.mailbox, messageId: null, subject: "no id" });
    const a = await t.receive(noId);
    expect(a.flags).toContain("no_message_id");
    const b = await t.receive(noId);
    expect(b).toMatchObject({ duplicate: true, interactionId: a.interactionId });
  });

  it("keeps garbage that is not MIME at all, flagged, rather than losing it", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const r = await t.receive(new Uint8Array([0xff, 0xfe, 0x00, 0x01, 0x80, 0x81, 0x0a, 0x0a, 0x41]));
    expect(r.duplicate).toBe(false);
    const row = await env.SHARD_1.prepare("SELECT flags, raw_key FROM emails WHERE tenant_id = ? AND interaction_id = ?").bind(t.id, r.interactionId).first<{ flags: string; raw_key: string }>();
    expect(JSON.parse(row!.flags)).toContain("no_message_id");
    expect(await env.BLOBS.get(row!.raw_key)).not.toBeNull();
  });
});

describe("exactly once", () => {
  it("gives one interaction for the same Message-ID delivered twice, and for two concurrent deliveries", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const raw = mail({ messageId: mid("dup") });
    const a = await t.receive(raw);
    const b = await t.receive(raw);
    expect(b).toMatchObject({ duplicate: true, interactionId: a.interactionId });
    const raw2 = mail({ messageId: mid("race") });
    const [x, y] = await Promise.all([t.receive(raw2), t.receive(raw2)]);
    expect(x.interactionId).toBe(y.interactionId);
    expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(2);
    const e = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM emails WHERE tenant_id = ? AND direction = 'inbound'").bind(t.id).first<{ n: number }>();
    expect(e!.n).toBe(2);
    // A duplicate writes nothing: one 'created' event and one full-text entry per message.
    const ev = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interaction_events WHERE tenant_id = ? AND action = 'created'").bind(t.id).first<{ n: number }>();
    expect(ev!.n).toBe(2);
    const fts = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM search_index WHERE tenant_id = ? AND kind = 'message'").bind(t.id).first<{ n: number }>();
    expect(fts!.n).toBe(2);
  });

  it("keeps the same Message-ID apart across tenants", async () => {
    const t1 = await mailTenant([{ id: "a1" }]);
    const t2 = await mailTenant([{ id: "a1" }]);
    const id = mid("shared");
    const a = await t1.receive(mail({ messageId: id }));
    const b = await t2.receive(mail({ messageId: id }));
    expect(a.duplicate || b.duplicate).toBe(false);
    expect(a.interactionId).not.toBe(b.interactionId);
    // And neither tenant can read the other's message.
    expect((await t2.api(`/api/v1/interactions/${a.interactionId}/messages`)).status).toBe(404);
  });
});

describe("bad input", () => {
  it("answers clear 4xx errors and stores nothing", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const cases: [Promise<Response>, number, string][] = [
      [t.inbound(mail({}), "nobody@elsewhere.example"), 400, "unknown_mailbox"],
      [t.api("/api/v1/email/inbound", { method: "POST", headers: { "Content-Type": "message/rfc822" }, body: mail({ to: "x@y.example" }) }), 400, "unknown_mailbox"],
      [t.api(`/api/v1/email/inbound?to=${t.mailbox}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" }), 415, "unsupported_media_type"],
      [t.api(`/api/v1/email/inbound?to=${t.mailbox}`, { method: "POST", headers: { "Content-Type": "message/rfc822" }, body: "" }), 400, "empty_message"],
      [t.api(`/api/v1/email/inbound?to=${t.mailbox}`, { method: "POST", as: "", headers: { "Content-Type": "message/rfc822" }, body: mail({}) }), 401, "unauthorized"],
      [exports.default.fetch(new Request(`http://parley.test/api/v1/email/inbound?to=${t.mailbox}`, { method: "POST", headers: { Authorization: "Bearer forged-key", "Content-Type": "message/rfc822" }, body: mail({}) })), 401, "invalid_key"],
    ];
    for (const [p, status, code] of cases) {
      const res = await p;
      expect(res.status, code).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM emails WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(0);
  });

  it("uses plus-addressing and the Delivered-To header to find the mailbox", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const plus = t.mailbox.replace("@", "+orders@");
    expect((await t.inbound(mail({ to: plus }), plus)).status).toBe(202);
    const res = await t.api("/api/v1/email/inbound", { method: "POST", headers: { "Content-Type": "message/rfc822" }, body: mail({ to: "someone@else.example", headers: { "Delivered-To": plus } }) });
    expect(res.status).toBe(202);
  });
});

describe("the email() handler", () => {
  const message = (raw: string | Uint8Array, to: string) => routedMessage(raw, to);


  it("stores mail for a known mailbox (plus-addressed too) and rejects unknown or oversized mail at SMTP time", async () => {
    const t = await mailTenant([{ id: "a1" }]);
    const id = mid("smtp");
    const ok = message(mail({ to: t.mailbox, messageId: id }), t.mailbox.replace("@", "+x@"));
    await worker.email(ok.m, env, { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext);
    expect(ok.rejected()).toBeNull();
    const row = await env.SHARD_1.prepare("SELECT interaction_id FROM emails WHERE tenant_id = ? AND message_id = ?").bind(t.id, id).first<{ interaction_id: string }>();
    expect(row).not.toBeNull();
    await until(async () => (await t.call<{ state: string }>(`/api/v1/interactions/${row!.interaction_id}`)).state === "queued", "queued");

    const unknown = message(mail({}), "nobody@nowhere.example");
    await worker.email(unknown.m, env, {} as ExecutionContext);
    expect(unknown.rejected()).toMatch(/No mailbox/);

    const huge = message(enc("x"), t.mailbox);
    (huge.m as unknown as { rawSize: number }).rawSize = 26 * 1024 * 1024;
    await worker.email(huge.m, env, {} as ExecutionContext);
    expect(huge.rejected()).toMatch(/too large/);
  });
});
