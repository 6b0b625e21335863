// The SMS bench's same-shape baseline: what taking one Twilio inbound webhook costs the platform, with
// no Parley logic. POST /api/v1/sms/twilio (urlencoded) → the X-Twilio-Signature checked: base64
// HMAC-SHA1 (WebCrypto, keyed with TWILIO_AUTH_TOKEN) over PUBLIC_URL's origin + the path followed by
// each field's name and value sorted by name, compared in constant time (403 if wrong) → one D1 batch
// of two INSERTs (the message, the interaction) → one RPC to the queue's Durable Object (named "sms",
// as the bench's one Parley queue) → the empty TwiML <Response> (text/xml), as Parley answers. No
// tenant or number lookup, no sealed secret, no contact, keyword or segment handling, no routing. The
// object keeps a count in memory (SQLite-backed like Parley's objects; storage unused). The D1 tables
// are created once per isolate (CREATE TABLE IF NOT EXISTS); the HMAC key is imported once per isolate.
//
// bench/ is type-checked with Node's types (scripts/tsconfig.json): the runtime APIs used here are
// declared below and in bench/lib/cloudflare-workers.d.ts instead of taken from the Workers types.
import { DurableObject } from "cloudflare:workers";

import type { QueueStub, ShapeDb } from "../lib/shape-bindings.ts";

interface Env {
  DB: ShapeDb;
  QUEUE: { idFromName(name: string): unknown; get(id: unknown): QueueStub };
  PUBLIC_URL: string;
  TWILIO_AUTH_TOKEN: string;
}

const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
const enc = new TextEncoder();

export class Queue extends DurableObject<Env> {
  private entered = 0;

  /** The interaction enters the queue: its position (in memory only). */
  enqueue(_id: string): number {
    return ++this.entered;
  }
}

/** Whether two signatures are equal, in time that depends on their length only (always 28 here). */
function equalConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const byCodeUnit = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** Imported once per isolate (a CryptoKey holds no I/O: safe to share across requests). */
let key: CryptoKey | undefined;
/** Set once this isolate has created the tables. Not a shared promise: workerd refuses I/O awaited
 *  across requests, so the first requests each run the (idempotent) CREATEs until one has finished. */
let tablesReady = false;

async function signature(env: Env, url: string, params: [string, string][]): Promise<string> {
  key ??= await crypto.subtle.importKey("raw", enc.encode(env.TWILIO_AUTH_TOKEN), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  let data = url;
  for (const [k, v] of [...params].sort(([a], [b]) => byCodeUnit(a, b))) data += k + v;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)));
  let bin = "";
  for (const b of mac) bin += String.fromCharCode(b);
  return btoa(bin);
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    // What bench/lib/dev.ts waitUp polls.
    if (pathname === "/api/health") return new Response("ok");
    if (pathname !== "/api/v1/sms/twilio" || request.method !== "POST") return new Response("not found", { status: 404 });
    const params = [...new URLSearchParams(await request.text())];
    const header = request.headers.get("X-Twilio-Signature") ?? "";
    const expected = await signature(env, `${new URL(env.PUBLIC_URL).origin}${pathname}`, params);
    if (!equalConstantTime(expected, header)) return new Response("invalid signature", { status: 403 });
    const field = (name: string) => params.find(([k]) => k === name)?.[1] ?? "";
    const sid = field("MessageSid");
    if (!sid) return new Response("no MessageSid", { status: 400 });
    if (!tablesReady) {
      await env.DB.batch([
        env.DB.prepare("CREATE TABLE IF NOT EXISTS sms_messages (sid TEXT PRIMARY KEY, interaction_id TEXT NOT NULL, from_number TEXT NOT NULL, to_number TEXT NOT NULL, body TEXT NOT NULL, segments INTEGER NOT NULL, created_at INTEGER NOT NULL)"),
        env.DB.prepare("CREATE TABLE IF NOT EXISTS interactions (id TEXT PRIMARY KEY, media TEXT NOT NULL, external_id TEXT NOT NULL, created_at INTEGER NOT NULL)"),
      ]);
      tablesReady = true;
    }
    const id = crypto.randomUUID();
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("INSERT INTO sms_messages (sid, interaction_id, from_number, to_number, body, segments, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)").bind(sid, id, field("From"), field("To"), field("Body"), Number(field("NumSegments")) || 1, now),
      env.DB.prepare("INSERT INTO interactions (id, media, external_id, created_at) VALUES (?, 'sms', ?, ?)").bind(id, `sms:twilio:${sid}`, now),
    ]);
    await env.QUEUE.get(env.QUEUE.idFromName("sms")).enqueue(id);
    return new Response(TWIML, { headers: { "Content-Type": "text/xml" } });
  },
};
