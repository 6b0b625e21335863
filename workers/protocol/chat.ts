// A chat's socket (docs/chat.md): every frame the ChatSession sends and every frame a client may
// send, one discriminated union each. The object checks its sends against it; the widget, the
// desk's chat pane and the console's monitor read with it. Pure types.
import type { ErrorFrame } from "../kernel/socket-error.ts";
import type { ChatRole, Mode, Visibility } from "../chat/visibility.ts";

export type { ClientFrame as ChatClientFrame } from "../chat/frames.ts";

export type ChatStatus = "waiting" | "active" | "ended";

export interface Participant {
  id: string;
  role: ChatRole;
  mode: Mode;
  name: string;
  joinedAt: number;
  leftAt: number | null;
  readSeq: number;
}

export interface ChatFile {
  name: string;
  type: string;
  size: number;
  url: string;
}

/** What a message carried by a social channel adds: whether it came late (placed by the provider's
 *  time, before messages that arrived earlier), its delivery state (staff's), its media's state
 *  while not stored, the template it was, the channel's own kind (a location, a reaction...), a flag. */
export interface MessageExtra {
  late?: true;
  delivery?: "sending" | "sent" | "delivered" | "read" | "failed";
  /** Why the delivery failed (the provider's words). */
  error?: string;
  media?: "pending" | "expired" | "refused";
  template?: string;
  kind?: string;
  flagged?: string;
  /** A reaction or an edit: the text of the message it is about, when known. */
  about?: string;
}

export interface ChatMessage {
  seq: number;
  clientId: string | null;
  from: string;
  name: string;
  role: ChatRole;
  kind: "text" | "notice" | "file";
  text: string;
  visibility: Visibility;
  at: number;
  file?: ChatFile;
  extra?: MessageExtra;
}

/** An error on a chat socket: the one error frame, with the message it refused when there was one,
 *  and for a 429 when to send again. */
export type ChatErrorFrame = ErrorFrame & { clientId?: string; retryAfterSeconds?: number };

/** Server → client. */
export type ChatFrame =
  | { type: "hello"; participant: Participant; status: ChatStatus; last: number; position: number | null; ewtSeconds: number | null }
  | { type: "msg"; message: ChatMessage }
  /** A message changed after it was sent (its media stored, its delivery state): replace it by seq. */
  | { type: "update"; message: ChatMessage }
  | { type: "ack"; clientId: string; seq: number; duplicate: boolean }
  | { type: "typing"; from: string; name: string; on: boolean }
  | { type: "read"; from: string; seq: number }
  | { type: "queue"; position: number | null; ewtSeconds: number | null }
  | { type: "status"; status: ChatStatus; reason?: string }
  | { type: "pong" }
  | ChatErrorFrame;
