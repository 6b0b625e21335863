// The hostile campaign's corpus: worst-case inputs for each public door, GENERATED when sent (nothing
// big is stored in the repository). Each input knows how to send itself (one request, a burst, a
// socket's frames) and, when the server acknowledges it, what must then be stored (an email's
// Message-ID, an interaction's external id, an SMS's provider id, chat messages by clientId).
//
// Sizes follow the issue's known attacks; `size` (0 < size ≤ 1) scales counts and lengths down for a
// short run. Every input is at most 25 MiB; wrangler dev's local email() caps mail at 1 MiB.
import { AGENTS, CUSTOMER, PASSWORD, FORM, GENERIC_NUMBER, MAILBOX, MM7_TYPE, ORIGIN, TENANT, genericHeaders, mm7Auth, mm7DeliverReq, plainMail, send, twilioWebhook, visitorIp, type Answer, type SendOptions } from "../lib/doors.ts";
import { createHash } from "node:crypto";
import { openSocket } from "../lib/ws.ts";

export const MAX_INPUT_BYTES = 25 * 1024 * 1024;
/** wrangler dev's local /cdn-cgi/handler/email refuses bodies over 1 MiB. */
export const LOCAL_EMAIL_CAP = 1024 * 1024;

/** What an acknowledged input must have left behind. */
export type Check =
  /** `sha256`: the raw bytes' digest: a mail whose Message-ID could not be read is stored under it. */
  | { kind: "email"; messageId: string; sha256: string }
  | { kind: "external"; externalId: string }
  | { kind: "sms"; providerId: string }
  | { kind: "chat_msgs"; chatId: string; token: string; clientIds: string[] };

export interface Ctx {
  base: string;
  /** The origin Twilio signs URLs with (Parley's PUBLIC_URL). */
  signedOrigin: string;
  /** Unique per run: ids, Message-IDs and sids carry it. */
  run: string;
  size: number;
  timeoutMs: number;
  keys: { ingest: string; read: string };
  tokens: { agent: string; supervisor: string; admin: string };
  /** JSON-bodied routes from the OpenAPI document. */
  jsonRoutes: { method: string; path: string; access: string }[];
}

export interface Outcome {
  requests: number;
  statuses: Record<string, number>;
  /** Slowest single answer, ms. */
  maxMs: number;
  bytes: number;
  checks: Check[];
  /** Acknowledged (2xx) without anything to check (e.g. a JSON route that took a hostile body). */
  unverifiable: number;
  note?: string;
}

export interface Input {
  door: string;
  name: string;
  run(ctx: Ctx): Promise<Outcome>;
}

// ---- helpers ----

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const n = (ctx: Ctx, full: number, min = 1) => Math.max(min, Math.round(full * ctx.size));
/** A 5xx that wrangler dev's own layers made, not the Worker: its ProxyWorker when the Worker refused a
 *  chunked upload early and stopped reading ("Network connection lost"), or miniflare's local email door
 *  failing to hand a message of 20,000 headers to email() ("header count exceeds maximum"). The Worker
 *  never answers a 5xx without its JSON error body. Counted apart, as `dev_server_5xx`. */
export const DEV_SERVER_5XX = "dev server 5xx";
const devServer5xx = (a: Answer) => a.status >= 500 && !/^\s*\{"error"/.test(a.body) && /Network connection lost|header count exceeds maximum/.test(a.body);
const statusKey = (a: Answer) =>
  devServer5xx(a) ? DEV_SERVER_5XX : a.status ? String(a.status) : a.error?.startsWith("reset during upload") ? "reset during upload" : `no answer (${(a.error ?? "").slice(0, 60)})`;
const ok2xx = (a: Answer) => a.status >= 200 && a.status < 300;

function outcome(answers: Answer[], checks: Check[] = [], unverifiable = 0, note?: string): Outcome {
  const statuses: Record<string, number> = {};
  for (const a of answers) statuses[statusKey(a)] = (statuses[statusKey(a)] ?? 0) + 1;
  return { requests: answers.length, statuses, maxMs: Math.max(0, ...answers.map((a) => a.ms)), bytes: answers.reduce((s, a) => s + a.sent, 0), checks, unverifiable, ...(note ? { note } : {}) };
}

/** One request; when acknowledged (2xx), `check` is what must be stored. */
async function one(ctx: Ctx, path: string, o: SendOptions, check?: Check): Promise<Outcome> {
  const a = await send(`${ctx.base}${path}`, { timeoutMs: ctx.timeoutMs, ...o });
  const notes = a.error ? a.error : !ok2xx(a) ? a.body.slice(0, 160) : undefined;
  return outcome([a], ok2xx(a) && check ? [check] : [], ok2xx(a) && !check ? 1 : 0, notes);
}

function merge(parts: Outcome[], note?: string): Outcome {
  const statuses: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    requests: parts.reduce((s, p) => s + p.requests, 0), statuses, maxMs: Math.max(0, ...parts.map((p) => p.maxMs)), bytes: parts.reduce((s, p) => s + p.bytes, 0),
    checks: parts.flatMap((p) => p.checks), unverifiable: parts.reduce((s, p) => s + p.unverifiable, 0), note: note ?? parts.map((p) => p.note).filter(Boolean)[0],
  };
}

