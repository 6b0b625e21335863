// WhatsApp Cloud API: the webhook's envelope (entry[].changes[].value with messages, statuses and
// errors) into the core's events, and the core's sends into /{phone-number-id}/messages bodies. Pure.
import type { Delivery, InboundMessage, MediaRef, MessageKind, Outbound, SocialEvent, StatusUpdate } from "./types.ts";
import { arr, idOf, malformed, mapLink, MAX_EVENTS, num, obj, str, type Json } from "./json.ts";

/** The account ids a body names, read before it is parsed (to find whose app secret signs it). */
export const WHATSAPP_ACCOUNT = /"phone_number_id"\s*:\s*"(\d{1,30})"/g;

const MEDIA: Partial<Record<string, string>> = { image: "image/jpeg", audio: "audio/ogg", video: "video/mp4", document: "application/octet-stream", sticker: "image/webp" };
const STATUSES: Record<string, Delivery> = { sent: "sent", delivered: "delivered", read: "read", failed: "failed" };

const e164 = (waId: string) => `+${waId.replace(/^\+/, "")}`;

function message(m: Json, account: string, names: Map<string, string>, path: string): InboundMessage {
  const id = str(m.id, 300);
  const from = idOf(m.from);
  const ts = num(m.timestamp);
  if (!id || !from || ts === undefined) malformed(path, "a message needs id, from and timestamp");
  const type = str(m.type, 50) ?? "unknown";
  const base = { type: "message" as const, channel: "whatsapp" as const, account, user: e164(from), userName: names.get(from) ?? null, providerId: id, at: ts * 1000, media: [] as MediaRef[] };
  const body = obj(m[type]);
  const kind = (k: MessageKind, text: string, extra: Partial<InboundMessage> = {}): InboundMessage => ({ ...base, kind: k, text, ...extra });
  switch (type) {
    case "text":
      return kind("text", str(body?.body) ?? "");
    case "image":
    case "audio":
    case "video":
    case "document":
    case "sticker": {
      const mediaId = idOf(body?.id) ?? str(body?.id, 200);
      const contentType = (str(body?.mime_type, 100) ?? MEDIA[type]!).split(";")[0]!.trim().toLowerCase();
      const name = str(body?.filename, 200) ?? `${type}.${contentType.split("/")[1]?.replace(/[^a-z0-9]/g, "").slice(0, 8) || "bin"}`;
      return kind(type, str(body?.caption) ?? "", { media: mediaId ? [{ ref: mediaId, contentType, name }] : [] });
    }
    case "location": {
      const lat = num(body?.latitude);
      const lon = num(body?.longitude);
      const label = [str(body?.name, 500), str(body?.address, 1000)].filter(Boolean).join(", ");
      return lat !== undefined && lon !== undefined ? kind("location", `${label ? `${label}: ` : ""}${mapLink(lat, lon)}`) : kind("unknown", "(a location without coordinates)", { flagged: "location without coordinates", raw: JSON.stringify(m) });
    }
    case "contacts": {
      const cards = (arr(m.contacts) ?? []).slice(0, 20).map((c) => {
        const o = obj(c);
        const name = str(obj(o?.name)?.formatted_name, 300) ?? "(no name)";
        const phones = (arr(o?.phones) ?? []).map((p) => str(obj(p)?.phone, 50)).filter(Boolean);
        return `${name}${phones.length ? ` (${phones.join(", ")})` : ""}`;
      });
      return kind("contact", `Shared contact: ${cards.join("; ")}`);
    }
    case "reaction": {
      const about = str(body?.message_id, 300);
      const emoji = str(body?.emoji, 50) ?? "";
      return kind("reaction", emoji ? `reacted ${emoji}` : "removed a reaction", about ? { about } : {});
    }
    case "interactive": {
      const reply = obj(body?.button_reply) ?? obj(body?.list_reply) ?? obj(body?.nfm_reply);
      return kind("interactive", str(reply?.title, 1000) ?? str(reply?.body, 4000) ?? "(an interactive reply)");
    }
    case "button":
      return kind("interactive", str(obj(m.button)?.text, 1000) ?? "(a button)");
    default:
      // "unsupported", "order", "system" and whatever Meta adds next: kept raw and flagged, never a stop.
      return kind("unknown", `(a ${type.slice(0, 30)} message this desk cannot show)`, { flagged: `unsupported WhatsApp type '${type.slice(0, 50)}'`, raw: JSON.stringify(m).slice(0, 20_000) });
  }
}

