// Small display helpers shared by the desktop and the console.

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

export const time = (at: number | string | null | undefined): string => {
  if (at === null || at === undefined) return "";
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
};

export const clock = (at: number): string => new Date(at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });

/** The time of day, with the date when it was not today (a social message written yesterday, delivered now). */
export const stamp = (at: number, now = Date.now()): string =>
  new Date(at).toDateString() === new Date(now).toDateString() ? clock(at) : new Date(at).toLocaleString(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

export function bytes(n: number | null | undefined): string {
  if (!n) return "0 B";
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

export const pct = (v: number | null | undefined): string => (v === null || v === undefined ? "–" : `${v.toFixed(1)}%`);

export const mediaLabel: Record<string, string> = { email: "Email", webform: "Web form", chat: "Chat", sms: "SMS", callback: "Callback", generic: "Task" };
