// The `classify` step's decisions, from a classification and the tenant's thresholds: which
// categories the interaction carries, where it goes, which skill it needs, its priority, and whether
// the top category's standard response goes out automatically. Pure.
import type { ClassifyStep, StandardResponse } from "../config/schema.ts";

/** The attribute that carries a category's skill requirement to the queue (and shows it to the agent). */
export const REQUIRED_SKILLS = "required_skills";

export interface Classified {
  categories: { id: string; confidence: number }[];
  outOfScope: boolean;
}

export interface Thresholds {
  autoRespond: number | null;
  route: number;
}

export interface ClassifyDecision {
  /** Categories at or above the routing threshold, most likely first. */
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
  const categories = c.categories.filter((x) => x.confidence >= t.route).map((x) => x.id);
  const top = c.categories[0]!;
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
