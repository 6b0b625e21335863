// The `classify` step's decisions, from a classification and the tenant's thresholds: which
// categories the interaction carries, where it goes, which skill it needs, its priority, and whether
// the top category's standard response goes out automatically. Pure.
import type { ClassifyStep, StandardResponse } from "../config/schema.ts";

/** The attribute that carries a category's skill requirement to the queue (and shows it to the agent). */
export const REQUIRED_SKILLS = "required_skills";

/** The least confidence a category other than the top one needs to join: the routing threshold is
 *  read off the top category's curve, and can be near 0 on a small held-out set, where every
 *  category would join and every rule's skills would bind the work. */
export const SECONDARY_AT = 0.3;

export interface Classified {
  categories: { id: string; confidence: number }[];
  outOfScope: boolean;
}

export interface Thresholds {
  autoRespond: number | null;
  route: number;
}

export interface ClassifyDecision {
  /** The top category at or above the routing threshold, and any other at or above both it and SECONDARY_AT, most likely first. */
  categories: string[];
  queue?: string;
  priority?: number;
  skills?: string;
  /** The standard response to send automatically. */
  autoRespond?: string;
  trace: string[];
}

export function decideClassification(step: ClassifyStep, c: Classified | null, t: Thresholds, responses: readonly StandardResponse[]): ClassifyDecision {
  if (!c) return { categories: [], trace: ["classify: no active model"] };
  if (c.outOfScope || !c.categories.length) return { categories: [], trace: ["classify: none of the categories"] };
  const top = c.categories[0]!;
  const categories = c.categories.filter((x) => x.confidence >= t.route && (x === top || x.confidence >= SECONDARY_AT)).map((x) => x.id);
  const out: ClassifyDecision = { categories, trace: [`classify: ${top.id} (${Math.round(top.confidence * 100)}%)`] };
  const skills: string[] = [];
  for (const r of step.rules) {
    if (!categories.includes(r.category)) continue;
    if (r.queue !== undefined && out.queue === undefined) out.queue = r.queue;
    if (r.priority !== undefined) out.priority = Math.max(out.priority ?? -Infinity, r.priority);
    if (r.skills !== undefined) skills.push(`(${r.skills})`);
    out.trace.push(`classify rule ${r.category}`);
  }
  if (skills.length) out.skills = skills.join(" & ");
  if (step.autoRespond && t.autoRespond !== null && top.confidence >= t.autoRespond) {
    const response = responses.find((r) => r.category === top.id);
    if (response) {
      out.autoRespond = response.id;
      out.trace.push(`classify: automatic reply ${response.id}`);
    }
  }
  return out;
}
