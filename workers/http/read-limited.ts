// A request body read as it arrives and refused at a size limit, for raw bodies (mail, uploads,
// forms): a chunked upload with no Content-Length is never buffered whole.
import { tooLarge } from "./errors.ts";

/** The whole body, refused with 413 as soon as it passes `max` (a missing or lying Content-Length included). */
export async function readLimited(req: Request, max: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get("Content-Length") ?? "0");
  if (declared > max) throw tooLarge(`the body is over ${max} bytes`);
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge(`the body is over ${max} bytes`);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) out.set(c, at), (at += c.byteLength);
  return out;
}
