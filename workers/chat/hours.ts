// Opening hours: is the given moment inside the tenant's hours, in its time zone? Pure.
import type { ChatSettings } from "../config/schema.ts";
import { DAYS } from "../config/schema.ts";

export function isOpen(hours: ChatSettings["hours"], now: Date): boolean {
  if (!hours) return true;
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: hours.timezone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(now);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  const day = DAYS[["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday"))];
  const span = day ? hours.days[day] : undefined;
  if (!span) return false;
  const hm = `${get("hour").padStart(2, "0")}:${get("minute").padStart(2, "0")}`;
  // An end before the start runs past midnight (a night shift).
  return span[0] <= span[1] ? hm >= span[0] && hm < span[1] : hm >= span[0] || hm < span[1];
}