/** Bytes that are not UTF-8: lone continuation bytes, an overlong NUL, a truncated 4-byte sequence, a surrogate. */
const BAD_UTF8 = Buffer.from([0x80, 0xbf, 0xc0, 0x80, 0xf0, 0x9f, 0x98, 0xed, 0xa0, 0x80, 0xff, 0xfe]);
const withBad = (before: string, after: string) => Buffer.concat([Buffer.from(before), BAD_UTF8, Buffer.from(after)]);

/** `[` × depth then `]` × depth: the deepest JSON a 1 MiB body can carry is ~half a million levels. */
const deepJson = (depth: number) => Buffer.from("[".repeat(depth) + "]".repeat(depth));
/** { "<key>": "aaaa…" } of `bytes` in all. */
const hugeString = (key: string, bytes: number, extra = "") => Buffer.from(`{${extra}"${key}":"${"a".repeat(Math.max(0, bytes - key.length - extra.length - 6))}"}`);
/** A chunked body of `total` bytes made lazily from one 64 KiB block (it stops when the server answers). */
function* chunked(total: number, prefix = '{"password":"'): Iterable<Buffer> {
  const block = Buffer.alloc(64 * 1024, "a");
  yield Buffer.from(prefix);
  for (let sent = prefix.length; sent < total; sent += block.length) yield block;
}

// ---- mail ----

const mid = (ctx: Ctx, tag: string) => `${tag}.${ctx.run}@hostile.bench`;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const mailCheck = (messageId: string, raw: Buffer): Check => ({ kind: "email", messageId, sha256: sha256(raw) });

function mailWith(ctx: Ctx, tag: string, headers: string[], body: Buffer | string, o: { to?: string } = {}): { raw: Buffer; id: string } {
  const id = mid(ctx, tag);
  const head = [`From: Customer <${CUSTOMER}>`, `To: ${o.to ?? MAILBOX}`, `Subject: hostile ${tag}`, `Message-ID: <${id}>`, `Date: ${new Date().toUTCString()}`, "MIME-Version: 1.0", ...headers].join("\r\n");
  return { raw: Buffer.concat([Buffer.from(`${head}\r\n\r\n`), typeof body === "string" ? Buffer.from(body) : body]), id };
}

interface MailCase {
  tag: string;
  /** Only through /email/inbound (over email()'s local 1 MiB). */
  big?: boolean;
  /** Post without ?to=, so the recipient comes from the headers. */
  fromHeaders?: boolean;
  make(ctx: Ctx, tag: string): { raw: Buffer; id: string };
}

const MAILS: MailCase[] = [
  { tag: "style-60k", make: (c, t) => mailWith(c, t, ["Content-Type: text/html; charset=utf-8"], "<style a>".repeat(n(c, 60_000))) },
  { tag: "div-20k", make: (c, t) => mailWith(c, t, ["Content-Type: text/html; charset=utf-8"], "<div>".repeat(n(c, 20_000))) },
  { tag: "script-open-100k", make: (c, t) => mailWith(c, t, ["Content-Type: text/html; charset=utf-8"], "<script>".repeat(n(c, 100_000))) },
  {
    tag: "attachments-10k",
    make: (c, t) => mailWith(c, t, ['Content-Type: multipart/mixed; boundary="b"'], `--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n${"--b\r\nContent-Disposition: attachment; filename=a\r\n\r\nx\r\n".repeat(n(c, 10_000))}--b--\r\n`),
  },
  {
    tag: "to-64k-list",
    fromHeaders: true,
    make: (c, t) => mailWith(c, t, [], "hi", { to: `${Array.from({ length: n(c, 2_600) }, (_, i) => `"x${i}" <x${i}@example.com>`).join(", ")}, ${MAILBOX}` }),
  },
  // No '@' in a 60 KB run: a regex that scans for "local@domain" from every start is quadratic here.
  { tag: "to-60k-no-at", fromHeaders: true, make: (c, t) => mailWith(c, t, [`Cc: ${MAILBOX}`], "hi", { to: "a".repeat(n(c, 60_000)) }) },
  {
    tag: "mime-depth-5k",
    make: (c, t) => {
      const d = n(c, 5_000);
      let open = "";
      let close = "";
      for (let i = 0; i < d; i++) {
        open += `--b${i}\r\nContent-Type: multipart/mixed; boundary="b${i + 1}"\r\n\r\n`;
        close = `\r\n--b${i}--\r\n${close}`;
      }
      return mailWith(c, t, ['Content-Type: multipart/mixed; boundary="b0"'], `${open}--b${d}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b${d}--${close}`);
    },
  },
  { tag: "headers-20k", make: (c, t) => mailWith(c, t, [...Array.from({ length: n(c, 20_000) }, (_, i) => `X-H${i}: v`), "Content-Type: text/plain"], "many headers") },
  { tag: "subject-900k", make: (c, t) => mailWith(c, t, [`X-Long: ${"s".repeat(n(c, 900_000))}`, "Content-Type: text/plain"], "one long header") },
  { tag: "bad-utf8", make: (c, t) => mailWith(c, t, ["Content-Type: text/plain; charset=utf-8", `X-Bad: ${BAD_UTF8.toString("latin1")}`], withBad("before ", " after")) },
  { tag: "encoded-words-50k", make: (c, t) => mailWith(c, t, [`X-Enc: ${"=?utf-8?B?w6k=?= ".repeat(n(c, 50_000))}`, "Content-Type: text/plain"], "encoded words") },
  { tag: "text-24m", big: true, make: (c, t) => mailWith(c, t, ["Content-Type: text/plain; charset=utf-8"], Buffer.alloc(n(c, 24 * 1024 * 1024), "word ")) },
  { tag: "html-24m-nested", big: true, make: (c, t) => mailWith(c, t, ["Content-Type: text/html; charset=utf-8"], "<b><i>".repeat(n(c, 4 * 1024 * 1024))) },
  {
    tag: "attachment-b64-18m",
    big: true,
    make: (c, t) => {
      const b64 = Buffer.alloc(n(c, 13 * 1024 * 1024), 7).toString("base64").replace(/.{76}/g, "$&\r\n");
      return mailWith(c, t, ['Content-Type: multipart/mixed; boundary="b"'], `--b\r\nContent-Type: text/plain\r\n\r\nbig file\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=big.bin\r\n\r\n${b64}\r\n--b--\r\n`);
    },
  },
];

