// Whether an agent's reply waits for QA review before it goes out. Pure.
import type { Review } from "../config/schema.ts";

export interface ReviewCase {
  author: string;
  /** The queue the answered work came through. */
  queue: string | null;
  requested: boolean;
  /** A number in [0, 100) drawn for the sample. */
  draw: number;
}

export function reviewDecision(r: Review | undefined, c: ReviewCase): { review: boolean; why: string } {
  if (c.requested) return { review: true, why: "requested by the author" };
  if (!r) return { review: false, why: "no review in this workflow" };
  if (r.agents.includes(c.author)) return { review: true, why: `every reply by ${c.author} is reviewed` };
  if (c.queue && r.queues.includes(c.queue)) return { review: true, why: `every reply to work from ${c.queue} is reviewed` };
  if (c.draw < r.samplePercent) return { review: true, why: `sampled (${r.samplePercent}% of replies)` };
  return { review: false, why: "not sampled" };
}
