// The email corpus proves itself: every entry parses with postal-mime to exactly what its `expect`
// says, so tests of the ingest can trust those fields.
import PostalMime from "postal-mime";
import { describe, expect, it } from "vitest";
import { bigAttachmentMessage, corpus, noMessageId, patternBytes, plainAscii, replyThreaded, setMessageId, withHeaders, type CorpusEntry } from "../fixtures/email/corpus.ts";

const size = (c: ArrayBuffer | Uint8Array | string) => (typeof c === "string" ? c.length : c.byteLength);
const text = (raw: Uint8Array) => new TextDecoder("latin1").decode(raw);

async function check(e: CorpusEntry): Promise<void> {
  const m = await PostalMime.parse(e.raw);
  const x = e.expect;
  const from = m.from && "address" in m.from ? m.from : undefined;
  if (x.subject !== undefined) expect(m.subject, "subject").toBe(x.subject);
  if (x.fromAddress !== undefined) expect(from?.address, "from address").toBe(x.fromAddress);
  if (x.fromName !== undefined) expect(from?.name, "from name").toBe(x.fromName);
  if (x.text !== undefined) expect(m.text, "text").toContain(x.text);
  if (x.htmlHas !== undefined) expect(m.html, "html").toContain(x.htmlHas);
  if (x.messageId !== undefined) expect(m.messageId ?? null, "messageId").toBe(x.messageId);
  if (x.inReplyTo !== undefined) expect(m.inReplyTo, "inReplyTo").toBe(x.inReplyTo);
  if (x.references !== undefined) expect(m.references, "references").toBe(x.references);
  for (const [k, v] of Object.entries(x.headers ?? {})) expect(m.headers.find((h) => h.key === k)?.value, `header ${k}`).toBe(v);
  if (x.attachments)
    expect(
      m.attachments.map((a) => ({ filename: a.filename, contentType: a.mimeType, size: size(a.content), ...(a.contentId ? { contentId: a.contentId } : {}) })),
      "attachments",
    ).toEqual(x.attachments);
}

describe("email corpus", () => {
  const entries = corpus();

  it("has unique names, CRLF line endings only, and the kinds the ingest must handle", () => {
    expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
    for (const e of entries) expect(/(^|[^\r])\n/.test(text(e.raw)), `${e.name}: bare LF`).toBe(false);
    expect(entries.length).toBeGreaterThanOrEqual(20);
  });

  for (const e of corpus()) it(`parses ${e.name} as expected`, () => check(e));

  it("takes Message-IDs, recipient and customer address from the caller", async () => {
    const custom = corpus({ messageId: (n) => `run7-${n}@bench.test`, to: "support@bench.parley.test", from: "pat@customer.test" });
    for (const e of custom) {
      await check(e);
      const m = await PostalMime.parse(e.raw);
      expect(m.messageId ?? null).toBe(e.name === "no-message-id" ? null : `<run7-${e.name}@bench.test>`);
      expect(m.to?.[0] && "address" in m.to[0] ? m.to[0].address : undefined).toBe("support@bench.parley.test");
      if (e.name !== "list-mail" && e.name !== "bounce") expect(e.expect.fromAddress).toBe("pat@customer.test");
    }
  });

  it("sets headers without touching the body, folded old values included", async () => {
    const e = replyThreaded();
    const raw = withHeaders(setMessageId(e.raw, "fresh-1@x.test"), { References: "<a@x.test> <b@x.test>", "X-Bench-Send": "17" });
    const m = await PostalMime.parse(raw);
    expect(m.messageId).toBe("<fresh-1@x.test>");
    expect(m.references).toBe("<a@x.test> <b@x.test>");
    expect(m.headers.filter((h) => h.key === "message-id" || h.key === "references")).toHaveLength(2);
    expect(m.headers.find((h) => h.key === "x-bench-send")?.value).toBe("17");
    expect(m.inReplyTo).toBe(e.expect.inReplyTo);
    expect(m.text).toContain(e.expect.text);
    const body = (r: Uint8Array) => text(r).slice(text(r).indexOf("\r\n\r\n"));
    expect(body(raw)).toBe(body(e.raw));
    // Added where there was none.
    expect((await PostalMime.parse(setMessageId(noMessageId().raw, "<added@x.test>"))).messageId).toBe("<added@x.test>");
    expect((await PostalMime.parse(setMessageId(plainAscii().raw, "p@x.test"))).subject).toBe("Printer on fire");
  });

  it("builds big attachments exactly, at any size", async () => {
    for (const n of [0, 1, 56, 57, 3647, 3648, 3649, 100_000]) {
      const m = await PostalMime.parse(bigAttachmentMessage(n, { messageId: () => `big-${n}@x.test` }));
      const a = m.attachments[0]!;
      expect(m.messageId).toBe(`<big-${n}@x.test>`);
      expect(m.text).toContain("The scan you asked for is attached.");
      expect(new Uint8Array(a.content as ArrayBuffer)).toEqual(patternBytes(n));
    }
  });

  it("builds a 20 MB attachment message that parses to the same 20 MB", async () => {
    const n = 20 * 1024 * 1024;
    const raw = bigAttachmentMessage(n, { filename: "scan.tiff", contentType: "image/tiff" });
    // base64: 4/3 of the size, plus CRLF every 76 chars.
    expect(raw.length).toBeGreaterThan((n * 4) / 3);
    expect(raw.length).toBeLessThan((n * 4) / 3 + n / 20);
    const m = await PostalMime.parse(raw);
    expect(m.attachments).toHaveLength(1);
    const a = m.attachments[0]!;
    expect([a.filename, a.mimeType, size(a.content)]).toEqual(["scan.tiff", "image/tiff", n]);
    const got = new Uint8Array(a.content as ArrayBuffer);
    const want = patternBytes(n);
    // Compare a few windows (a 20 MB toEqual is slow to diff on failure).
    for (const at of [0, 3647, 3648, 1_000_003, n - 4096]) expect(got.subarray(at, at + 4096)).toEqual(want.subarray(at, at + 4096));
  });
});