function status(s: Json, account: string, path: string): StatusUpdate | null {
  const id = str(s.id, 300);
  const st = STATUSES[str(s.status, 30) ?? ""];
  const ts = num(s.timestamp);
  if (!id || ts === undefined) malformed(path, "a status needs id and timestamp");
  if (!st) return null;
  const err = obj(arr(s.errors)?.[0]);
  const error = err ? `${num(err.code) ?? ""} ${str(err.title, 300) ?? ""} ${str(obj(err.error_data)?.details, 500) ?? ""}`.trim() : undefined;
  return { type: "status", channel: "whatsapp", account, providerId: id, user: e164(idOf(s.recipient_id) ?? "0"), status: st, at: ts * 1000, ...(error ? { error } : {}) };
}

/** Every event of a webhook body, in the body's order; `errors` (webhook-level failures Meta reports) are logged by the caller. */
export function whatsappEvents(body: unknown): { events: SocialEvent[]; errors: string[] } {
  const root = obj(body) ?? malformed("(body)", "expected an object");
  const entries = arr(root.entry) ?? malformed("entry", "expected an array");
  const events: SocialEvent[] = [];
  const errors: string[] = [];
  entries.forEach((e, i) => {
    const changes = arr(obj(e)?.changes) ?? malformed(`entry[${i}].changes`, "expected an array");
    changes.forEach((c, j) => {
      const at = `entry[${i}].changes[${j}].value`;
      const value = obj(obj(c)?.value) ?? malformed(at, "expected an object");
      const account = idOf(obj(value.metadata)?.phone_number_id) ?? malformed(`${at}.metadata.phone_number_id`, "required");
      const names = new Map<string, string>();
      for (const ct of arr(value.contacts) ?? []) {
        const o = obj(ct);
        const wa = idOf(o?.wa_id);
        const name = str(obj(o?.profile)?.name, 200);
        if (wa && name) names.set(wa, name);
      }
      (arr(value.messages) ?? []).forEach((m, k) => events.push(message(obj(m) ?? malformed(`${at}.messages[${k}]`, "expected an object"), account, names, `${at}.messages[${k}]`)));
      (arr(value.statuses) ?? []).forEach((s, k) => {
        const u = status(obj(s) ?? malformed(`${at}.statuses[${k}]`, "expected an object"), account, `${at}.statuses[${k}]`);
        if (u) events.push(u);
      });
      for (const er of arr(value.errors) ?? []) errors.push(`${num(obj(er)?.code) ?? ""} ${str(obj(er)?.title, 300) ?? ""}`.trim());
      if (events.length > MAX_EVENTS) malformed(at, `more than ${MAX_EVENTS} events in one webhook`);
    });
  });
  return { events, errors };
}

/** The JSON body of POST /{phone-number-id}/messages. */
export function whatsappSend(to: string, o: Outbound): Json {
  const base = { messaging_product: "whatsapp", recipient_type: "individual", to: to.replace(/^\+/, "") };
  switch (o.kind) {
    case "text":
      return { ...base, type: "text", text: { body: o.text, preview_url: false } };
    case "media": {
      const type = o.contentType.startsWith("image/") ? "image" : o.contentType.startsWith("video/") ? "video" : o.contentType.startsWith("audio/") ? "audio" : "document";
      return { ...base, type, [type]: { link: o.url, ...(type === "document" ? { filename: o.name } : {}), ...(o.caption && type !== "audio" ? { caption: o.caption } : {}) } };
    }
    case "template":
      return {
        ...base,
        type: "template",
        template: { name: o.name, language: { code: o.language }, ...(o.params.length ? { components: [{ type: "body", parameters: o.params.map((text) => ({ type: "text", text })) }] } : {}) },
      };
  }
}
