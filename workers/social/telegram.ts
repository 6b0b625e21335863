// Telegram Bot API: one Update into the core's events (a message, an edit, a reaction, a button
// press), and the core's sends into sendMessage / sendPhoto / sendDocument calls. Pure.
import type { InboundMessage, MediaRef, MessageKind, Outbound, SocialEvent } from "./types.ts";
import { arr, idOf, malformed, mapLink, num, obj, str, type Json } from "./json.ts";

function fileOf(m: Json): { kind: MessageKind; media: MediaRef } | null {
  // A photo comes in several sizes: the largest is the last.
  const photo = arr(m.photo);
  if (photo?.length) {
    const p = obj(photo.at(-1));
    const id = str(p?.file_id, 300);
    return id ? { kind: "image", media: { ref: id, contentType: "image/jpeg", name: "photo.jpg" } } : null;
  }
  for (const [field, kind, type] of [["document", "document", "application/octet-stream"], ["video", "video", "video/mp4"], ["voice", "audio", "audio/ogg"], ["audio", "audio", "audio/mpeg"], ["video_note", "video", "video/mp4"], ["animation", "video", "video/mp4"], ["sticker", "sticker", "image/webp"]] as const) {
    const f = obj(m[field]);
    const id = str(f?.file_id, 300);
    if (id) {
      const contentType = (str(f?.mime_type, 100) ?? type).toLowerCase();
      return { kind, media: { ref: id, contentType, name: str(f?.file_name, 200) ?? `${field}.${contentType.split("/")[1]?.replace(/[^a-z0-9]/g, "").slice(0, 8) || "bin"}` } };
    }
  }
  return null;
}

function personName(u: Json | undefined): string | null {
  const n = [str(u?.first_name, 100), str(u?.last_name, 100)].filter(Boolean).join(" ");
  return n || str(u?.username, 100) || null;
}

/** The events of one Update (Telegram sends one per request). */
export function telegramEvents(body: unknown, botId: string): SocialEvent[] {
  const u = obj(body) ?? malformed("(body)", "expected an object");
  const updateId = idOf(u.update_id) ?? malformed("update_id", "required");
  const providerId = `${botId}:${updateId}`;
  const m = obj(u.message) ?? obj(u.edited_message) ?? obj(u.business_message);
  if (m) {
    const chat = idOf(obj(m.chat)?.id) ?? malformed("message.chat.id", "required");
    const date = num(m.edit_date) ?? num(m.date) ?? malformed("message.date", "required");
    const base = { type: "message" as const, channel: "telegram" as const, account: botId, user: chat, userName: personName(obj(m.from)), providerId, at: date * 1000, media: [] as MediaRef[] };
    const edited = obj(u.edited_message) !== undefined;
    const text = str(m.text) ?? str(m.caption) ?? "";
    if (edited) return [{ ...base, kind: "edit", text, about: `${botId}:msg:${idOf(m.message_id) ?? ""}` }];
    const file = fileOf(m);
    if (file) return [{ ...base, kind: file.kind, text: file.kind === "sticker" ? str(obj(m.sticker)?.emoji, 20) ?? text : text, media: [file.media] }];
    const loc = obj(m.location) ?? obj(obj(m.venue)?.location);
    if (loc) {
      const lat = num(loc.latitude);
      const lon = num(loc.longitude);
      if (lat !== undefined && lon !== undefined) return [{ ...base, kind: "location", text: `${str(obj(m.venue)?.title, 300) ? `${str(obj(m.venue)?.title, 300)}: ` : ""}${mapLink(lat, lon)}` }];
    }
    const contact = obj(m.contact);
    if (contact) return [{ ...base, kind: "contact", text: `Shared contact: ${personName(contact) ?? "(no name)"}${str(contact.phone_number, 50) ? ` (${str(contact.phone_number, 50)})` : ""}` }];
    if (str(m.text) !== undefined) return [{ ...base, kind: "text", text }];
    const known = Object.keys(m).filter((k) => !["message_id", "from", "chat", "date", "sender_chat"].includes(k));
    return [{ ...base, kind: "unknown", text: "(a message this desk cannot show)", flagged: `unsupported Telegram message (${known.join(", ").slice(0, 100)})`, raw: JSON.stringify(m).slice(0, 20_000) } satisfies InboundMessage];
  }
  const r = obj(u.message_reaction);
  if (r) {
    const chat = idOf(obj(r.chat)?.id) ?? malformed("message_reaction.chat.id", "required");
    const emoji = (arr(r.new_reaction) ?? []).map((x) => str(obj(x)?.emoji, 20)).filter(Boolean).join(" ");
    return [{ type: "message", channel: "telegram", account: botId, user: chat, userName: personName(obj(r.user)), providerId, at: (num(r.date) ?? 0) * 1000, kind: "reaction", text: emoji ? `reacted ${emoji}` : "removed a reaction", media: [], about: `${botId}:msg:${idOf(r.message_id) ?? ""}` }];
  }
  const cb = obj(u.callback_query);
  if (cb) {
    const chat = idOf(obj(obj(cb.message)?.chat)?.id) ?? idOf(obj(cb.from)?.id) ?? malformed("callback_query.from.id", "required");
    return [{ type: "message", channel: "telegram", account: botId, user: chat, userName: personName(obj(cb.from)), providerId, at: Date.now(), kind: "interactive", text: str(cb.data, 1000) ?? "(a button)", media: [] }];
  }
  // Channel posts, polls, member updates...: nothing for an agent, and nothing that stops the bot.
  const kinds = Object.keys(u).filter((k) => k !== "update_id");
  return [{ type: "message", channel: "telegram", account: botId, user: "0", userName: null, providerId, at: Date.now(), kind: "unknown", text: "", media: [], flagged: `unsupported Telegram update (${kinds.join(", ").slice(0, 100)})`, raw: JSON.stringify(u).slice(0, 20_000) }];
}

/** The Bot API method and JSON body of a send. */
export function telegramSend(chat: string, o: Outbound): { method: string; body: Json } {
  switch (o.kind) {
    case "text":
      return { method: "sendMessage", body: { chat_id: chat, text: o.text } };
    case "media":
      return o.contentType.startsWith("image/")
        ? { method: "sendPhoto", body: { chat_id: chat, photo: o.url, ...(o.caption ? { caption: o.caption } : {}) } }
        : { method: "sendDocument", body: { chat_id: chat, document: o.url, ...(o.caption ? { caption: o.caption } : {}) } };
    case "template":
      throw new Error("templates are a WhatsApp send");
  }
}