const emailHandler = (ctx: Ctx, raw: Buffer) =>
  send(`${ctx.base}/cdn-cgi/handler/email?from=${encodeURIComponent(CUSTOMER)}&to=${encodeURIComponent(MAILBOX)}`, { method: "POST", headers: { "content-type": "message/rfc822" }, body: raw, timeoutMs: ctx.timeoutMs });

const inbound = (ctx: Ctx, raw: Buffer, withTo = true) =>
  send(`${ctx.base}/api/v1/email/inbound${withTo ? `?to=${encodeURIComponent(MAILBOX)}` : ""}`, { method: "POST", headers: { authorization: `Bearer ${ctx.keys.ingest}`, "content-type": "message/rfc822" }, body: raw, timeoutMs: ctx.timeoutMs });

function mailInputs(): Input[] {
  const out: Input[] = [];
  for (const m of MAILS) {
    if (!m.big)
      out.push({
        door: "email()", name: m.tag,
        run: async (ctx) => {
          const { raw, id } = m.make(ctx, `e-${m.tag}`);
          if (raw.byteLength > LOCAL_EMAIL_CAP) return { ...outcome([]), note: `skipped: ${raw.byteLength} bytes is over the local email() cap` };
          const a = await emailHandler(ctx, raw);
          return outcome([a], ok2xx(a) ? [mailCheck(id, raw)] : [], 0, ok2xx(a) ? undefined : (a.error ?? a.body.slice(0, 160)));
        },
      });
    out.push({
      door: "email/inbound", name: m.tag,
      run: async (ctx) => {
        const { raw, id } = m.make(ctx, `i-${m.tag}`);
        if (raw.byteLength > MAX_INPUT_BYTES) return { ...outcome([]), note: "skipped: over 25 MiB" };
        const a = await inbound(ctx, raw, !m.fromHeaders);
        return outcome([a], ok2xx(a) ? [mailCheck(id, raw)] : [], 0, ok2xx(a) ? undefined : (a.error ?? a.body.slice(0, 160)));
      },
    });
  }
  // The same message twice through each door: both acknowledged, stored once.
  out.push({
    door: "email()", name: "duplicate x2",
    run: async (ctx) => {
      const raw = plainMail({ messageId: mid(ctx, "e-dup") });
      const as = [await emailHandler(ctx, raw), await emailHandler(ctx, raw)];
      return outcome(as, as.some(ok2xx) ? [mailCheck(mid(ctx, "e-dup"), raw)] : []);
    },
  });
  out.push({
    door: "email/inbound", name: "duplicate x2",
    run: async (ctx) => {
      const raw = plainMail({ messageId: mid(ctx, "i-dup") });
      const as = [await inbound(ctx, raw), await inbound(ctx, raw)];
      return outcome(as, as.some(ok2xx) ? [mailCheck(mid(ctx, "i-dup"), raw)] : []);
    },
  });
  out.push({
    door: "email/inbound", name: "chunked 40 MiB, no Content-Length",
    run: (ctx) => one(ctx, `/api/v1/email/inbound?to=${encodeURIComponent(MAILBOX)}`, { method: "POST", headers: { authorization: `Bearer ${ctx.keys.ingest}`, "content-type": "message/rfc822" }, body: () => chunked(n(ctx, 40 * 1024 * 1024), "Subject: x\r\n\r\n") }),
  });
  return out;
}

// ---- forms, callbacks, chat start ----

const formPath = `/api/v1/forms/${TENANT}.${FORM}`;
const formHeaders = (ctx: Ctx, type: string, key: string, i = 0): Record<string, string> => ({ origin: ORIGIN, "content-type": type, "idempotency-key": `${ctx.run}-${key}`, "cf-connecting-ip": visitorIp(1000 + i) });
const formCheck = (ctx: Ctx, key: string): Check => ({ kind: "external", externalId: `form:${FORM}:${ctx.run}-${key}` });

