// Web forms' pure core: body parsing, field validation, the honeypot, the interaction's text; the
// CORS allow-list; the demo tenant's forms and callbacks.
import { describe, expect, it } from "vitest";
import demo from "../../demo/tenant.json";
import { Form, parseConfig } from "../../workers/config/schema.ts";
import { bodyKind, parseBody } from "../../workers/forms/body.ts";
import { readLimited } from "../../workers/kernel/read-limited.ts";
import type { Entry } from "../../workers/forms/entries.ts";
import { describe as describeSubmission, validateSubmission } from "../../workers/forms/validate.ts";
import { allowedOrigin, preflight } from "../../workers/http/cors.ts";
import { AppError } from "../../workers/kernel/errors.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const errorOf = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error("expected an error");
};
const texts = (entries: Entry[]) => entries.map((e) => ("value" in e ? [e.name, e.value] : [e.name, `file:${e.file.filename}:${e.file.contentType}:${new TextDecoder().decode(e.file.bytes)}`]));

const form = Form.parse({
  name: "contact",
  workflow: "main",
  title: "topic",
  fields: [
    { name: "name", label: "Your name", type: "text", required: true },
    { name: "email", label: "Email", type: "email", required: true },
    { name: "phone", label: "Phone", type: "phone" },
    { name: "topic", label: "Topic", type: "text", maxLength: 20 },
    { name: "message", label: "Message", type: "textarea" },
    { name: "photo", label: "Photo", type: "file", accept: ["image/*", "application/pdf"], maxBytes: 10 },
  ],
});
const ok = (extra: Entry[] = []): Entry[] => [{ name: "name", value: "Kim Lee" }, { name: "email", value: "kim@example.com" }, ...extra];

function multipart(boundary: string, parts: { name: string; value?: string; filename?: string; type?: string }[], preamble = ""): Uint8Array {
  let s = preamble ? `${preamble}\r\n` : "";
  for (const p of parts) {
    s += `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ""}\r\n`;
    if (p.type) s += `Content-Type: ${p.type}\r\n`;
    s += `\r\n${p.value ?? ""}\r\n`;
  }
  return bytes(`${s}--${boundary}--\r\n`);
}

describe("form bodies", () => {
  it("knows the three encodings and refuses others and other charsets (415)", () => {
    expect(bodyKind("application/x-www-form-urlencoded")).toBe("urlencoded");
    expect(bodyKind("multipart/form-data; boundary=x")).toBe("multipart");
    expect(bodyKind("application/json; charset=utf-8")).toBe("json");
    expect(errorOf(() => bodyKind("text/plain")).status).toBe(415);
    expect(errorOf(() => bodyKind(null)).status).toBe(415);
    expect(errorOf(() => bodyKind("application/x-www-form-urlencoded; charset=iso-8859-1")).status).toBe(415);
  });

  it("decodes urlencoded strictly: + and %XX, bad UTF-8 is a 400 naming the field", () => {
    expect(texts(parseBody("urlencoded", "", bytes("name=Kim+Lee&msg=caf%C3%A9+%E2%9C%93&lone=100%&empty=&flag")))).toEqual([
      ["name", "Kim Lee"], ["msg", "café ✓"], ["lone", "100%"], ["empty", ""], ["flag", ""],
    ]);
    const e = errorOf(() => parseBody("urlencoded", "", bytes("msg=%FF%FE")));
    expect([e.status, e.code, e.message]).toEqual([400, "invalid_encoding", "fields.msg: not valid UTF-8"]);
    expect(errorOf(() => parseBody("urlencoded", "", new Uint8Array([0x6d, 0x3d, 0xc3]))).code).toBe("invalid_encoding");
  });

  it("parses multipart: fields, files as sent, a preamble, an empty file input", () => {
    const body = multipart("XyZ", [
      { name: "name", value: "Zoë" },
      { name: "photo", filename: "a.png", type: "image/PNG", value: "\r\n--XyZnot-a-boundary\r\n" },
      { name: "photo", filename: "" },
      { name: "message", value: "line 1\r\nline 2" },
      { name: "photo", filename: "C:\\Users\\kim\\b.pdf", type: "application/pdf", value: "%PDF" },
    ], "preamble to ignore");
    expect(texts(parseBody("multipart", 'multipart/form-data; boundary="XyZ"', body))).toEqual([
      ["name", "Zoë"], ["photo", "file:a.png:image/png:\r\n--XyZnot-a-boundary\r\n"], ["message", "line 1\r\nline 2"], ["photo", "file:b.pdf:application/pdf:%PDF"],
    ]);
    expect(errorOf(() => parseBody("multipart", "multipart/form-data", body)).code).toBe("invalid_body");
    expect(errorOf(() => parseBody("multipart", "multipart/form-data; boundary=XyZ", bytes("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"))).code).toBe("invalid_body");
    const bad = new Uint8Array([...bytes('--b\r\nContent-Disposition: form-data; name="m"\r\n\r\n'), 0xff, ...bytes("\r\n--b--")]);
    expect(errorOf(() => parseBody("multipart", "multipart/form-data; boundary=b", bad)).message).toBe("fields.m: not valid UTF-8");
  });

  it("takes a JSON object of strings (numbers and booleans as text, null as empty)", () => {
    expect(texts(parseBody("json", "", bytes('{"name":"Kim","n":3,"ok":true,"skip":null}')))).toEqual([["name", "Kim"], ["n", "3"], ["ok", "true"]]);
    expect(errorOf(() => parseBody("json", "", bytes("[1]"))).code).toBe("invalid_body");
    expect(errorOf(() => parseBody("json", "", bytes("{"))).code).toBe("invalid_json");
    expect(errorOf(() => parseBody("json", "", bytes('{"a":{"b":1}}'))).message).toBe("fields.a: must be a string");
  });

  it("refuses a body over the cap, whatever its Content-Length says (413)", async () => {
    const stream = () => new ReadableStream({ start(c) { c.enqueue(new Uint8Array(6)); c.enqueue(new Uint8Array(6)); c.close(); } });
    await expect(readLimited(new Request("http://x/", { method: "POST", body: stream(), duplex: "half" } as RequestInit), 10)).rejects.toMatchObject({ status: 413 });
    expect((await readLimited(new Request("http://x/", { method: "POST", body: stream(), duplex: "half" } as RequestInit), 12)).byteLength).toBe(12);
    await expect(readLimited(new Request("http://x/", { method: "POST", body: "x", headers: { "Content-Length": "99" } }), 10)).rejects.toMatchObject({ status: 413 });
  });
});

