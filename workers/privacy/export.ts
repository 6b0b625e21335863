// A contact's data as one archive (docs/privacy.md): `contact.json` (the contact, identifiers,
// interactions with their messages, history, notes and categories) and every attachment, chat file and
// media file under `files/`, zipped as it is read and uploaded to R2 in parts, so memory stays bounded
// whatever the contact's size.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { Zip, ZipPassThrough } from "fflate";
import { newId } from "../kernel/ids.ts";
import { conflict, notFound } from "../kernel/errors.ts";
import { contactScope, erasureFor } from "../ucs/privacy.ts";
import { exportContactRows, exportDetails, exportInteractionPage, recordExport, type Row } from "../ucs/export-reads.ts";

const PAGE = 50;
/** R2's smallest multipart part (the last may be smaller). */
const PART = 5 * 1024 * 1024;
/** How long the archive and its link last. */
export const EXPORT_TTL_S = 24 * 3600;

const json = (v: unknown) => (typeof v === "string" && (v.startsWith("[") || v.startsWith("{")) ? (JSON.parse(v) as unknown) : v);
const iso = (ms: unknown) => (typeof ms === "number" ? new Date(ms).toISOString() : null);
const safe = (s: string) => s.replace(/[^\w.\- ]+/g, "_").slice(0, 100) || "file";

/** Streams zip bytes into an R2 multipart upload, in parts of exactly PART bytes (R2 wants every
 *  part but the last the same size), so memory holds at most one part whatever the archive's size. */
class ArchiveUpload {
  private readonly parts: R2UploadedPart[] = [];
  private buf: Uint8Array[] = [];
  private size = 0;
  total = 0;
  private readonly zip: Zip;
  private error: unknown = null;
  private readonly upload: R2MultipartUpload;

  constructor(upload: R2MultipartUpload) {
    this.upload = upload;
    this.zip = new Zip((err, chunk) => {
      if (err) this.error = err;
      this.buf.push(chunk);
      this.size += chunk.length;
      this.total += chunk.length;
    });
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const b = this.buf[0]!;
      const k = Math.min(b.length, n - at);
      out.set(b.subarray(0, k), at);
      at += k;
      if (k === b.length) this.buf.shift();
      else this.buf[0] = b.subarray(k);
    }
    this.size -= n;
    return out;
  }

  private async drain(final: boolean): Promise<void> {
    if (this.error) throw this.error;
    while (this.size >= PART) this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.take(PART)));
    if (final && (this.size > 0 || this.parts.length === 0)) this.parts.push(await this.upload.uploadPart(this.parts.length + 1, this.take(this.size)));
  }

  /** A stored (uncompressed) entry: `body` is bytes, a stream, or chunks written as they are made. */
  async file(name: string, body: ReadableStream<Uint8Array> | Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const f = new ZipPassThrough(name);
    this.zip.add(f);
    if (body instanceof Uint8Array) f.push(body, true);
    else {
      const chunks = body instanceof ReadableStream ? (body as unknown as AsyncIterable<Uint8Array>) : body;
      for await (const value of chunks) {
        f.push(value);
        await this.drain(false);
      }
      f.push(new Uint8Array(0), true);
    }
    await this.drain(false);
  }

  async finish(): Promise<void> {
    this.zip.end();
    await this.drain(true);
    await this.upload.complete(this.parts);
  }

  abort(): Promise<void> {
    return this.upload.abort().catch(() => {});
  }
}

export interface ExportResult {
  export: string;
  key: string;
  size: number;
  files: number;
  interactions: number;
  expiresAt: number;
}