function formInputs(): Input[] {
  const fields = (message: string) => `name=Hostile&email=${encodeURIComponent(CUSTOMER)}&message=${message}`;
  const mp = (parts: string, boundary = "B") => ({ type: `multipart/form-data; boundary=${boundary}`, body: Buffer.from(parts) });
  const field = (name: string, value: string, boundary = "B") => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const cases: { name: string; make(ctx: Ctx): { type: string; body: Buffer } }[] = [
    { name: "urlencoded message 24 MiB", make: (c) => ({ type: "application/x-www-form-urlencoded", body: Buffer.from(fields("a".repeat(n(c, 24 * 1024 * 1024)))) }) },
    { name: "urlencoded 100k fields", make: (c) => ({ type: "application/x-www-form-urlencoded", body: Buffer.from(`${fields("hi")}&${"a=b&".repeat(n(c, 100_000))}`) }) },
    { name: "urlencoded %-escapes 8 MiB", make: (c) => ({ type: "application/x-www-form-urlencoded", body: Buffer.from(fields("%41".repeat(n(c, 2_800_000)))) }) },
    { name: "urlencoded bad UTF-8 (%FF and raw)", make: () => ({ type: "application/x-www-form-urlencoded", body: Buffer.concat([Buffer.from(fields("%FF%FE")), Buffer.from("&x="), BAD_UTF8]) }) },
    { name: "multipart 10k tiny files", make: (c) => mp(`${field("name", "H")}${field("email", CUSTOMER)}${field("message", "files")}${Array.from({ length: n(c, 10_000) }, (_, i) => `--B\r\nContent-Disposition: form-data; name="f${i}"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nx\r\n`).join("")}--B--\r\n`) },
    { name: "multipart boundary never closed 20 MiB", make: (c) => mp(`${field("name", "H")}--B\r\nContent-Disposition: form-data; name="message"\r\n\r\n${"-".repeat(n(c, 20 * 1024 * 1024))}`) },
    { name: "multipart near-boundaries 8 MiB", make: (c) => mp(`${field("name", "H")}${field("email", CUSTOMER)}--B\r\nContent-Disposition: form-data; name="message"\r\n\r\n${"\r\n--".repeat(n(c, 2_000_000))}\r\n--B--\r\n`) },
    { name: "multipart 70-char boundary, 50k headers", make: (c) => { const b = "z".repeat(70); return mp(`--${b}\r\n${"X-H: v\r\n".repeat(n(c, 50_000))}Content-Disposition: form-data; name="message"\r\n\r\nhi\r\n--${b}--\r\n`, b); } },
    { name: "json deep nesting 1 MiB", make: (c) => ({ type: "application/json", body: deepJson(n(c, 500_000)) }) },
    { name: "json 50k keys", make: (c) => ({ type: "application/json", body: Buffer.from(`{"name":"H","email":"${CUSTOMER}","message":"hi",${Array.from({ length: n(c, 50_000) }, (_, i) => `"k${i}":"v"`).join(",")}}`) }) },
    { name: "json bad UTF-8", make: () => ({ type: "application/json", body: withBad(`{"name":"H","email":"${CUSTOMER}","message":"`, '"}') }) },
  ];
  const out: Input[] = cases.map((k, i) => ({
    door: "forms", name: k.name,
    run: (ctx) => {
      const { type, body } = k.make(ctx);
      return one(ctx, formPath, { method: "POST", headers: formHeaders(ctx, type, `f${i}`, i), body }, formCheck(ctx, `f${i}`));
    },
  }));
  out.push({
    door: "forms", name: "duplicate x2 (Idempotency-Key)",
    run: async (ctx) => {
      const o = { method: "POST", headers: formHeaders(ctx, "application/x-www-form-urlencoded", "fdup"), body: Buffer.from(fields("twice")) };
      return merge([await one(ctx, formPath, o, formCheck(ctx, "fdup")), await one(ctx, formPath, o, formCheck(ctx, "fdup"))]);
    },
  });
  out.push({
    door: "forms", name: "chunked 40 MiB, no Content-Length",
    run: (ctx) => one(ctx, formPath, { method: "POST", headers: formHeaders(ctx, "application/x-www-form-urlencoded", "fchunk"), body: () => chunked(n(ctx, 40 * 1024 * 1024), "message=") }, formCheck(ctx, "fchunk")),
  });
  return out;
}

function callbackInputs(): Input[] {
  const h = (i: number) => ({ origin: ORIGIN, "content-type": "application/json", "cf-connecting-ip": visitorIp(2000 + i) });
  const good = (key: string) => ({ tenant: TENANT, phone: "+14155550199", name: "Hostile", windowStart: new Date(Date.now() + 3_600_000).toISOString(), windowEnd: new Date(Date.now() + 7_200_000).toISOString(), idempotencyKey: key });
  const cases: { name: string; make(ctx: Ctx): Buffer }[] = [
    { name: "json deep nesting 1 MiB", make: (c) => deepJson(n(c, 500_000)) },
    { name: "json huge string 1 MiB", make: (c) => hugeString("topic", n(c, 1024 * 1024 - 100), `"tenant":"${TENANT}",`) },
    { name: "phone of 1 MiB digits", make: (c) => Buffer.from(JSON.stringify({ ...good(`${c.run}-cbp`), phone: `+${"1".repeat(n(c, 1_000_000))}` })) },
    { name: "json bad UTF-8", make: (c) => withBad(`{"tenant":"${TENANT}","phone":"+14155550199","windowStart":"${good("").windowStart}","windowEnd":"${good("").windowEnd}","name":"`, `","idempotencyKey":"${c.run}-cbbad"}`) },
  ];
  const out: Input[] = cases.map((k, i) => ({ door: "callbacks", name: k.name, run: (ctx) => one(ctx, "/api/v1/callbacks", { method: "POST", headers: h(i), body: k.make(ctx) }) }));
  out.push({
    door: "callbacks", name: "duplicate x2 (idempotencyKey)",
    run: async (ctx) => {
      const body = JSON.stringify(good(`${ctx.run}-cbdup`));
      const check: Check = { kind: "external", externalId: `callback:${ctx.run}-cbdup` };
      return merge([await one(ctx, "/api/v1/callbacks", { method: "POST", headers: h(10), body }, check), await one(ctx, "/api/v1/callbacks", { method: "POST", headers: h(10), body }, check)]);
    },
  });
  out.push({ door: "callbacks", name: "chunked 40 MiB, no Content-Length", run: (ctx) => one(ctx, "/api/v1/callbacks", { method: "POST", headers: h(11), body: () => chunked(n(ctx, 40 * 1024 * 1024), '{"topic":"') }) });
  return out;
}

