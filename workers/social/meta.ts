// Messenger and Instagram (the Graph API's messaging webhooks): entry[].messaging[] into the core's
// events (messages, echoes, reactions, edits, postbacks, delivery and read watermarks), and the
// core's sends into /me/messages bodies. Pure.
import type { Channel, InboundMessage, MediaRef, Outbound, SocialEvent } from "./types.ts";
import { arr, idOf, malformed, mapLink, MAX_EVENTS, num, obj, str, type Json } from "./json.ts";

/** Every numeric id a body names (pages, Instagram accounts, people), read before it is parsed to find whose app secret signs it. */
export const META_ACCOUNT = /"id"\s*:\s*"(\d{1,30})"/g;

/** Our own sends carry this metadata, so their echoes are known as ours. */
export const OUR_METADATA = "parley";

const TYPES: Record<string, string> = { image: "image/jpeg", video: "video/mp4", audio: "audio/mpeg", file: "application/octet-stream" };

function attachments(list: unknown[]): { media: MediaRef[]; notes: string[] } {
  const media: MediaRef[] = [];
  const notes: string[] = [];
  for (const [i, a] of list.slice(0, 10).entries()) {
    const o = obj(a);
    const type = str(o?.type, 30) ?? "unknown";
    const p = obj(o?.payload);
    const url = str(p?.url, 4000);
    if (TYPES[type] && url) media.push({ ref: url, contentType: TYPES[type], name: `${type}-${i + 1}${type === "image" ? ".jpg" : ""}` });
    else if (type === "location") {
      const c = obj(p?.coordinates);
      const lat = num(c?.lat);
      const lon = num(c?.long);
      notes.push(lat !== undefined && lon !== undefined ? mapLink(lat, lon) : "(a location)");
    } else if (type === "fallback" || type === "share" || type === "story_mention" || type === "ig_reel" || type === "reel") notes.push(url ?? str(p?.title, 500) ?? `(a ${type})`);
    else notes.push(`(an attachment of type ${type.slice(0, 30)})`);
  }
  return { media, notes };
}

