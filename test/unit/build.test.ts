import PostalMime, { type Address, type Email } from "postal-mime";
import { describe, expect, it } from "vitest";
import { buildMime, envelopeRecipients, newMessageId, type OutgoingMail } from "../../workers/email/build.ts";
import { parseMessageIdList } from "../../workers/email/addresses.ts";
import { AUTO_REPLY_HEADERS } from "../../workers/email/loop-guard.ts";

const base: OutgoingMail = {
  from: { addr: "support@demo.parley.test", name: "Demo Support" },
  to: [{ addr: "pat@example.com", name: "Pat Smith" }],
  subject: "Your request",
  messageId: "parley.abc123@demo.parley.test",
  text: "Hello Pat,\nthanks for writing.\n",
  date: new Date(Date.UTC(2026, 10, 24, 14, 5, 9)),
};

const parse = async (m: OutgoingMail): Promise<{ raw: string; e: Email }> => {
  const raw = buildMime(m);
  return { raw, e: await PostalMime.parse(raw) };
};
/** postal-mime keeps the CRLF that RFC 2046 makes part of a boundary delimiter, so a text part inside a
 *  multipart comes back with one extra "\n" (shown by the first test below); this undoes exactly that. */
const partText = (s: string | undefined) => s?.replace(/\n$/, "");
const addrs = (list: Address[] | undefined) => (list ?? []).map((a) => ({ name: a.name, address: a.address }));
const headerBlock = (raw: string) => raw.slice(0, raw.indexOf("\r\n\r\n"));
const header = (e: Email, key: string) => e.headers.filter((h) => h.key === key).map((h) => h.value);

