// A WebSocket frame that should hold one JSON object: text, within a size, parsed. Pure; the chat
// and dashboard sockets each check their own frame shapes on top of it.

export type JsonFrameError = { code: "frame_too_large" | "malformed_frame"; message: string };

export function readJsonFrame(raw: string | ArrayBuffer, maxBytes: number): { ok: true; value: Record<string, unknown> } | { ok: false; error: JsonFrameError } {
  if (typeof raw !== "string") return { ok: false, error: { code: "malformed_frame", message: "send text frames holding JSON, not binary" } };
  // A UTF-8 byte is at most one UTF-16 unit; only a long string needs the exact count.
  if (raw.length > maxBytes / 3 && new TextEncoder().encode(raw).length > maxBytes) return { ok: false, error: { code: "frame_too_large", message: `a frame is at most ${maxBytes} bytes` } };
  let d: unknown;
  try {
    d = JSON.parse(raw);
  } catch {
    return { ok: false, error: { code: "malformed_frame", message: "a frame is one JSON object" } };
  }
  if (typeof d !== "object" || d === null || Array.isArray(d)) return { ok: false, error: { code: "malformed_frame", message: "a frame is one JSON object" } };
  return { ok: true, value: d as Record<string, unknown> };
}