const chatStartPath = `/api/v1/chat/${TENANT}/sessions`;
const chatHeaders = (i: number) => ({ origin: ORIGIN, "content-type": "application/json", "cf-connecting-ip": visitorIp(3000 + i) });

function chatStartInputs(): Input[] {
  const cases: { name: string; make(ctx: Ctx): Buffer; clientId?: (ctx: Ctx) => string }[] = [
    { name: "json deep nesting 1 MiB", make: (c) => deepJson(n(c, 500_000)) },
    { name: "fields: 40k entries", make: (c) => Buffer.from(JSON.stringify({ clientId: `${c.run}-cs-fields`, name: "H", fields: Object.fromEntries(Array.from({ length: n(c, 40_000) }, (_, i) => [`k${i}`, "v"])) })), clientId: (c) => `${c.run}-cs-fields` },
    { name: "json huge string 1 MiB", make: (c) => hugeString("name", n(c, 1024 * 1024 - 100), `"clientId":"${c.run}-cs-huge",`) },
    { name: "json bad UTF-8", make: (c) => withBad(`{"clientId":"${c.run}-cs-bad","name":"`, '"}') },
  ];
  const out: Input[] = cases.map((k, i) => ({
    door: "chat start", name: k.name,
    run: (ctx) => one(ctx, chatStartPath, { method: "POST", headers: chatHeaders(i), body: k.make(ctx) }, k.clientId ? { kind: "external", externalId: `chat:${k.clientId(ctx)}` } : undefined),
  }));
  out.push({
    door: "chat start", name: "duplicate x2 (clientId)",
    run: async (ctx) => {
      const body = JSON.stringify({ clientId: `${ctx.run}-cs-dup`, name: "Twice" });
      const check: Check = { kind: "external", externalId: `chat:${ctx.run}-cs-dup` };
      return merge([await one(ctx, chatStartPath, { method: "POST", headers: chatHeaders(20), body }, check), await one(ctx, chatStartPath, { method: "POST", headers: chatHeaders(20), body }, check)]);
    },
  });
  out.push({ door: "chat start", name: "chunked 40 MiB, no Content-Length", run: (ctx) => one(ctx, chatStartPath, { method: "POST", headers: chatHeaders(21), body: () => chunked(n(ctx, 40 * 1024 * 1024), '{"name":"') }) });
  return out;
}

// ---- chat socket frames ----

/** A fresh chat and its customer socket; `frames` are sent as fast as the socket takes them. */
async function socketRun(ctx: Ctx, tag: string, frames: (Buffer | string)[], acked: string[]): Promise<Outcome> {
  const clientId = `${ctx.run}-ws-${tag}`;
  const start = await send(`${ctx.base}${chatStartPath}`, { method: "POST", headers: chatHeaders(100 + tag.length), body: JSON.stringify({ clientId, name: "Socket" }), timeoutMs: ctx.timeoutMs });
  if (!ok2xx(start)) return outcome([start], [], 0, `chat start refused: ${start.status} ${start.body.slice(0, 120)}`);
  const s = JSON.parse(start.body) as { chatId: string; token: string; ws: string };
  const t0 = performance.now();
  let sock;
  try {
    sock = await openSocket(`${ctx.base.replace(/^http/, "ws")}${s.ws}?token=${encodeURIComponent(s.token)}`, { origin: ORIGIN });
  } catch (e) {
    return outcome([start], [], 0, `socket refused: ${(e as Error).message.slice(0, 120)}`);
  }
  await sock.waitFor((f) => f.type === "hello", 10_000);
  let bytes = 0;
  const ackedSet = new Set<string>();
  const lastAcked = acked.length ? acked[acked.length - 1]! : undefined;
  const allAcked = lastAcked ? sock.waitFor((f) => (f.type === "ack" && typeof f.clientId === "string" && ackedSet.add(f.clientId) && f.clientId === lastAcked) || f.type === "error" && f.clientId === lastAcked, ctx.timeoutMs) : Promise.resolve(true);
  for (const f of frames) {
    if (!sock.open) break;
    bytes += Buffer.byteLength(f);
    await sock.send(f);
  }
  // A ping last: its pong says every frame before it was handled.
  const pong = sock.waitFor((f) => f.type === "pong", ctx.timeoutMs);
  if (sock.open) await sock.send('{"type":"ping"}');
  await Promise.race([pong, sleepMs(ctx.timeoutMs)]);
  await allAcked;
  const ms = performance.now() - t0;
  const closed = sock.closed;
  sock.close();
  const got = Object.entries(sock.frames).map(([k, v]) => `${k} ${v}`).join(", ");
  const note = `${frames.length} frames sent (${Math.round(bytes / 1024)} KiB); received: ${got}${closed ? `; closed ${closed}` : ""}${sock.errors.length ? `; last error ${JSON.stringify(sock.errors.at(-1)).slice(0, 160)}` : ""}`;
  const checks: Check[] = [{ kind: "external", externalId: `chat:${clientId}` }];
  // Messages the server acknowledged (an ack frame each) must be in the chat.
  const ackIds = acked.filter((id) => ackedSet.has(id));
  if (ackIds.length) checks.push({ kind: "chat_msgs", chatId: s.chatId, token: s.token, clientIds: ackIds });
  return { requests: frames.length + 1, statuses: { [String(start.status)]: 1, frames: frames.length }, maxMs: ms, bytes: bytes + start.sent, checks, unverifiable: 0, note };
}

