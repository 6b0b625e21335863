// The `classify` workflow step at an ingress (email, forms, SMS, chat): classifies the new work's
// text with the tenant's active model and decides what follows (workers/workflow/classify.ts). A
// model that cannot be loaded never costs the customer's message: the work goes on unclassified.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import type { Media } from "../config/schema.ts";
import type { Workflow } from "../config/schema.ts";
import { decideClassification, REQUIRED_SKILLS, type ClassifyDecision } from "../workflow/classify.ts";
import { classificationStatement } from "../ucs/classifier.ts";
import type { EventGuard } from "../ucs/events.ts";
import { activeModel, classifyWith, type ClassifyResult } from "./serve.ts";
import { classifiedText } from "./text.ts";

/** What is kept of the classified text, for the agent's feedback to train on. */
const KEPT_TEXT_CHARS = 4000;

export interface ClassifyOutcome {
  decision: ClassifyDecision;
  result: ClassifyResult | null;
  text: string;
}

export async function classifyStep(env: TenantEnv, tenant: string, cfg: CompiledConfig, wf: Workflow, subject: string | null | undefined, body: string | null | undefined): Promise<ClassifyOutcome | null> {
  if (!wf.classify) return null;
  const text = classifiedText(subject, body);
  const active = await activeModel(env, tenant).catch((err: unknown) => {
    console.error(`classifier of ${tenant} unavailable; work goes on unclassified`, err);
    return null;
  });
  const result = active && text ? classifyWith(active, text) : null;
  const decision = decideClassification(wf.classify, result, active?.thresholds ?? { autoRespond: null, route: 1 }, cfg.raw.standardResponses);
  if (active && !text) decision.trace = ["classify: no text to classify"];
  return { decision, result, text };
}

/** The fields a classification adds to new work. A category's queue applies only if it takes the
 *  work's media (a workflow serves several doors; the rule cannot know them all when it is written). */
export function classifiedFields(o: ClassifyOutcome | null, base: { queue: string; priority: number; categories: string[]; attributes: Record<string, string | number | boolean> }, takes: (queue: string) => boolean) {
  if (!o) return base;
  const d = o.decision;
  if (d.queue !== undefined && !takes(d.queue)) {
    d.trace.push(`classify: queue ${d.queue} does not take this media; kept in ${base.queue}`);
    d.queue = undefined;
  }
  return {
    queue: d.queue ?? base.queue,
    priority: d.priority !== undefined ? Math.max(base.priority, d.priority) : base.priority,
    categories: [...new Set([...base.categories, ...d.categories])],
    attributes: d.skills ? { ...base.attributes, [REQUIRED_SKILLS]: d.skills } : base.attributes,
  };
}

export function classificationWrite(db: D1Database, tenant: string, interactionId: string, o: ClassifyOutcome, at: number, guard?: EventGuard): D1PreparedStatement {
  return classificationStatement(db, tenant, interactionId, {
    modelVersion: o.result?.model ?? null, categories: o.result?.categories ?? [], outOfScope: o.result?.outOfScope ?? false, explanation: o.result?.explanation ?? [],
    text: o.text.slice(0, KEPT_TEXT_CHARS), createdAt: at,
  }, guard);
}

/** Whether a queue of the tenant takes this media: for classifiedFields. */
export const queueTakes = (cfg: CompiledConfig, media: Media) => (queue: string) => cfg.queues.get(queue)?.config.media.includes(media) ?? false;
