// The chat WebSocket's frames, client to server: parsed and checked here, pure, so the object only
// sees well-formed requests and every bad frame gets a named error instead of a closed socket.
// Checked by hand rather than with a schema library: this runs for every frame of every chat, and
// six small shapes are clearer written out than a schema's per-call overhead is worth.
import { readJsonFrame } from "../kernel/json-frame.ts";
import { MAX_TEXT } from "./limits.ts";

/** The largest frame accepted, in UTF-8 bytes: a message of MAX_TEXT characters fits with room to spare. */
export const MAX_FRAME_BYTES = 16 * 1024;

export type ClientFrame =
  | { type: "msg"; clientId: string; text: string; visibility?: "all" | "staff" }
  | { type: "typing"; on: boolean }
  | { type: "read"; seq: number }
  | { type: "resume"; after: number }
  | { type: "end" }
  | { type: "ping" };

export type FrameError = { code: "frame_too_large" | "malformed_frame" | "unknown_frame" | "invalid_frame"; message: string; clientId?: string };
type Parsed = { ok: true; frame: ClientFrame } | { ok: false; error: FrameError };

const invalid = (message: string, clientId?: unknown): Parsed => ({ ok: false, error: { code: "invalid_frame", message, ...(typeof clientId === "string" ? { clientId } : {}) } });
const isSeq = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

export function parseFrame(raw: string | ArrayBuffer): Parsed {
  const read = readJsonFrame(raw, MAX_FRAME_BYTES);
  if (!read.ok) return read;
  const f = read.value;
  switch (f.type) {
    case "msg": {
      const { clientId, text, visibility } = f;
      if (typeof clientId !== "string" || clientId.length < 1 || clientId.length > 100) return invalid("clientId: 1 to 100 characters, unique per message", clientId);
      if (typeof text !== "string") return invalid("text: a string", clientId);
      if (text.length > MAX_TEXT) return invalid(`text: at most ${MAX_TEXT} characters`, clientId);
      if (visibility !== undefined && visibility !== "all" && visibility !== "staff") return invalid("visibility: all or staff", clientId);
      return { ok: true, frame: { type: "msg", clientId, text, ...(visibility ? { visibility } : {}) } };
    }
    case "typing":
      return typeof f.on === "boolean" ? { ok: true, frame: { type: "typing", on: f.on } } : invalid("on: true or false");
    case "read":
      return isSeq(f.seq) ? { ok: true, frame: { type: "read", seq: f.seq } } : invalid("seq: a sequence number");
    case "resume":
      return isSeq(f.after) ? { ok: true, frame: { type: "resume", after: f.after } } : invalid("after: a sequence number");
    case "end":
    case "ping":
      return { ok: true, frame: { type: f.type } };
    default:
      return { ok: false, error: { code: "unknown_frame", message: "type: one of msg, typing, read, resume, end, ping" } };
  }
}
