// The queue browser's filters, pure: what the supervisor typed, applied to a queue's view order.
import type { Media } from "../../shared/types.ts";
import type { QueueEntry } from "../api-types.ts";

export interface Filters {
  media: Media | "";
  state: QueueEntry["state"] | "";
  /** Minimum effective priority (with aging), as typed; empty for none. */
  minPriority: string;
  /** Text anywhere in the subject, case-insensitive. */
  text: string;
  /** Waiting longer than this many minutes, as typed; empty for none. */
  waitingMin: string;
}

export const NO_FILTERS: Filters = { media: "", state: "", minPriority: "", text: "", waitingMin: "" };

const num = (s: string): number | null => {
  const t = s.trim();
  if (!t) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
};

export function applyFilters(items: QueueEntry[], f: Filters): QueueEntry[] {
  const minP = num(f.minPriority);
  const minWait = num(f.waitingMin);
  const text = f.text.trim().toLowerCase();
  return items.filter(
    (it) =>
      (!f.media || it.media === f.media) &&
      (!f.state || it.state === f.state) &&
      (minP === null || it.effectivePriority >= minP) &&
      (!text || (it.item.subject ?? "").toLowerCase().includes(text)) &&
      (minWait === null || it.waitingMs > minWait * 60_000),
  );
}

export const isFiltered = (f: Filters) => Object.values(f).some((v) => v !== "");