/** Every event of a webhook body, in order. `object` says Messenger ("page") or Instagram ("instagram"). */
export function metaEvents(body: unknown): SocialEvent[] {
  const root = obj(body) ?? malformed("(body)", "expected an object");
  const object = str(root.object, 30);
  if (object !== "page" && object !== "instagram") malformed("object", "expected 'page' or 'instagram'");
  const channel: Channel = object === "page" ? "messenger" : "instagram";
  const entries = arr(root.entry) ?? malformed("entry", "expected an array");
  const events: SocialEvent[] = [];
  entries.forEach((e, i) => {
    const entry = obj(e) ?? malformed(`entry[${i}]`, "expected an object");
    const account = idOf(entry.id) ?? malformed(`entry[${i}].id`, "required");
    // Messages come in `messaging`; standby (another app holds the thread) too, and are kept.
    const list = arr(entry.messaging) ?? arr(entry.standby) ?? [];
    list.forEach((x, k) => {
      const at = `entry[${i}].messaging[${k}]`;
      const ev = obj(x) ?? malformed(at, "expected an object");
      const sender = idOf(obj(ev.sender)?.id);
      const recipient = idOf(obj(ev.recipient)?.id);
      const ts = num(ev.timestamp);
      if (!sender || !recipient || ts === undefined) malformed(at, "sender.id, recipient.id and timestamp are required");
      const m = obj(ev.message);
      if (m && m.is_echo === true) {
        const mid = str(m.mid, 300) ?? malformed(`${at}.message.mid`, "required");
        // Our own send's echo: already stored when the agent sent it.
        if (str(m.metadata, 1000)?.startsWith(OUR_METADATA)) return;
        events.push({ type: "echo", channel, account, user: recipient, providerId: mid, at: ts, text: str(m.text) ?? "(sent from the page's inbox)" });
        return;
      }
      const base = { type: "message" as const, channel, account, user: sender, userName: null, at: ts, media: [] as MediaRef[] };
      if (m) {
        const mid = str(m.mid, 300) ?? malformed(`${at}.message.mid`, "required");
        const { media, notes } = attachments(arr(m.attachments) ?? []);
        const text = [str(m.text) ?? str(obj(m.quick_reply)?.payload, 1000) ?? "", ...notes].filter(Boolean).join("\n");
        const unsupported = m.is_unsupported === true;
        events.push({
          ...base, providerId: mid, kind: media.length ? (media[0]!.contentType.startsWith("image/") ? "image" : media[0]!.contentType.startsWith("video/") ? "video" : media[0]!.contentType.startsWith("audio/") ? "audio" : "document") : notes.length && !m.text ? "location" : "text",
          text: unsupported ? "(a message this desk cannot show)" : text, media,
          ...(unsupported ? { kind: "unknown" as const, flagged: "unsupported Messenger message", raw: JSON.stringify(m).slice(0, 20_000) } : {}),
        } satisfies InboundMessage);
        return;
      }
      const reaction = obj(ev.reaction);
      if (reaction) {
        const about = str(reaction.mid, 300);
        const emoji = str(reaction.emoji, 50) ?? str(reaction.reaction, 50) ?? "";
        events.push({ ...base, providerId: `reaction:${about ?? ""}:${sender}:${ts}`, kind: "reaction", text: reaction.action === "unreact" ? "removed a reaction" : `reacted ${emoji}`, ...(about ? { about } : {}) });
        return;
      }
      const edit = obj(ev.message_edit);
      if (edit) {
        const about = str(edit.mid, 300);
        events.push({ ...base, providerId: `edit:${about ?? ""}:${num(edit.num_edit) ?? ts}`, kind: "edit", text: str(edit.text) ?? "", ...(about ? { about } : {}) });
        return;
      }
      const postback = obj(ev.postback);
      if (postback) {
        events.push({ ...base, providerId: str(postback.mid, 300) ?? `postback:${sender}:${ts}`, kind: "interactive", text: str(postback.title, 1000) ?? str(postback.payload, 1000) ?? "(a button)" });
        return;
      }
      const delivery = obj(ev.delivery);
      const read = obj(ev.read);
      if (delivery || read) {
        const w = num((delivery ?? read)!.watermark);
        if (w !== undefined) events.push({ type: "status", channel, account, providerId: null, user: sender, status: read ? "read" : "delivered", at: ts, upTo: w });
        return;
      }
      // Opt-ins, referrals, handovers and whatever comes next: kept raw and flagged, never a stop.
      events.push({ ...base, providerId: `other:${sender}:${ts}:${k}`, kind: "unknown", text: "(an event this desk cannot show)", flagged: `unsupported ${channel} event (${Object.keys(ev).filter((x) => !["sender", "recipient", "timestamp"].includes(x)).join(", ").slice(0, 100)})`, raw: JSON.stringify(ev).slice(0, 20_000) });
    });
    if (events.length > MAX_EVENTS) malformed(`entry[${i}]`, `more than ${MAX_EVENTS} events in one webhook`);
  });
  return events;
}

/** The JSON body of POST /me/messages (Send API). Between 24 hours and 7 days, a human agent's reply carries HUMAN_AGENT. */
export function metaSend(user: string, o: Outbound, ref: string): Json {
  const base = { recipient: { id: user }, messaging_type: "RESPONSE" };
  const metadata = `${OUR_METADATA}:${ref}`;
  switch (o.kind) {
    case "text":
      return o.tag ? { ...base, messaging_type: "MESSAGE_TAG", tag: o.tag, message: { text: o.text, metadata } } : { ...base, message: { text: o.text, metadata } };
    case "media": {
      const type = o.contentType.startsWith("image/") ? "image" : o.contentType.startsWith("video/") ? "video" : o.contentType.startsWith("audio/") ? "audio" : "file";
      return { ...base, message: { attachment: { type, payload: { url: o.url, is_reusable: false } }, metadata } };
    }
    case "template":
      // Messenger has no WhatsApp-style templates here: refused before it gets this far.
      throw new Error("templates are a WhatsApp send");
  }
}
