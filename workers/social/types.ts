// What every adapter turns a provider's webhook into, and what the core works with. Pure types.

export type Channel = "whatsapp" | "messenger" | "instagram" | "telegram";
export type Provider = "whatsapp" | "meta" | "telegram";

export const providerOf = (c: Channel): Provider => (c === "messenger" || c === "instagram" ? "meta" : c);

/** A message kind as the agent sees it; `unknown` is stored raw and flagged. */
export type MessageKind = "text" | "image" | "audio" | "video" | "document" | "sticker" | "location" | "contact" | "reaction" | "interactive" | "edit" | "unknown";

/** One media item to fetch: a provider media id (WhatsApp, Telegram file_id) or a URL (Meta). */
export interface MediaRef {
  ref: string;
  contentType: string;
  name: string;
}

export interface InboundMessage {
  type: "message";
  channel: Channel;
  /** The business's account: a phone number id, a page or Instagram id, a bot id. */
  account: string;
  /** The customer's id on the channel: for WhatsApp their number in E.164. */
  user: string;
  userName: string | null;
  /** Exactly-once key: wamid, mid, or bot:update_id. */
  providerId: string;
  /** The provider's timestamp (ms): the conversation's order. */
  at: number;
  kind: MessageKind;
  /** What the agent reads: the text, a caption, a map link, a reaction's emoji... */
  text: string;
  media: MediaRef[];
  /** For a reaction or an edit: the provider id of the message it is about. */
  about?: string;
  /** Why it is flagged (an unknown type, an error the provider reported), with the raw JSON kept. */
  flagged?: string;
  raw?: string;
}

/** A message the business sent from the provider's own inbox (Meta echoes): stored once as staff's. */
export interface EchoMessage {
  type: "echo";
  channel: Channel;
  account: string;
  user: string;
  providerId: string;
  at: number;
  text: string;
}

export type Delivery = "sending" | "sent" | "delivered" | "read" | "failed";

export interface StatusUpdate {
  type: "status";
  channel: Channel;
  account: string;
  /** The provider id of our outbound message; for Meta's read/delivery watermarks, null with `upTo`. */
  providerId: string | null;
  user: string;
  status: Delivery;
  at: number;
  /** Meta's watermarks: every message sent up to this time. */
  upTo?: number;
  error?: string;
}

export type SocialEvent = InboundMessage | EchoMessage | StatusUpdate;

/** How far a delivery state is along: a late "delivered" never undoes "read"; "failed" ends all but "read". */
export const deliveryRank: Record<Delivery, number> = { sending: 0, sent: 1, delivered: 2, failed: 3, read: 4 };

/** What an agent or automatic message asks the adapter to send. */
export type Outbound =
  | { kind: "text"; text: string; tag?: "HUMAN_AGENT" }
  | { kind: "media"; url: string; contentType: string; name: string; caption?: string }
  | { kind: "template"; name: string; language: string; params: string[] };
