// What a social channel adds to a chat on screen: the channel's icon, a message's media inline (image,
// audio and video players, documents as downloads), its delivery state, whether it came late, and
// what it was (a location, a reaction, an edit, a flagged unknown). Used by the desk and the console.
import type { ChatFrameMessage } from "./types.ts";
import { bytes } from "./format.ts";

const CHANNELS: Record<string, { name: string; glyph: string }> = {
  whatsapp: { name: "WhatsApp", glyph: "WA" },
  messenger: { name: "Messenger", glyph: "M" },
  instagram: { name: "Instagram", glyph: "IG" },
  telegram: { name: "Telegram", glyph: "TG" },
  sms: { name: "SMS", glyph: "SMS" },
  mms: { name: "MMS", glyph: "MMS" },
  email: { name: "Email", glyph: "@" },
  chat: { name: "Web chat", glyph: "W" },
  webform: { name: "Web form", glyph: "F" },
};

export const SOCIAL_CHANNELS = new Set(["whatsapp", "messenger", "instagram", "telegram"]);

export const channelName = (c: string) => CHANNELS[c]?.name ?? c;

/** The channel's icon: a small coloured mark with its name for screen readers and on hover. */
export function ChannelIcon(props: { channel: string | null | undefined }) {
  const c = props.channel;
  if (!c || !CHANNELS[c]) return null;
  return (
    <span class={`channel channel-${c}`} role="img" aria-label={CHANNELS[c].name} title={CHANNELS[c].name} data-channel={c}>
      {CHANNELS[c].glyph}
    </span>
  );
}

const DELIVERY: Record<string, string> = { sending: "sending…", sent: "✓ sent", delivered: "✓✓ delivered", read: "✓✓ read", failed: "not delivered" };

/** A staff message's delivery state on a social channel. */
export function DeliveryState(props: { m: ChatFrameMessage; social: boolean }) {
  if (!props.social || props.m.role === "customer" || props.m.kind === "notice" || props.m.visibility !== "all") return null;
  const d = props.m.extra?.delivery ?? "sending";
  return (
    <span class={`delivery ${d}`} data-delivery={d} title={props.m.extra?.error ?? ""}>
      {DELIVERY[d] ?? d}
      {d === "failed" && props.m.extra?.error ? `: ${props.m.extra.error}` : ""}
    </span>
  );
}

/** The body of a message: media inline, a pending one marked, a reaction or an edit with what it is about. */
export function MessageBody(props: { m: ChatFrameMessage }) {
  const { m } = props;
  const x = m.extra;
  if (m.kind === "file" && m.file) {
    const f = m.file;
    if (f.type.startsWith("image/") && f.type !== "image/svg+xml") return <img class="inline-media" src={f.url} alt={f.name} loading="lazy" />;
    if (f.type.startsWith("audio/")) return <audio class="inline-media" controls src={f.url} aria-label={f.name} />;
    if (f.type.startsWith("video/")) return <video class="inline-media" controls src={f.url} aria-label={f.name} />;
    return (
      <a href={f.url} target="_blank" rel="noopener noreferrer" download={f.name}>
        {f.name} ({bytes(f.size)})
      </a>
    );
  }
  if (x?.media) return <span class="muted" data-media={x.media}>{m.text} ({x.media === "pending" ? "media still being fetched…" : x.media === "expired" ? "media expired at the provider" : "media not stored"})</span>;
  if (x?.kind === "reaction") return <span>{m.text}{x.about ? <span class="muted"> to “{x.about}”</span> : null}</span>;
  if (x?.kind === "edit") return <span>{m.text} <span class="muted">(edited{x.about ? `; was “${x.about}”` : ""})</span></span>;
  if (x?.kind === "location") {
    const link = /https:\/\/www\.openstreetmap\.org\/\S+/.exec(m.text)?.[0];
    return link ? <span>{m.text.slice(0, m.text.indexOf(link))}<a href={link} target="_blank" rel="noopener noreferrer">📍 map</a></span> : <span>{m.text}</span>;
  }
  return <>{m.text}</>;
}

/** The conversation in the provider's order (a late message where it belongs); others as they came. */
export const inOrder = (list: ChatFrameMessage[], social: boolean) => (social ? [...list].sort((a, b) => a.at - b.at || a.seq - b.seq) : list);
