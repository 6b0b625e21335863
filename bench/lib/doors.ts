// Parley's public doors as the hostile and crash campaigns use them: one tenant with every door open
// (a mailbox, a form, website chat, callbacks, a Twilio number, a generic-adapter number that also takes
// MM7), the credentials each door needs, Twilio's and the generic adapter's signatures, and an HTTP
// client that sends any bytes (or a lazily generated chunked stream) and takes any answer.
//
// CREDENTIALS live in the marked section below, one small function per concern (signing secrets,
// ingest/read keys, logins), so they can be adapted in one place when their configuration changes.
import { createHmac } from "node:crypto";
import http from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { TenantConfigInput } from "../../workers/config/schema.ts";
import type { Workdir } from "./dev.ts";

export const TENANT = "hostile";
export const MAILBOX = `support@${TENANT}.parley.test`;
export const CUSTOMER = "customer@example.com";
export const ORIGIN = "http://127.0.0.1:8999";
export const FORM = "contact";
/** The Twilio number (Twilio's sandbox number), its account, and the generic-adapter number (also MM7's). */
export const TWILIO_NUMBER = "+14155238886";
export const ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef";
export const GENERIC_NUMBER = "+13125550100";
export const MM7_USER = "relay";
export const PASSWORD = "bench-hostile-password-7f3a";
export const AGENTS = { agent: "ag1", supervisor: "sup", admin: "adm" } as const;

