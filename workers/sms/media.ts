// MMS media from Twilio: every part the webhook lists (NumMedia, MediaUrlN, MediaContentTypeN, up to
// ten), fetched with the account's HTTP Basic credentials (Twilio requires them for media URLs) into
// R2, within type and size limits. A part that cannot be fetched is kept as a note, not dropped, so
// the message is never lost for one bad part.
import type { NewPart } from "../ucs/interactions.ts";
import { bytesSha256 } from "../kernel/hash.ts";
import { readStreamLimited } from "../kernel/read-limited.ts";

export const MAX_MEDIA = 10;
export const MAX_MEDIA_BYTES = 5 * 1024 * 1024;
const TYPES = /^(image|video|audio)\/[a-z0-9.+-]+$|^(text\/(plain|vcard|x-vcard|calendar)|application\/(pdf|vcard|smil\+xml))$/i;

export interface MediaRef {
  url: string;
  contentType: string;
}

export function mediaRefs(get: (k: string) => string | undefined): MediaRef[] {
  const n = Math.min(MAX_MEDIA, Math.max(0, Number.parseInt(get("NumMedia") ?? "0", 10) || 0));
  const out: MediaRef[] = [];
  for (let i = 0; i < n; i++) {
    const url = get(`MediaUrl${i}`);
    if (url) out.push({ url, contentType: (get(`MediaContentType${i}`) ?? "application/octet-stream").toLowerCase() });
  }
  return out;
}

/** Fetches each part into R2 under a key made from the message id and its place, so a retried webhook rewrites the same objects. */
export async function fetchMedia(env: Env, tenant: string, messageId: string, refs: MediaRef[], auth: { user: string; password: string }): Promise<NewPart[]> {
  return Promise.all(
    refs.map(async (ref, i): Promise<NewPart> => {
      const note = (why: string): NewPart => ({ kind: "text", content: `[media part ${i + 1} (${ref.contentType}) not stored: ${why}]` });
      let u: URL;
      try {
        u = new URL(ref.url);
      } catch {
        return note("not a URL");
      }
      // Credentials go only to the provider's own media host.
      if (u.protocol !== "https:" || !/(^|\.)twilio\.com$/.test(u.hostname)) return note(`refused to fetch from ${u.hostname}`);
      if (!TYPES.test(ref.contentType)) return note("type not accepted");
      let res: Response;
      try {
        res = await fetch(u, { headers: { Authorization: `Basic ${btoa(`${auth.user}:${auth.password}`)}` }, redirect: "follow" });
      } catch (err) {
        return note(`fetch failed: ${String(err instanceof Error ? err.message : err).slice(0, 100)}`);
      }
      if (!res.ok) return note(`the provider answered ${res.status}`);
      if (Number(res.headers.get("Content-Length") ?? "0") > MAX_MEDIA_BYTES) return note(`over ${MAX_MEDIA_BYTES} bytes`);
      const bytes = await readStreamLimited(res.body, MAX_MEDIA_BYTES);
      if (!bytes) return note(`over ${MAX_MEDIA_BYTES} bytes`);
      const key = `${tenant}/sms/${messageId}/${i}`;
      await env.BLOBS.put(key, bytes, { httpMetadata: { contentType: ref.contentType } });
      const ext = ref.contentType.split("/")[1]?.replace(/[^a-z0-9]/g, "").slice(0, 8) || "bin";
      return { kind: "attachment", r2Key: key, contentType: ref.contentType, name: `part-${i + 1}.${ext}`, size: bytes.byteLength, sha256: await bytesSha256(bytes) };
    }),
  );
}
