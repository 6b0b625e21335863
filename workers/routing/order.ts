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