/** Every door open, rate limits out of the way (the campaigns measure parsing, not the per-IP limits). */
export function doorsTenant(): TenantConfigInput {
  const rate = { max: 10_000, perSeconds: 60 };
  return {
    tenant: { id: TENANT, name: "Hostile bench" },
    settings: { offerTimeoutSeconds: 600, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break"] },
    skills: [],
    agents: [
      { id: AGENTS.agent, login: AGENTS.agent, fullName: "Agent One", role: "agent", password: PASSWORD, skills: {}, capacity: { email: 5, chat: 5, sms: 5, webform: 5, generic: 5, callback: 1 } },
      { id: AGENTS.supervisor, login: AGENTS.supervisor, fullName: "Sup Visor", role: "supervisor", password: PASSWORD, skills: {}, capacity: {} },
      { id: AGENTS.admin, login: AGENTS.admin, fullName: "Ad Min", role: "admin", password: PASSWORD, skills: {}, capacity: {} },
    ],
    queues: [{ name: "inbox", media: ["email", "webform", "chat", "sms", "generic", "callback"], steps: [{ type: "route", targets: [{ skills: "*" }] }] }],
    workflows: [{ name: "main", queue: "inbox" }],
    mailboxes: [{ address: MAILBOX, name: "Hostile Support", workflow: "main" }],
    email: { transport: { kind: "outbox" }, autoReplyLimit: { max: 3, perSeconds: 3600 } },
    forms: [
      {
        name: FORM, workflow: "main", allowedOrigins: [ORIGIN], rateLimit: rate,
        fields: [
          { name: "name", label: "Name", type: "text", required: true },
          { name: "email", label: "Email", type: "email", required: true },
          { name: "message", label: "Message", type: "textarea", required: true },
        ],
      },
    ],
    callbacks: { workflow: "main", allowedOrigins: [ORIGIN], rateLimit: rate, maxDaysAhead: 14 },
    chat: { workflow: "main", allowedOrigins: [ORIGIN], rateLimit: { max: 10_000, perSeconds: 60 }, idle: { alertSeconds: 3600, closeSeconds: 3600 } } as TenantConfigInput["chat"],
    numbers: [
      { number: TWILIO_NUMBER, provider: "twilio", mode: "paging", workflow: "main", accountSid: ACCOUNT_SID, secret: TWILIO_SECRET_NAME },
      { number: GENERIC_NUMBER, provider: "generic", mode: "paging", workflow: "main", secret: GENERIC_SECRET_NAME },
    ],
  } as TenantConfigInput;
}

// ============================================================================================
// CREDENTIALS: adapt here after the hardening lands (per-tenant signing secrets set through the
// admin API, split ingest and read keys, login throttling). Nothing else in the campaigns knows how.
// ============================================================================================

/** The tenant's own secrets its numbers name (issue 12: never a Worker variable). */
const TWILIO_SECRET_NAME = "twilio";
const GENERIC_SECRET_NAME = "generic";
/** 32 hex characters, as Twilio's auth tokens are; only for the campaigns' wrangler dev. */
export const TWILIO_AUTH_TOKEN = "5e1f0c3a9b7d2468ace13579bdf0abcd";
export const GENERIC_SECRET = "bench-generic-secret-0b3c1e5a7d9f";

/** The signing secrets, sealed into D1 with the tenant (`loadBigTenant`'s `secrets`). */
export function signingSecrets(): Record<string, string> {
  return { [TWILIO_SECRET_NAME]: TWILIO_AUTH_TOKEN, [GENERIC_SECRET_NAME]: GENERIC_SECRET };
}

/** The tenant's keys: `ingest` posts (email, interactions), `read` reads back what was stored
 *  (`loadBigTenant` stores the read key as `{ingest}-read`). */
export function tenantKeys(): { ingest: string; read: string } {
  const key = "bench-hostile-ingest-key-not-secret";
  return { ingest: key, read: `${key}-read` };
}

/** A bearer token for one of the tenant's logins. */
export async function login(base: string, who: keyof typeof AGENTS): Promise<string> {
  const a = await send(`${base}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ tenant: TENANT, login: AGENTS[who], password: PASSWORD }), timeoutMs: 60_000 });
  if (a.status !== 200) throw new Error(`login ${who}: ${a.status} ${a.body.slice(0, 200)}`);
  return (JSON.parse(a.body) as { token: string }).token;
}

// ============================================================================================

/** Logs the agent into routing, ready: website chat is offered only while someone is. */
export async function agentReady(base: string, token: string): Promise<void> {
  const a = await send(`${base}/api/v1/me/login`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ ready: true }), timeoutMs: 60_000 });
  if (a.status !== 200) throw new Error(`POST /api/v1/me/login: ${a.status} ${a.body.slice(0, 200)}`);
}

/** Parley's PUBLIC_URL origin (wrangler.toml): Twilio signs the URL it was given, whatever port is used. */
export function publicOrigin(w: Workdir): string {
  const m = /^PUBLIC_URL\s*=\s*"([^"]+)"/m.exec(readFileSync(join(w.src, "wrangler.toml"), "utf8"));
  if (!m) throw new Error("wrangler.toml has no PUBLIC_URL");
  return new URL(m[1]!).origin;
}

/** Twilio's signature: base64 HMAC-SHA1 over the URL and each field name and value, sorted by name. */
export function twilioSign(url: string, params: [string, string][], token = TWILIO_AUTH_TOKEN): string {
  const data = url + [...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => k + v).join("");
  return createHmac("sha1", token).update(data, "utf8").digest("base64");
}

/** A Twilio inbound webhook (SMS, or MMS with media URLs) with its signature. */
export function twilioWebhook(o: { sid: string; from: string; body: string; media?: { url: string; type: string }[]; extra?: [string, string][] }, signedUrl: string): { form: string; signature: string } {
  const media = o.media ?? [];
  const params: [string, string][] = [
    ["MessageSid", o.sid], ["SmsSid", o.sid], ["SmsMessageSid", o.sid], ["AccountSid", ACCOUNT_SID], ["From", o.from], ["To", TWILIO_NUMBER], ["Body", o.body],
    ["NumMedia", String(media.length)], ["NumSegments", "1"], ["SmsStatus", "received"], ["ApiVersion", "2010-04-01"],
    ...media.flatMap((m, i): [string, string][] => [[`MediaUrl${i}`, m.url], [`MediaContentType${i}`, m.type]]),
    ...(o.extra ?? []),
  ];
  return { form: new URLSearchParams(params).toString(), signature: twilioSign(signedUrl, params) };
}

/** The generic adapter's headers: sha256=HMAC-SHA256 hex over "{timestamp}.{body}". */
export function genericHeaders(body: Buffer, secret = GENERIC_SECRET): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000));
  const mac = createHmac("sha256", secret).update(`${ts}.`).update(body).digest("hex");
  return { "content-type": "application/json", "x-parley-timestamp": ts, "x-parley-signature": `sha256=${mac}` };
}

export const mm7Auth = (password = GENERIC_SECRET) => `Basic ${Buffer.from(`${MM7_USER}:${password}`).toString("base64")}`;
export const MM7_TYPE = 'multipart/related; boundary="outer"; type="text/xml"; start="<env>"';
const REL6 = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4";

/** An MM7 DeliverReq to the generic number: the SOAP envelope (with `soapInner` spliced into the
 *  DeliverReq, for hostile XML) and one text part. */
export function mm7DeliverReq(o: { tx: string; from?: string; text?: string; soapInner?: string }): Buffer {
  const head = `--outer\r\nContent-Type: text/xml; charset=utf-8\r\nContent-ID: <env>\r\n\r\n<?xml version="1.0" encoding="UTF-8"?>\r\n<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><mm7:TransactionID xmlns:mm7="${REL6}" env:mustUnderstand="1">${o.tx}</mm7:TransactionID></env:Header><env:Body><DeliverReq xmlns="${REL6}"><MM7Version>6.8.0</MM7Version><Sender><Number>${o.from ?? "+14155550123"}</Number></Sender><Recipients><To><Number>${GENERIC_NUMBER}</Number></To></Recipients><Subject>Bench</Subject>`;
  const tail = `<Content href="cid:content"/></DeliverReq></env:Body></env:Envelope>\r\n--outer\r\nContent-Type: text/plain; charset=utf-8\r\nContent-ID: <content>\r\n\r\n${o.text ?? "hello"}\r\n--outer--\r\n`;
  return Buffer.concat([Buffer.from(head), Buffer.from(o.soapInner ?? ""), Buffer.from(tail)]);
}

/** A plain mail to the mailbox with the given Message-ID (no angle brackets). */
export function plainMail(o: { messageId: string; subject?: string; text?: string; from?: string }): Buffer {
  return Buffer.from(
    [`From: Customer <${o.from ?? CUSTOMER}>`, `To: ${MAILBOX}`, `Subject: ${o.subject ?? "Hello"}`, `Message-ID: <${o.messageId}>`, `Date: ${new Date().toUTCString()}`, "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", o.text ?? "Hello, a question about my order.", ""].join("\r\n"),
  );
}

/** A visitor of its own: 10.x.y.z from an index (public doors rate-limit per IP). */
export const visitorIp = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

// ---- an HTTP client for any bytes and any answer ----

export interface Answer {
  status: number;
  /** The answer (its first `maxBodyBytes` or so), as text. */
  body: string;
  ms: number;
  /** A network error or time-out (status 0). */
  error?: string;
  /** Bytes sent (for a stream: as far as it got). */
  sent: number;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Bytes, text, or a lazily generated stream sent chunked (no Content-Length). */
  body?: Buffer | string | (() => Iterable<Buffer>);
  timeoutMs?: number;
  /** How much of the answer to keep (default 64 KiB). */
  maxBodyBytes?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One request; never throws (a failure is status 0 with `error`). Only 127.0.0.1 is ever asked. */
export function send(url: string, o: SendOptions = {}): Promise<Answer> {
  const u = new URL(url);
  if (u.hostname !== "127.0.0.1") return Promise.resolve({ status: 0, body: "", ms: 0, error: `refused to send to ${u.hostname}: 127.0.0.1 only`, sent: 0 });
  const { method = "GET", body, timeoutMs = 30_000, maxBodyBytes = 65_536 } = o;
  const headers = { ...(o.headers ?? {}) };
  const fixed = typeof body === "string" ? Buffer.from(body) : Buffer.isBuffer(body) ? body : undefined;
  if (fixed) headers["content-length"] = String(fixed.byteLength);
  const t0 = performance.now();
  return new Promise((resolve) => {
    let sent = fixed?.byteLength ?? 0;
    let done = false;
    let stream: Readable | undefined;
    const finish = (a: Omit<Answer, "ms" | "sent">) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream?.destroy();
      resolve({ ...a, ms: performance.now() - t0, sent });
    };
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent: typeof body === "function" ? false : agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < maxBodyBytes) chunks.push(c);
        size += c.length;
      });
      res.on("error", (e) => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), error: e.message }));
      res.on("end", () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      // A refusal while a stream is still going: stop generating.
      if (stream) {
        stream.unpipe(req);
        stream.destroy();
      }
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    // A server may drop an oversized streamed upload instead of answering it: that is a refusal, told apart.
    req.on("error", (e) => finish({ status: 0, body: "", error: stream && /ECONNRESET|EPIPE/.test(e.message) ? `reset during upload (${e.message})` : e.message }));
    if (typeof body === "function") {
      const it = body()[Symbol.iterator]();
      stream = new Readable({
        read() {
          const n = it.next();
          if (n.done) this.push(null);
          else {
            sent += n.value.byteLength;
            this.push(n.value);
          }
        },
      });
      stream.on("error", () => undefined);
      stream.pipe(req);
    } else req.end(fixed);
  });
}
