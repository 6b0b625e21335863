// The email bench's same-shape baseline: what ingesting one raw message costs the platform, with no
// Parley logic. POST /api/v1/email/inbound (message/rfc822) → postal-mime parses it → the raw bytes
// are put in R2 → one D1 batch of two INSERTs (the interaction, the email with a few parsed fields)
// → one RPC to the queue's Durable Object (named "inbox", as the bench's one Parley queue) → 202 with
// {interactionId, duplicate, state}, as Parley answers. No tenant, mailbox, threading, dedup, parts
// or routing. The object keeps a count in memory (SQLite-backed like Parley's objects; storage unused).
// The D1 tables are created once per isolate (CREATE TABLE IF NOT EXISTS).
//
// bench/ is type-checked with Node's types (scripts/tsconfig.json): the runtime APIs used here are
// declared below and in bench/lib/cloudflare-workers.d.ts instead of taken from the Workers types.
import { DurableObject } from "cloudflare:workers";
import PostalMime from "postal-mime";

import type { QueueStub, ShapeDb } from "../lib/shape-bindings.ts";

interface Env {
  DB: ShapeDb;
  BLOBS: { put(key: string, value: Uint8Array, options?: { httpMetadata?: { contentType?: string } }): Promise<unknown> };
  QUEUE: { idFromName(name: string): unknown; get(id: unknown): QueueStub };
}

export class Queue extends DurableObject<Env> {
  private entered = 0;

  /** The interaction enters the queue: its position (in memory only). */
  enqueue(_id: string): number {
    return ++this.entered;
  }
}

/** Set once this isolate has created the tables. Not a shared promise: workerd refuses I/O awaited
 *  across requests, so the first requests each run the (idempotent) CREATEs until one has finished. */
let tablesReady = false;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url);
    // What bench/lib/dev.ts waitUp polls.
    if (pathname === "/api/health") return new Response("ok");
    if (pathname !== "/api/v1/email/inbound" || request.method !== "POST") return new Response("not found", { status: 404 });
    const raw = new Uint8Array(await request.arrayBuffer());
    const m = await PostalMime.parse(raw);
    const id = crypto.randomUUID();
    const key = `raw/${id}.eml`;
    await env.BLOBS.put(key, raw, { httpMetadata: { contentType: "message/rfc822" } });
    if (!tablesReady) {
      await env.DB.batch([
        env.DB.prepare("CREATE TABLE IF NOT EXISTS interactions (id TEXT PRIMARY KEY, media TEXT NOT NULL, subject TEXT, created_at INTEGER NOT NULL)"),
        env.DB.prepare("CREATE TABLE IF NOT EXISTS emails (id TEXT PRIMARY KEY, interaction_id TEXT NOT NULL, message_id TEXT, from_address TEXT, subject TEXT, r2_key TEXT NOT NULL, size INTEGER NOT NULL, attachments INTEGER NOT NULL, created_at INTEGER NOT NULL)"),
      ]);
      tablesReady = true;
    }
    const now = Date.now();
    const subject = (m.subject ?? "").slice(0, 500);
    await env.DB.batch([
      env.DB.prepare("INSERT INTO interactions (id, media, subject, created_at) VALUES (?, 'email', ?, ?)").bind(id, subject, now),
      env.DB.prepare("INSERT INTO emails (id, interaction_id, message_id, from_address, subject, r2_key, size, attachments, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(
        crypto.randomUUID(),
        id,
        m.messageId ?? null,
        m.from?.address ?? null,
        subject,
        key,
        raw.byteLength,
        m.attachments.length,
        now,
      ),
    ]);
    await env.QUEUE.get(env.QUEUE.idFromName("inbox")).enqueue(id);
    return Response.json({ interactionId: id, duplicate: false, state: "queued" }, { status: 202 });
  },
};
