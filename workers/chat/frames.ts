// The chat WebSocket's frames, client to server: parsed and checked here, pure, so the object only
// sees well-formed requests and every bad frame gets a named error instead of a closed socket.
import * as z from "zod";
import { VISIBILITIES } from "./visibility.ts";

/** The largest frame accepted, in UTF-8 bytes: a message of MAX_TEXT characters fits with room to spare. */
export const MAX_FRAME_BYTES = 16 * 1024;

const ClientFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("msg"), clientId: z.string().min(1).max(100), text: z.string().max(8000), visibility: z.enum(VISIBILITIES).optional() }),
  z.object({ type: z.literal("typing"), on: z.boolean() }),
  z.object({ type: z.literal("read"), seq: z.number().int().min(0) }),
  z.object({ type: z.literal("resume"), after: z.number().int().min(0) }),
  z.object({ type: z.literal("end") }),
  z.object({ type: z.literal("ping") }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export type FrameError = { code: "frame_too_large" | "malformed_frame" | "unknown_frame" | "invalid_frame"; message: string; clientId?: string };

export function parseFrame(raw: string | ArrayBuffer): { ok: true; frame: ClientFrame } | { ok: false; error: FrameError } {
  if (typeof raw !== "string") return { ok: false, error: { code: "malformed_frame", message: "send text frames holding JSON, not binary" } };
  // A UTF-8 byte is at most one UTF-16 unit; only a long string needs the exact count.
  if (raw.length > MAX_FRAME_BYTES / 3 && new TextEncoder().encode(raw).length > MAX_FRAME_BYTES)
    return { ok: false, error: { code: "frame_too_large", message: `a frame is at most ${MAX_FRAME_BYTES} bytes` } };
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, error: { code: "malformed_frame", message: "a frame is one JSON object" } };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ok: false, error: { code: "malformed_frame", message: "a frame is one JSON object" } };
  const type = (data as { type?: unknown }).type;
  if (typeof type !== "string" || !["msg", "typing", "read", "resume", "end", "ping"].includes(type))
    return { ok: false, error: { code: "unknown_frame", message: "type: one of msg, typing, read, resume, end, ping" } };
  const r = ClientFrame.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const clientId = (data as { clientId?: unknown }).clientId;
    return { ok: false, error: { code: "invalid_frame", message: `${i.path.join(".") || type}: ${i.message}`, ...(typeof clientId === "string" ? { clientId } : {}) } };
  }
  return { ok: true, frame: r.data };
}
