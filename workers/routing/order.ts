// View order and strategy timing. Pure.
import type { Target } from "../config/schema.ts";

export interface AgingRule {
  everySeconds: number;
  step: number;
  max: number;
}

/** Priority with aging: every `everySeconds` waited adds `step`, up to `max` extra. */
export function effectivePriority(priority: number, enteredAt: number, now: number, aging: AgingRule): number {
  const waited = Math.max(0, now - enteredAt);
  const bonus = Math.min(aging.max, Math.floor(waited / (aging.everySeconds * 1000)) * aging.step);
  return priority + bonus;
}

/** SQL ORDER BY for the same rule, so the queue's storage returns items in view order.
 *  Bind: ?1 = now (ms). Columns: boost, priority, entered_at. */
export function viewOrderSql(aging: AgingRule): string {
  const every = Math.max(1, Math.trunc(aging.everySeconds)) * 1000;
  const step = Math.trunc(aging.step);
  const max = Math.trunc(aging.max);
  return `boost DESC, (priority + MIN(${max}, ((MAX(0, ?1 - entered_at)) / ${every}) * ${step})) DESC, entered_at ASC, seq ASC`;
}

export interface TargetAt<T> {
  index: number;
  target: T;
  /** When the next target takes over (ms), or undefined on the last target. */
  overflowAt?: number;
}

/** Which strategy target applies after waiting since `since`: each target holds for its timeout, then overflows. */
export function currentTarget<T extends Pick<Target, "timeoutSeconds">>(targets: readonly T[], since: number, now: number): TargetAt<T> {
  let at = since;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    const last = i === targets.length - 1;
    if (last || t.timeoutSeconds === undefined) return { index: i, target: t, overflowAt: last || t.timeoutSeconds === undefined ? undefined : at + t.timeoutSeconds * 1000 };
    const end = at + t.timeoutSeconds * 1000;
    if (now < end) return { index: i, target: t, overflowAt: end };
    at = end;
  }
  throw new Error("a strategy needs at least one target");
}

/** What view order compares of a waiting item. */
export interface OrderKey {
  boost: number;
  priority: number;
  entered_at: number;
  seq: number;
}

/** view order as a comparator: boost, then aged priority (higher first), then arrival. */
export function compareViewOrder(a: OrderKey, b: OrderKey, now: number, aging: AgingRule): number {
  if (a.boost !== b.boost) return b.boost - a.boost;
  const pa = effectivePriority(a.priority, a.entered_at, now, aging);
  const pb = effectivePriority(b.priority, b.entered_at, now, aging);
  if (pa !== pb) return pb - pa;
  return a.entered_at - b.entered_at || a.seq - b.seq;
}

/** The first `limit` items in view order, from one stream per (boost, priority) group, each in arrival
 *  order. Within a group aging never reorders (an earlier arrival has waited longer, so its aged priority
 *  is at least as high), so the view order is a merge of the groups' heads: it reads about `limit` rows
 *  plus one per group, however many wait, where ordering them all by the aged priority reads every one. */
export function mergeViewOrder<T extends OrderKey>(streams: Iterator<T>[], now: number, aging: AgingRule, limit: number): T[] {
  const heads: { row: T; from: Iterator<T> }[] = [];
  for (const from of streams) {
    const n = from.next();
    if (!n.done) heads.push({ row: n.value, from });
  }
  const out: T[] = [];
  while (out.length < limit && heads.length > 0) {
    let best = 0;
    for (let i = 1; i < heads.length; i++) if (compareViewOrder(heads[i]!.row, heads[best]!.row, now, aging) < 0) best = i;
    const h = heads[best]!;
    out.push(h.row);
    const n = h.from.next();
    if (n.done) heads.splice(best, 1);
    else h.row = n.value;
  }
  return out;
}