function socketInputs(): Input[] {
  const msg = (id: string, text = "hi") => JSON.stringify({ type: "msg", clientId: id, text });
  return [
    {
      door: "chat socket", name: "flood: 3,000 msg frames",
      run: (ctx) => {
        const ids = Array.from({ length: n(ctx, 3_000) }, (_, i) => `${ctx.run}-m${i}`);
        return socketRun(ctx, "flood", ids.map((id) => msg(id)), ids);
      },
    },
    { door: "chat socket", name: "flood: 20,000 typing frames", run: (ctx) => socketRun(ctx, "typing", Array.from({ length: n(ctx, 20_000) }, (_, i) => `{"type":"typing","on":${i % 2 === 0}}`), []) },
    { door: "chat socket", name: "frame of 16 MiB", run: (ctx) => socketRun(ctx, "big", [msg(`${ctx.run}-big`, "a".repeat(n(ctx, 16 * 1024 * 1024)))], []) },
    { door: "chat socket", name: "deep JSON frames (16 KiB each) x200", run: (ctx) => socketRun(ctx, "deep", Array.from({ length: n(ctx, 200) }, () => deepJson(8_000).toString()), []) },
    { door: "chat socket", name: "bad UTF-8 binary frames x200", run: (ctx) => socketRun(ctx, "bad", Array.from({ length: n(ctx, 200) }, () => withBad('{"type":"msg","clientId":"x","text":"', '"}')), []) },
    {
      door: "chat socket", name: "duplicate clientId x500",
      run: (ctx) => socketRun(ctx, "dup", Array.from({ length: n(ctx, 500) }, () => msg(`${ctx.run}-dupmsg`)), [`${ctx.run}-dupmsg`]),
    },
  ];
}

// ---- SMS: Twilio, generic, MM7 ----

const twilioPath = "/api/v1/sms/twilio";
const sid = (ctx: Ctx, i: number) => `SM${ctx.run.padEnd(8, "0").slice(0, 8)}${i.toString(16).padStart(24, "0")}`;

function twilio(ctx: Ctx, o: Parameters<typeof twilioWebhook>[0], signature?: string): SendOptions & { form: string } {
  const wh = twilioWebhook(o, `${ctx.signedOrigin}${twilioPath}`);
  return { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature ?? wh.signature }, body: wh.form, form: wh.form };
}