/** Lines within RFC 5322's limits (78 recommended, and every line here respects it) and only CRLF breaks. */
function expectWellFormed(raw: string) {
  expect(raw.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
  for (const line of raw.split("\r\n")) expect(line.length, line).toBeLessThanOrEqual(78);
}

describe("buildMime", () => {
  it("(postal-mime reads the delimiter's CRLF into the part before it)", async () => {
    const raw = "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b--";
    expect((await PostalMime.parse(raw)).text).toBe("Hello\n");
  });
  it("builds a plain message whose every field parses back", async () => {
    const { raw, e } = await parse(base);
    expectWellFormed(raw);
    expect(e.from).toEqual({ name: "Demo Support", address: "support@demo.parley.test" });
    expect(addrs(e.to)).toEqual([{ name: "Pat Smith", address: "pat@example.com" }]);
    expect(e.subject).toBe("Your request");
    expect(e.messageId).toBe("<parley.abc123@demo.parley.test>");
    expect(e.date).toBe("2026-11-24T14:05:09.000Z");
    expect(e.text).toBe("Hello Pat,\nthanks for writing.\n");
    expect(e.html).toBeUndefined();
    expect(e.attachments).toEqual([]);
    expect(header(e, "mime-version")).toEqual(["1.0"]);
    expect(headerBlock(raw)).toMatch(/^Subject: Your request$/m);
    expect(raw).toMatch(/Content-Type: text\/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable/);
  });

  it("keeps body text exactly: UTF-8, long lines, '=', trailing spaces, leading dots and From", async () => {
    const text = [
      "Grüße aus Köln — 你好 👋",
      "a=b and =?utf-8?Q?not-a-word?=",
      "x".repeat(300),
      "trailing spaces   ",
      "tab at end\t",
      ".",
      ".leading dot",
      "From the team",
      "",
      "é".repeat(80),
    ].join("\n");
    const { raw, e } = await parse({ ...base, text });
    expectWellFormed(raw);
    expect(e.text).toBe(text);
    expect(raw).not.toMatch(/^From the team/m);
    expect(raw).not.toMatch(/^\.$/m);
  });

  it("sends text and HTML as multipart/alternative", async () => {
    const html = '<p>Hello <b>Pat</b> — <a href="https://example.com/?a=1&amp;b=2">link</a></p>';
    const { raw, e } = await parse({ ...base, html });
    expectWellFormed(raw);
    expect(raw).toMatch(/Content-Type: multipart\/alternative; boundary=/);
    expect(partText(e.text)).toBe(base.text);
    expect(partText(e.html)).toBe(html);
  });

  it("encodes non-ASCII and long subjects and names in folded RFC 2047 words", async () => {
    const subject = `Ré: commande n° 42 — 注文の確認 🎉 ${"très long sujet ".repeat(8)}`.trim();
    const { raw, e } = await parse({
      ...base,
      subject,
      from: { addr: "support@demo.parley.test", name: "Zoë Ålander (Support)" },
      to: [
        { addr: "pat@example.com", name: "Smith, Pat \"PJ\"" },
        { addr: "kim@example.com", name: "김민준" },
        { addr: "lee@example.com" },
      ],
    });
    expectWellFormed(raw);
    expect(headerBlock(raw)).not.toMatch(/[^\x00-\x7f]/);
    expect(e.subject).toBe(subject);
    expect(e.from).toEqual({ name: "Zoë Ålander (Support)", address: "support@demo.parley.test" });
    expect(addrs(e.to)).toEqual([
      { name: 'Smith, Pat "PJ"', address: "pat@example.com" },
      { name: "김민준", address: "kim@example.com" },
      { name: "", address: "lee@example.com" },
    ]);
  });

  it("leaves a subject that merely looks encoded as it was written", async () => {
    const { e } = await parse({ ...base, subject: "About =?utf-8?B?SGk=?= literally" });
    expect(e.subject).toBe("About =?utf-8?B?SGk=?= literally");
  });

  it("puts Cc in the headers, never Bcc, and delivers to all", async () => {
    const m: OutgoingMail = {
      ...base,
      cc: [{ addr: "team@demo.parley.test", name: "Team" }],
      bcc: [{ addr: "audit@demo.parley.test", name: "Audit" }, { addr: "PAT@example.com" }],
      replyTo: { addr: "reply+k7q2m@demo.parley.test", name: "Demo Support" },
    };
    const { raw, e } = await parse(m);
    expect(addrs(e.cc)).toEqual([{ name: "Team", address: "team@demo.parley.test" }]);
    expect(e.bcc).toBeUndefined();
    expect(raw).not.toMatch(/^bcc:/im);
    expect(raw).not.toContain("audit@");
    expect(e.replyTo?.map((a) => a.address)).toEqual(["reply+k7q2m@demo.parley.test"]);
    expect(envelopeRecipients(m)).toEqual(["pat@example.com", "team@demo.parley.test", "audit@demo.parley.test"]);
  });

  it("writes threading headers", async () => {
    const references = Array.from({ length: 20 }, (_, i) => `ref${i}.${"x".repeat(20)}@mail.example.com`);
    const { raw, e } = await parse({ ...base, inReplyTo: "ref19.xxxxxxxxxxxxxxxxxxxx@mail.example.com", references });
    expectWellFormed(raw);
    expect(e.inReplyTo).toBe("<ref19.xxxxxxxxxxxxxxxxxxxx@mail.example.com>");
    expect(parseMessageIdList(e.references)).toEqual(references);
    expect(e.references).toBe(references.map((r) => `<${r}>`).join(" "));
  });

  it("adds extra headers, encoding non-ASCII and flattening line breaks", async () => {
    const { raw, e } = await parse({ ...base, headers: { ...AUTO_REPLY_HEADERS, "X-Parley-Note": "Grüße", "X-Test": "a\r\nBcc: evil@example.com" } });
    expect(header(e, "auto-submitted")).toEqual(["auto-replied"]);
    expect(header(e, "x-auto-response-suppress")).toEqual(["All"]);
    expect(header(e, "x-test")).toEqual(["a Bcc: evil@example.com"]);
    expect(header(e, "bcc")).toEqual([]);
    expect(raw).toMatch(/^X-Parley-Note: =\?UTF-8\?B\?/m);
  });

  it("carries attachments and inline cid images byte for byte", async () => {
    const pdf = crypto.getRandomValues(new Uint8Array(5000));
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 255, 0]);
    const longName = `Übersicht ${"Jahresabschluss-März-".repeat(6)}2026 🎉 — 年度報告.pdf`;
    const { raw, e } = await parse({
      ...base,
      html: '<p>Logo: <img src="cid:logo.png@parley"></p>',
      attachments: [
        { filename: "Rechnung März.pdf", contentType: "application/pdf", data: pdf },
        { filename: "logo.png", contentType: "image/png", data: png, contentId: "logo.png@parley", inline: true },
        { filename: "inline-attachment \"notes\".txt", contentType: "text/plain", data: new TextEncoder().encode("notes\n") },
        { filename: longName, contentType: "application/octet-stream", data: new Uint8Array([1, 2, 3]) },
      ],
    });
    expectWellFormed(raw);
    expect(raw).toMatch(/Content-Type: multipart\/mixed/);
    expect(raw).toMatch(/Content-Type: multipart\/related/);
    expect(partText(e.text)).toBe(base.text);
    expect(partText(e.html)).toBe('<p>Logo: <img src="cid:logo.png@parley"></p>');
    const byName = new Map(e.attachments.map((a) => [a.filename, a]));
    expect([...byName.keys()].sort()).toEqual(["Rechnung März.pdf", "inline-attachment \"notes\".txt", "logo.png", longName].sort());
    const pdfPart = byName.get("Rechnung März.pdf")!;
    expect(pdfPart.mimeType).toBe("application/pdf");
    expect(pdfPart.disposition).toBe("attachment");
    expect(new Uint8Array(pdfPart.content as ArrayBuffer)).toEqual(pdf);
    const logo = byName.get("logo.png")!;
    expect(logo.disposition).toBe("inline");
    expect(logo.contentId).toBe("<logo.png@parley>");
    expect(logo.mimeType).toBe("image/png");
    expect(new Uint8Array(logo.content as ArrayBuffer)).toEqual(png);
    const notes = byName.get("inline-attachment \"notes\".txt")!;
    expect(notes.disposition).toBe("attachment");
    expect(new TextDecoder().decode(notes.content as ArrayBuffer)).toBe("notes\n");
    expect(new Uint8Array(byName.get(longName)!.content as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
  });

  it("sends an attachment beside plain text alone", async () => {
    const { e } = await parse({ ...base, attachments: [{ filename: "a.txt", contentType: "text/plain", data: new TextEncoder().encode("A") }] });
    expect(partText(e.text)).toBe(base.text);
    expect(e.attachments.map((a) => [a.filename, a.disposition])).toEqual([["a.txt", "attachment"]]);
  });

  it("refuses values that would inject headers or break the message", () => {
    expect(() => buildMime({ ...base, to: [{ addr: "pat@example.com>\r\nBcc: evil@example.com" }] })).toThrow(/cannot send to/);
    expect(() => buildMime({ ...base, from: { addr: "not an address" } })).toThrow(/cannot send to/);
    expect(() => buildMime({ ...base, bcc: [{ addr: "x" }] })).toThrow(/cannot send to/);
    expect(() => buildMime({ ...base, messageId: "<a@b>" })).toThrow(/invalid Message-ID/);
    expect(() => buildMime({ ...base, inReplyTo: "a b@c" })).toThrow(/invalid In-Reply-To/);
    expect(() => buildMime({ ...base, references: ["ok@x", "bad"] })).toThrow(/invalid References/);
    expect(() => buildMime({ ...base, headers: { "Bad Name": "x" } })).toThrow(/invalid header name/);
    expect(() => buildMime({ ...base, headers: { subject: "x" } })).toThrow(/set by buildMime/);
    expect(() => buildMime({ ...base, headers: { BCC: "x@y" } })).toThrow(/set by buildMime/);
    const att = { filename: "a", data: new Uint8Array(1) };
    expect(() => buildMime({ ...base, attachments: [{ ...att, contentType: "text/plain\r\nX-Evil: 1" }] })).toThrow(/invalid content type/);
    expect(() => buildMime({ ...base, attachments: [{ ...att, contentType: "image/png", contentId: "a b" }] })).toThrow(/invalid Content-ID/);
  });

  it("turns line breaks in names and subjects into spaces", async () => {
    const { e } = await parse({ ...base, subject: "Hi\r\nBcc: evil@example.com", to: [{ addr: "pat@example.com", name: "Pat\r\nBcc: evil@example.com" }] });
    expect(e.subject).toBe("Hi Bcc: evil@example.com");
    expect(header(e, "bcc")).toEqual([]);
    expect(addrs(e.to)).toEqual([{ name: "Pat Bcc: evil@example.com", address: "pat@example.com" }]);
  });
});

describe("newMessageId", () => {
  it("is parley.<random>@domain and unique", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newMessageId("Demo.Parley.test")));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^parley\.[0-9a-f]{32}@demo\.parley\.test$/);
    expect(() => newMessageId("bad domain")).toThrow(/invalid domain/);
  });
});

describe("addresses a reply may go to (issue 12, item 8)", () => {
  const base2: OutgoingMail = { from: { addr: "support@demo.parley.test" }, to: [], subject: "s", messageId: "a@b.example", text: "t" };
  it("writes a quoted local part as it is, in To and in the envelope", async () => {
    const raw = buildMime({ ...base2, to: [{ addr: '"john doe"@example.com' }, { addr: '"a\\"b"@x.example', name: "A B" }] });
    expect(raw).toMatch(/^To: "john doe"@example\.com, A B <"a\\"b"@x\.example>\r$/m);
    const e = await PostalMime.parse(raw);
    expect(e.to?.[0]?.address).toBe("john doe@example.com");
    expect(envelopeRecipients({ to: [{ addr: '"john doe"@example.com' }] })).toEqual(['"john doe"@example.com']);
  });
  it("refuses a domain literal with a typed 400 naming the address", () => {
    let err: unknown;
    try {
      buildMime({ ...base2, to: [{ addr: "user@[127.0.0.1]" }] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ status: 400, code: "unsupported_address" });
    expect((err as Error).message).toContain("user@[127.0.0.1]");
  });
});
