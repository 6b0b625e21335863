// The `classify` workflow step at an ingress (email, forms, SMS, chat): classifies the new work's
// text with the tenant's active model and decides what follows (workers/workflow/classify.ts). A
// model that cannot be loaded never costs the customer's message: the work goes on unclassified.
import type { CompiledConfig } from "../config/compiled.ts";
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

export async function classifyStep(env: Env, tenant: string, cfg: CompiledConfig, wf: Workflow, subject: string | null | undefined, body: string | null | undefined): Promise<ClassifyOutcome | null> {
  if (!wf.classify) return null;
  const text = classifiedText(subject, body);
  const active = await activeModel(env, tenant).catch((err: unknown) => {
    console.error(`classifier of ${tenant} unavailable; work goes on unclassified`, err);
    return null;
  });
  const result = active && text ? classifyWith(active, text) : null;
  const decision = decideClassification(wf.classify, result, active?.thresholds ?? { autoRespond: null, route: 1 }, cfg.raw.standardResponses);
  return { decision, result, text };
}

/** The fields a classification adds to new work. */
export function classifiedFields(o: ClassifyOutcome | null, base: { queue: string; priority: number; categories: string[]; attributes: Record<string, string | number | boolean> }) {
  if (!o) return base;
  const d = o.decision;
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
