// A request body read as it arrives and refused at a size limit, for every body (JSON, mail, uploads,
// forms, webhooks): a chunked upload with no Content-Length is never buffered whole.
import { tooLarge } from "./errors.ts";

/** A stream read to its end, or `null` as soon as it passes `max` (the rest is cancelled, never pulled). */
export async function readStreamLimited(stream: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array | null> {
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) out.set(c, at), (at += c.byteLength);
  return out;
}

/** The whole body, refused with 413 as soon as it passes `max` (a missing or lying Content-Length included). */
export async function readLimited(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("Content-Length") ?? "0");
  if (declared > max) throw tooLarge(`the body is over ${max} bytes`);
  const bytes = await readStreamLimited(req.body, max);
  if (!bytes) throw tooLarge(`the body is over ${max} bytes`);
  return bytes;
}