function smsInputs(): Input[] {
  const out: Input[] = [
    { door: "twilio sms", name: "unsigned 60 KiB of fields", run: (ctx) => one(ctx, twilioPath, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `To=%2B14155238886&From=%2B1&MessageSid=SMx&${"a=b&".repeat(n(ctx, 15_000))}` }) },
    { door: "twilio sms", name: "unsigned 25 MiB body", run: (ctx) => one(ctx, twilioPath, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: Buffer.alloc(n(ctx, 25 * 1024 * 1024), "a") }) },
    { door: "twilio sms", name: "unsigned chunked 40 MiB", run: (ctx) => one(ctx, twilioPath, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: () => chunked(n(ctx, 40 * 1024 * 1024), "Body=") }) },
    { door: "twilio sms", name: "forged signature", run: (ctx) => one(ctx, twilioPath, twilio(ctx, { sid: sid(ctx, 1), from: "+14155550111", body: "forged" }, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")) },
    { door: "twilio sms", name: "unsigned bad UTF-8", run: (ctx) => one(ctx, twilioPath, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: Buffer.concat([Buffer.from("To=%2B14155238886&From=%2B1&MessageSid=SMx&Body="), BAD_UTF8]) }) },
    { door: "twilio sms", name: "signed, 1,600-char body", run: (ctx) => one(ctx, twilioPath, twilio(ctx, { sid: sid(ctx, 2), from: "+14155550112", body: "é".repeat(1_600) }), { kind: "sms", providerId: sid(ctx, 2) }) },
    { door: "twilio sms", name: "signed, 3,000 extra fields (60 KiB)", run: (ctx) => one(ctx, twilioPath, twilio(ctx, { sid: sid(ctx, 3), from: "+14155550113", body: "many fields", extra: Array.from({ length: n(ctx, 3_000) }, (_, i): [string, string] => [`X${i}`, "y"]) }), { kind: "sms", providerId: sid(ctx, 3) }) },
    { door: "twilio sms", name: "signed, From of 40k chars", run: (ctx) => one(ctx, twilioPath, twilio(ctx, { sid: sid(ctx, 4), from: `+1${"9".repeat(n(ctx, 40_000))}`, body: "long from" }), { kind: "sms", providerId: sid(ctx, 4) }) },
    {
      door: "twilio sms", name: "signed duplicate x2",
      run: async (ctx) => {
        const o = twilio(ctx, { sid: sid(ctx, 5), from: "+14155550115", body: "twice" });
        return merge([await one(ctx, twilioPath, o, { kind: "sms", providerId: sid(ctx, 5) }), await one(ctx, twilioPath, o, { kind: "sms", providerId: sid(ctx, 5) })]);
      },
    },
    {
      door: "twilio mms", name: "signed, 10 media URLs (refused hosts)",
      run: (ctx) => one(ctx, twilioPath, twilio(ctx, { sid: sid(ctx, 6), from: "+14155550116", body: "mms", media: Array.from({ length: 10 }, (_, i) => ({ url: `http://127.0.0.1:1/m${i}`, type: "image/jpeg" })) }), { kind: "sms", providerId: sid(ctx, 6) }),
    },
    {
      door: "twilio mms", name: "signed, NumMedia=1e9 with one URL",
      run: (ctx) => one(ctx, twilioPath, twilio(ctx, { sid: sid(ctx, 7), from: "+14155550117", body: "mms", media: [{ url: "https://api.twilio.com/2010-04-01/Accounts/x/Messages/y/Media/z", type: "image/png" }], extra: [["NumMedia", "1000000000"]] }), { kind: "sms", providerId: sid(ctx, 7) }),
    },
    { door: "twilio status", name: "unsigned 60 KiB of fields", run: (ctx) => one(ctx, "/api/v1/sms/twilio/status", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `From=%2B14155238886&MessageSid=SMx&MessageStatus=sent&${"a=b&".repeat(n(ctx, 15_000))}` }) },
  ];
  const gen = "/api/v1/sms/generic";
  const signed = (body: Buffer): SendOptions => ({ method: "POST", headers: genericHeaders(body), body });
  const gid = (ctx: Ctx, tag: string) => `${ctx.run}-g-${tag}`;
  const gmsg = (ctx: Ctx, tag: string, extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ id: gid(ctx, tag), from: "+14155550120", to: GENERIC_NUMBER, text: "hello", ...extra }));
  out.push(
    { door: "generic sms", name: "unsigned deep JSON 60 KiB", run: (ctx) => one(ctx, gen, { method: "POST", headers: { "content-type": "application/json" }, body: deepJson(n(ctx, 30_000)) }) },
    { door: "generic sms", name: "unsigned 25 MiB body", run: (ctx) => one(ctx, gen, { method: "POST", headers: { "content-type": "application/json" }, body: hugeString("text", n(ctx, 25 * 1024 * 1024 - 10)) }) },
    { door: "generic sms", name: "signed deep JSON 60 KiB", run: (ctx) => one(ctx, gen, signed(deepJson(n(ctx, 30_000)))) },
    { door: "generic sms", name: "signed bad UTF-8", run: (ctx) => one(ctx, gen, signed(withBad(`{"id":"${gid(ctx, "bad")}","from":"+14155550121","to":"${GENERIC_NUMBER}","text":"`, '"}'))) },
    { door: "generic sms", name: "signed, from of 40 chars of junk", run: (ctx) => one(ctx, gen, signed(gmsg(ctx, "junkfrom", { from: "<script>x</script>'\"--;".padEnd(40, "x") })), { kind: "sms", providerId: gid(ctx, "junkfrom") }) },
    {
      door: "generic sms", name: "signed duplicate x2",
      run: async (ctx) => {
        const b = gmsg(ctx, "dup");
        return merge([await one(ctx, gen, signed(b), { kind: "sms", providerId: gid(ctx, "dup") }), await one(ctx, gen, signed(b), { kind: "sms", providerId: gid(ctx, "dup") })]);
      },
    },
  );

  const mm7 = "/api/v1/mms/mm7";
  const tx = (ctx: Ctx, tag: string) => `${ctx.run}-${tag}`;
  const mm7Check = (ctx: Ctx, tag: string): Check => ({ kind: "sms", providerId: `mm7:${GENERIC_NUMBER}:${tx(ctx, tag)}` });
  const xmlAttack = (ctx: Ctx, which: "a2k-b1m" | "a100k") => (which === "a2k-b1m" ? "<a>".repeat(n(ctx, 2_000)) + "</b>".repeat(n(ctx, 1_000_000)) : "<a>".repeat(n(ctx, 100_000)));
  for (const which of ["a2k-b1m", "a100k"] as const)
    for (const auth of [false, true])
      out.push({
        door: "mm7", name: `${which === "a2k-b1m" ? "'<a>' x2,000 + '</b>' x1,000,000" : "'<a>' x100,000"} (${auth ? "authenticated" : "unauthenticated"})`,
        run: (ctx) => one(ctx, mm7, { method: "POST", headers: { "content-type": MM7_TYPE, soapaction: '""', ...(auth ? { authorization: mm7Auth() } : {}) }, body: mm7DeliverReq({ tx: tx(ctx, `${which}-${auth}`), soapInner: xmlAttack(ctx, which) }) }, mm7Check(ctx, `${which}-${auth}`)),
      });
  out.push(
    { door: "mm7", name: "wrong password", run: (ctx) => one(ctx, mm7, { method: "POST", headers: { "content-type": MM7_TYPE, authorization: mm7Auth("wrong") }, body: mm7DeliverReq({ tx: tx(ctx, "wrongpw") }) }) },
    { door: "mm7", name: "authenticated, 9 MiB of MIME parts", run: (ctx) => one(ctx, mm7, { method: "POST", headers: { "content-type": MM7_TYPE, authorization: mm7Auth() }, body: mm7DeliverReq({ tx: tx(ctx, "parts"), text: `x\r\n${"--outer\r\nContent-Type: text/plain\r\n\r\np\r\n".repeat(n(ctx, 200_000))}` }) }, mm7Check(ctx, "parts")) },
    { door: "mm7", name: "authenticated, attributes 1 MiB", run: (ctx) => one(ctx, mm7, { method: "POST", headers: { "content-type": MM7_TYPE, authorization: mm7Auth() }, body: mm7DeliverReq({ tx: tx(ctx, "attrs"), soapInner: `<X ${Array.from({ length: n(ctx, 60_000) }, (_, i) => `a${i}="v"`).join(" ")}/>` }) }, mm7Check(ctx, "attrs")) },
    { door: "mm7", name: "unauthenticated chunked 40 MiB", run: (ctx) => one(ctx, mm7, { method: "POST", headers: { "content-type": MM7_TYPE }, body: () => chunked(n(ctx, 40 * 1024 * 1024), "--outer\r\n\r\n<a>") }) },
    {
      door: "mm7", name: "authenticated duplicate x2",
      run: async (ctx) => {
        const o: SendOptions = { method: "POST", headers: { "content-type": MM7_TYPE, authorization: mm7Auth() }, body: mm7DeliverReq({ tx: tx(ctx, "dup") }) };
        return merge([await one(ctx, mm7, o, mm7Check(ctx, "dup")), await one(ctx, mm7, o, mm7Check(ctx, "dup"))]);
      },
    },
  );
  return out;
}

