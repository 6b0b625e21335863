// A tenant's configured account for a channel and provider id, with what the core needs of it: the
// workflow, the idle time, the API base and the names of its secrets. Pure.
import type { TenantConfig } from "../config/schema.ts";
import type { MetaAccount, TelegramBot, WhatsAppAccount } from "../config/social.ts";
import type { Channel } from "./types.ts";

export type AccountConfig =
  | { channel: "whatsapp"; id: string; cfg: WhatsAppAccount }
  | { channel: "messenger" | "instagram"; id: string; cfg: MetaAccount }
  | { channel: "telegram"; id: string; cfg: TelegramBot };

export function accountFor(config: TenantConfig, channel: Channel, id: string): AccountConfig | null {
  const s = config.social;
  if (!s) return null;
  if (channel === "whatsapp") {
    const a = s.whatsapp.find((x) => x.phoneNumberId === id);
    return a ? { channel, id, cfg: a } : null;
  }
  if (channel === "telegram") {
    const a = s.telegram.find((x) => x.botId === id);
    return a ? { channel, id, cfg: a } : null;
  }
  const a = s.meta.find((x) => (channel === "messenger" ? x.pageId === id : x.instagramId === id));
  return a ? { channel, id, cfg: a } : null;
}

export const CHANNEL_NAMES: Record<Channel, string> = { whatsapp: "WhatsApp", messenger: "Messenger", instagram: "Instagram", telegram: "Telegram" };

/** An API base without its trailing slash. */
export const apiBase = (a: AccountConfig) => a.cfg.apiBase.replace(/\/+$/, "");
