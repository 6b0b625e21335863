// A contact's data as one archive (docs/privacy.md): `contact.json` (the contact, identifiers,
// interactions with their messages, history, notes and categories) and every attachment, chat file and
// media file under `files/`, zipped as it is read and uploaded to R2 in parts, so memory stays bounded
// whatever the contact's size.
import { Zip, ZipPassThrough, strToU8 } from "fflate";
import { newId } from "../kernel/ids.ts";
import { notFound } from "../kernel/errors.ts";
import { contactScope } from "../ucs/privacy.ts";
import { exportContactRows, exportDetails, exportInteractionPage, recordExport, type Row } from "../ucs/export-reads.ts";

const PAGE = 50;
/** R2's smallest multipart part (the last may be smaller). */
const PART = 5 * 1024 * 1024;
/** How long the archive and its link last. */
export const EXPORT_TTL_S = 24 * 3600;

const json = (v: unknown) => (typeof v === "string" && (v.startsWith("[") || v.startsWith("{")) ? (JSON.parse(v) as unknown) : v);
const iso = (ms: unknown) => (typeof ms === "number" ? new Date(ms).toISOString() : null);
const safe = (s: string) => s.replace(/[^\w.\- ]+/g, "_").slice(0, 100) || "file";

/** Streams zip bytes into an R2 multipart upload. */
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

  private async drain(final: boolean): Promise<void> {
    if (this.error) throw this.error;
    if (this.size < PART && !final) return;
    if (this.size === 0 && this.parts.length > 0) return;
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const b of this.buf) all.set(b, at), (at += b.length);
    this.buf = [];
    this.size = 0;
    this.parts.push(await this.upload.uploadPart(this.parts.length + 1, all));
  }

  async file(name: string, body: ReadableStream<Uint8Array> | Uint8Array): Promise<void> {
    const f = new ZipPassThrough(name);
    this.zip.add(f);
    if (body instanceof Uint8Array) f.push(body, true);
    else {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
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
}

export interface ExportResult {
  export: string;
  key: string;
  size: number;
  files: number;
  interactions: number;
  expiresAt: number;
}

export async function exportContact(env: Env, tenant: string, contactId: string, by: string, now = Date.now()): Promise<ExportResult> {
  const contacts = await contactScope(env.DB, tenant, contactId);
  if (!contacts) throw notFound("unknown_contact", `no contact '${contactId}'`);
  const id = newId("ex");
  const key = `${tenant}/exports/${id}.zip`;
  const archive = new ArchiveUpload(await env.BLOBS.createMultipartUpload(key, { httpMetadata: { contentType: "application/zip", contentDisposition: `attachment; filename="${contacts[0]}.zip"` } }));
  const base = await exportContactRows(env.DB, tenant, contacts);
  const interactions: unknown[] = [];
  const files: { path: string; key: string }[] = [];
  const file = (interaction: unknown, name: unknown, key: unknown) => {
    const path = `files/${String(interaction)}/${files.length + 1}-${safe(String(name ?? "file"))}`;
    files.push({ path, key: String(key) });
    return path;
  };
  let after = { at: -1, id: "" };
  for (;;) {
    const page = await exportInteractionPage(env.DB, tenant, contacts, after, PAGE);
    if (!page.length) break;
    after = { at: page.at(-1)!.created_at as number, id: page.at(-1)!.id as string };
    const d = await exportDetails(env.DB, tenant, page.map((r) => r.id as string));
    const of = (k: string, id: unknown) => d[k]!.filter((r) => r.interaction_id === id).map(({ interaction_id: _, ...r }) => r);
    for (const r of page) {
      interactions.push({
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
      });
    }
  }
  const doc = {
    format: "parley.contact-export/1", tenant, exportedAt: new Date(now).toISOString(), requestedBy: by,
    contact: base.contacts.find((c) => c.id === contacts[0]) ?? null,
    mergedContacts: base.contacts.filter((c) => c.id !== contacts[0]),
    identifiers: base.identifiers, notes: base.notes, interactions, archived: files.map((f) => f.path),
  };
  await archive.file("contact.json", strToU8(JSON.stringify(doc, null, 2)));
  let stored = 0;
  for (const f of files) {
    const obj = await env.BLOBS.get(f.key);
    // A file whose bytes are gone (an expired media link) is listed in contact.json, not in the archive.
    if (obj) await archive.file(f.path, obj.body), stored++;
  }
  await archive.finish();
  const expiresAt = now + EXPORT_TTL_S * 1000;
  await recordExport(env.DB, { tenant, id, contact: contacts[0]!, key, size: archive.total, files: stored, by, at: now, expires: expiresAt }).run();
  return { export: id, key, size: archive.total, files: stored, interactions: interactions.length, expiresAt };
}
