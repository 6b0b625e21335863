// What the widget keeps and the chat API answers, apart from the socket's frames (workers/protocol/chat.ts).

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

export type { ChatFile as FileRef, ChatFrame as Frame, ChatMessage, ChatStatus, Participant } from "../workers/protocol/chat.ts";
import type { ChatMessage, Participant } from "../workers/protocol/chat.ts";

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
