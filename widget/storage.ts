// The chat survives a page reload: sessionStorage (per tab), keyed by tenant.
import type { Stored } from "./types.ts";

const key = (tenant: string) => `parley-chat:${tenant}`;
const MAX_MESSAGES = 200;

export function load(tenant: string): Stored | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(key(tenant)) ?? "null") as Stored | null;
    if (!s || s.tenant !== tenant || !s.chatId || !s.token) return null;
    if (expiry(s.expiresAt) < Date.now()) return clear(tenant);
    s.pending ??= [];
    s.messages ??= [];
    s.lastSeq ??= 0;
    return s;
  } catch {
    return null;
  }
}

/** When a token expires, in ms; epoch seconds, epoch ms and ISO strings all work. NaN if unknown. */
export function expiry(v: number | string | undefined): number {
  return typeof v === "number" ? (v < 1e12 ? v * 1000 : v) : v ? Date.parse(v) : NaN;
}

export function save(s: Stored): void {
  try {
    sessionStorage.setItem(key(s.tenant), JSON.stringify({ ...s, messages: s.messages.slice(-MAX_MESSAGES) }));
  } catch {
    // storage full or disabled: the chat goes on, it just won't survive a reload
  }
}

export function clear(tenant: string): null {
  try {
    sessionStorage.removeItem(key(tenant));
  } catch {
    // disabled
  }
  return null;
}
