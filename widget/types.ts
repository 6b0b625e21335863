// The chat protocol as the widget sees it (docs/chat.md).

export interface Field {
  name: string;
  label: string;
  type: string; // text | email | phone | textarea | file (file fields are left out: the widget posts JSON)
  required?: boolean;
  maxLength?: number;
}

export interface ChatConfig {
  available: boolean;
  reason?: string;
  preChat?: { fields?: Field[] };
  strings?: Record<string, string>;
  offline?: { form: string; fields?: Field[] } | null;
  attachments?: { maxBytes?: number; types?: string[] };
}

export interface Participant {
  id: string;
  role?: string;
  name?: string;
}

export interface FileRef {
  name: string;
  type?: string;
  size?: number;
  url: string;
}

export interface ChatMessage {
  seq: number;
  clientId?: string | null;
  from: string;
  name?: string;
  role?: string;
  kind?: string; // text | notice | file
  text?: string;
  visibility?: string;
  at?: number | string;
  file?: FileRef;
}

export interface SessionAnswer {
  chatId: string;
  interactionId?: string;
  token: string;
  expiresAt?: number | string;
  participant?: Participant;
}

/** What a page reload needs to resume the chat (sessionStorage). */
export interface Stored {
  tenant: string;
  chatId: string;
  token: string;
  expiresAt?: number | string;
  me?: string;
  lastSeq: number;
  ended?: boolean;
  open?: boolean;
  email?: string;
  pending: [string, string][];
  messages: ChatMessage[];
}

/** Server → client frames. */
export type Frame =
  | { type: "hello"; participant?: Participant; status?: string; last?: number; position?: number | null; ewtSeconds?: number | null }
  | { type: "msg"; message: ChatMessage }
  | { type: "ack"; clientId: string; seq: number; duplicate?: boolean }
  | { type: "typing"; from: string; name?: string; on: boolean }
  | { type: "read"; from: string; seq: number }
  | { type: "queue"; position?: number | null; ewtSeconds?: number | null }
  | { type: "status"; status: string; reason?: string }
  | { type: "error"; code: string; message?: string; clientId?: string; retryAfterSeconds?: number }
  | { type: "pong" };