// ---- login ----

function loginInputs(): Input[] {
  const path = "/api/v1/auth/login";
  const h = { "content-type": "application/json" };
  return [
    { door: "login", name: "chunked 300 MiB, no Content-Length", run: (ctx) => one(ctx, path, { method: "POST", headers: h, body: () => chunked(n(ctx, 300 * 1024 * 1024)) }) },
    { door: "login", name: "deep JSON 1 MiB", run: (ctx) => one(ctx, path, { method: "POST", headers: h, body: deepJson(n(ctx, 500_000)) }) },
    { door: "login", name: "password of 1 MiB", run: (ctx) => one(ctx, path, { method: "POST", headers: h, body: hugeString("password", n(ctx, 1024 * 1024 - 200), `"tenant":"${TENANT}","login":"${AGENTS.agent}",`) }) },
    { door: "login", name: "bad UTF-8", run: (ctx) => one(ctx, path, { method: "POST", headers: h, body: withBad(`{"tenant":"${TENANT}","login":"${AGENTS.agent}","password":"`, '"}') }) },
    {
      door: "login", name: "100 wrong passwords, then the right one",
      run: async (ctx) => {
        const answers: Answer[] = [];
        for (let i = 0; i < 100; i++) answers.push(await send(`${ctx.base}${path}`, { method: "POST", headers: { ...h, "cf-connecting-ip": "10.9.9.9" }, body: JSON.stringify({ tenant: TENANT, login: AGENTS.agent, password: `wrong-${i}` }), timeoutMs: ctx.timeoutMs }));
        const right = await send(`${ctx.base}${path}`, { method: "POST", headers: { ...h, "cf-connecting-ip": "10.9.9.9" }, body: JSON.stringify({ tenant: TENANT, login: AGENTS.agent, password: PASSWORD }), timeoutMs: ctx.timeoutMs });
        const wrongOk = answers.filter(ok2xx).length;
        // 401 and 429 (throttled) are both right answers to a wrong password.
        return { ...outcome([...answers, right]), note: `the right password then: ${right.status}${right.status === 200 ? " (not throttled)" : ""}; wrong ones let in: ${wrongOk}` };
      },
    },
  ];
}

// ---- every JSON body, from the OpenAPI document ----

function jsonRouteInputs(ctx0: { jsonRoutes: Ctx["jsonRoutes"] }): Input[] {
  const bodies: { name: string; make(ctx: Ctx): SendOptions["body"] }[] = [
    { name: "deep", make: (c) => deepJson(n(c, 500_000)) },
    { name: "huge string", make: (c) => hugeString("x", n(c, 1024 * 1024 - 100)) },
    { name: "bad UTF-8", make: () => withBad('{"x":"', '"}') },
    { name: "chunked 8 MiB", make: (c) => () => chunked(n(c, 8 * 1024 * 1024), '{"x":"') },
  ];
  return ctx0.jsonRoutes.flatMap((r) =>
    bodies.map((b): Input => ({
      door: "json bodies", name: `${r.method.toUpperCase()} ${r.path}: ${b.name}`,
      run: (ctx) => {
        const auth: Record<string, string> =
          r.access === "public" ? {} : { authorization: `Bearer ${r.access === "ingest" ? ctx.keys.ingest : r.access === "agent" || r.access === "ingest_or_agent" ? ctx.tokens.agent : ctx.tokens.admin}` };
        const path = r.path.replace(/\{[^}]+\}/g, "hostile-x");
        return one(ctx, path, { method: r.method.toUpperCase(), headers: { "content-type": "application/json", origin: ORIGIN, ...auth }, body: b.make(ctx) });
      },
    })),
  );
}

/** The whole corpus, in sending order: the doors taken in turn (one input of each, then the next of
 *  each), so that a run cut short by its time limit has still tried every door. */
export function corpus(ctx0: { jsonRoutes: Ctx["jsonRoutes"] }): Input[] {
  const all = [...mailInputs(), ...formInputs(), ...callbackInputs(), ...chatStartInputs(), ...socketInputs(), ...smsInputs(), ...loginInputs(), ...jsonRouteInputs(ctx0)];
  const byDoor = new Map<string, Input[]>();
  for (const i of all) byDoor.set(i.door, [...(byDoor.get(i.door) ?? []), i]);
  const out: Input[] = [];
  for (let k = 0; out.length < all.length; k++) for (const list of byDoor.values()) if (list[k]) out.push(list[k]!);
  return out;
}