describe("form validation", () => {
  it("accepts a good post: phone to E.164, text trimmed, the key and Turnstile token apart", () => {
    const s = validateSubmission(form, ok([
      { name: "phone", value: "+1 (415) 555-0100" }, { name: "topic", value: "  Refund  " }, { name: "message", value: "\n\nHello\r\nthere  \n" },
      { name: "_submission", value: "k-1" }, { name: "cf-turnstile-response", value: "tok" }, { name: "website", value: "" },
    ]));
    expect(s.values.map((v) => [v.field.name, v.value])).toEqual([["name", "Kim Lee"], ["email", "kim@example.com"], ["phone", "+14155550100"], ["topic", "Refund"], ["message", "Hello\nthere"]]);
    expect([s.submissionKey, s.turnstileToken]).toEqual(["k-1", "tok"]);
  });

  it("refuses a filled honeypot before anything else", () => {
    const e = errorOf(() => validateSubmission(form, [{ name: "website", value: "http://spam" }, { name: "bogus", value: "x" }]));
    expect([e.status, e.code]).toEqual([400, "spam_suspected"]);
  });

  it("names each bad field", () => {
    const issues = (entries: Entry[]) => (errorOf(() => validateSubmission(form, entries)).details as { path: string; message: string }[]).map((i) => `${i.path}: ${i.message}`);
    expect(issues([{ name: "email", value: "nope" }, { name: "extra", value: "1" }])).toEqual(["fields.extra: unknown field", "fields.name: required", "fields.email: not an email address"]);
    expect(issues(ok([{ name: "phone", value: "555-0100" }]))).toEqual(["fields.phone: not a phone number (include the country code, like +14155550100)"]);
    expect(issues(ok([{ name: "topic", value: "x".repeat(21) }]))).toEqual(["fields.topic: longer than 20 characters"]);
    expect(issues(ok([{ name: "name", value: "again" }]))).toEqual(["fields.name: given more than once"]);
    expect(issues(ok([{ name: "photo", value: "not a file" }]))).toEqual(["fields.photo: send files as multipart/form-data"]);
    expect(issues(ok([{ name: "name", file: { filename: "a.txt", contentType: "text/plain", bytes: bytes("x") } }]))).toEqual(["fields.name: not a file field"]);
    expect(issues(ok([{ name: "photo", file: { filename: "a.exe", contentType: "application/x-msdownload", bytes: bytes("MZ") } }]))).toEqual(["fields.photo: file 'a.exe' is application/x-msdownload; accepted: image/*, application/pdf"]);
    expect(issues(ok([{ name: "photo", file: { filename: "big.pdf", contentType: "application/pdf", bytes: new Uint8Array(11) } }]))).toEqual(["fields.photo: file 'big.pdf' is over 10 bytes"]);
    expect(errorOf(() => validateSubmission(form, [{ name: "email", value: "nope" }])).message).toBe("fields.name: required");
    expect(errorOf(() => validateSubmission(Form.parse({ ...form, fields: [] }), [{ name: "x".repeat(100), value: "" }])).message).toBe(`fields.${"x".repeat(64)}…: unknown field`);
  });

  it("makes the subject, the 'Label: value' text and the contact", () => {
    const s = validateSubmission(form, ok([
      { name: "topic", value: "Broken  lamp" }, { name: "message", value: "It flickers." }, { name: "phone", value: "+44 20 7946 0958" },
      { name: "photo", file: { filename: "lamp.jpg", contentType: "image/jpeg", bytes: bytes("jpeg") } },
    ]));
    expect(describeSubmission(form, s)).toEqual({
      subject: "Broken lamp",
      text: "Your name: Kim Lee\nEmail: kim@example.com\nPhone: +442079460958\nTopic: Broken  lamp\nMessage: It flickers.\nPhoto: lamp.jpg (4 bytes)",
      contact: { email: "kim@example.com", phone: "+442079460958", name: "Kim Lee", firstName: undefined, lastName: undefined },
    });
    expect(describeSubmission(form, validateSubmission(form, ok())).subject).toBe("topic");
    const plain = Form.parse({ name: "quote", workflow: "main", fields: [{ name: "first_name", label: "First", type: "text" }, { name: "last", label: "Last", type: "text" }] });
    const d = describeSubmission(plain, validateSubmission(plain, [{ name: "first_name", value: "Ann" }, { name: "last", value: "Lee" }]));
    expect([d.subject, d.contact.firstName, d.contact.lastName]).toEqual(["Web form: quote", "Ann", "Lee"]);
  });
});