/** An interaction as contact.json gives it, with everything filed under it; its files are listed in `files`. */
function interactionDoc(r: Row, d: Record<string, Row[]>, file: (interaction: unknown, name: unknown, key: unknown) => string): unknown {
  const of = (k: string, id: unknown) => d[k]!.filter((x) => x.interaction_id === id).map(({ interaction_id: _, ...x }) => x);
  return {
    id: r.id, media: r.media, channel: r.channel, direction: r.direction, subject: r.subject, state: r.state, queue: r.queue, agent: r.agent_id,
    thread: r.thread_id, parent: r.parent_id, categories: json(r.categories), attributes: json(r.attributes),
    createdAt: iso(r.created_at), updatedAt: iso(r.updated_at), doneAt: iso(r.done_at),
    emails: of("emails", r.id).map((e) => ({ ...e, to_addrs: json(e.to_addrs), cc_addrs: json(e.cc_addrs), date: iso(e.date), created_at: iso(e.created_at) })),
    parts: of("parts", r.id).map(({ r2_key, ...p }: Row) => (r2_key ? { ...p, file: file(r.id, p.name, r2_key) } : p)),
    chat: of("chat", r.id).map(({ file_key, ...m }: Row) => ({ ...m, at: iso(m.at), ...(file_key ? { file: file(r.id, `chat-${String(m.seq)}`, file_key) } : {}) })),
    sms: of("sms", r.id).map((m) => ({ ...m, created_at: iso(m.created_at) })),
    social: of("social", r.id).map((m) => ({ ...m, created_at: iso(m.created_at) })),
    socialMedia: of("media", r.id).map(({ r2_key, ...m }: Row) => ({ ...m, file: file(r.id, m.name, r2_key) })),
    notes: of("notes", r.id).map((n) => ({ ...n, created_at: iso(n.created_at) })),
    classification: of("classifications", r.id).map((c) => ({ categories: json(c.categories), confirmed: json(c.confirmed), at: iso(c.created_at) }))[0] ?? null,
    callback: of("callbacks", r.id).map((c) => ({ ...c, window_start: iso(c.window_start), window_end: iso(c.window_end) }))[0] ?? null,
    history: of("history", r.id).map((h) => ({ ...h, at: iso(h.at) })),
  };
}

export async function exportContact(env: TenantEnv, tenant: string, contactId: string, by: string, now = Date.now()): Promise<ExportResult> {
  const contacts = await contactScope(env.DB, tenant, contactId);
  if (!contacts) throw notFound("unknown_contact", `no contact '${contactId}'`);
  if (await erasureFor(env.DB, tenant, contactId)) throw conflict("contact_erased", "this contact is being erased (or was): nothing is exported");
  const id = newId("ex");
  const key = `${tenant}/exports/${id}.zip`;
  const archive = new ArchiveUpload(await env.BLOBS.createMultipartUpload(key, { httpMetadata: { contentType: "application/zip", contentDisposition: `attachment; filename="${contacts[0]}.zip"` } }));
  try {
    const base = await exportContactRows(env.DB, tenant, contacts);
    const files: { path: string; key: string }[] = [];
    const file = (interaction: unknown, name: unknown, k: unknown) => {
      const path = `files/${String(interaction)}/${files.length + 1}-${safe(String(name ?? "file"))}`;
      files.push({ path, key: String(k) });
      return path;
    };
    let count = 0;
    const enc = new TextEncoder();
    // contact.json is written as its interactions are read, a page at a time: memory holds one page.
    async function* contactJson(): AsyncIterable<Uint8Array> {
      const head = {
        format: "parley.contact-export/1", tenant, exportedAt: new Date(now).toISOString(), requestedBy: by,
        contact: base.contacts.find((c) => c.id === contacts![0]) ?? null, mergedContacts: base.contacts.filter((c) => c.id !== contacts![0]),
        identifiers: base.identifiers, notes: base.notes,
      };
      yield enc.encode(`${JSON.stringify(head, null, 2).slice(0, -2)},\n  "interactions": [`);
      let after = { at: -1, id: "" };
      for (;;) {
        const page = await exportInteractionPage(env.DB, tenant, contacts!, after, PAGE);
        if (!page.length) break;
        const own = page.filter((r) => r.own === 1);
        if (!own.length) break;
        after = { at: own.at(-1)!.created_at as number, id: own.at(-1)!.id as string };
        const d = await exportDetails(env.DB, tenant, page.map((r) => r.id as string));
        yield enc.encode(page.map(({ own: _, ...r }) => `${count++ ? "," : ""}\n    ${JSON.stringify(interactionDoc(r, d, file))}`).join(""));
      }
      yield enc.encode(`\n  ],\n  "archived": ${JSON.stringify(files.map((f) => f.path))}\n}\n`);
    }
    await archive.file("contact.json", contactJson());
    let stored = 0;
    for (const f of files) {
      const obj = await env.BLOBS.get(f.key);
      // A file whose bytes are gone (an expired media link) is listed in contact.json, not in the archive.
      if (obj) await archive.file(f.path, obj.body), stored++;
    }
    await archive.finish();
    const expiresAt = now + EXPORT_TTL_S * 1000;
    // Not if an erasure of the contact began meanwhile: then the archive goes at once.
    const rec = await recordExport(env.DB, { tenant, id, contact: contacts[0]!, key, size: archive.total, files: stored, by, at: now, expires: expiresAt }).run();
    if (!rec.meta.changes) {
      await env.BLOBS.delete(key);
      throw conflict("contact_erased", "this contact is being erased: nothing is exported");
    }
    return { export: id, key, size: archive.total, files: stored, interactions: count, expiresAt };
  } catch (err) {
    await archive.abort();
    throw err;
  }
}