describe("CORS allow-list", () => {
  const req = (origin?: string, method = "POST") => new Request("http://parley.test/x", { method, headers: origin ? { Origin: origin } : {} });
  it("allows listed origins (normalized), no Origin at all, and refuses the rest with 403", () => {
    expect(allowedOrigin(req("https://shop.example.com"), ["https://Shop.example.com:443/"])).toBe("https://shop.example.com");
    expect(allowedOrigin(req(), [])).toBeNull();
    for (const o of ["https://evil.example", "null", "http://shop.example.com"]) expect(errorOf(() => allowedOrigin(req(o), ["https://shop.example.com"])).code).toBe("origin_not_allowed");
  });
  it("answers preflights with what may be sent", () => {
    const res = preflight(req("https://shop.example.com", "OPTIONS"), ["https://shop.example.com"], ["POST"]);
    expect(res.status).toBe(204);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      "access-control-allow-origin": "https://shop.example.com", "access-control-allow-methods": "POST, OPTIONS", vary: "Origin",
      "access-control-allow-headers": "Content-Type, Accept, Authorization, Idempotency-Key",
    });
    expect(errorOf(() => preflight(req("https://evil.example", "OPTIONS"), ["https://shop.example.com"], ["POST"])).status).toBe(403);
  });
});

describe("demo tenant", () => {
  it("has a callbacks section, queue, skill and agents, and a form with an origin list", () => {
    const cfg = parseConfig(demo);
    expect(cfg.callbacks).toMatchObject({ workflow: "callbacks", allowedOrigins: ["http://localhost:8787"] });
    expect(cfg.queues.find((q) => q.name === "callbacks")?.media).toEqual(["callback"]);
    expect(cfg.agents.filter((a) => (a.capacity.callback ?? 0) > 0 && (a.skills.callback ?? 0) >= 1).length).toBeGreaterThanOrEqual(2);
    expect(cfg.forms[0]).toMatchObject({ allowedOrigins: ["http://localhost:8787", "http://127.0.0.1:8787"], thankYouUrl: expect.any(String) });
  });
});
