// Workflow steps are data: evaluated here, in order, when an interaction enters a queue. Pure.
import type { Attributes, Step } from "../config/schema.ts";
import { parseSkillExpr } from "../routing/skills.ts";
import type { RoutableTarget } from "../routing/select.ts";

export interface CompiledTarget extends RoutableTarget {
  priority?: number;
  timeoutSeconds?: number;
}

export type Outcome =
  | { kind: "route"; targets: CompiledTarget[] }
  | { kind: "forward"; queue: string }
  | { kind: "stop"; reason: string }
  /** No terminal step: the interaction waits in the queue until someone acts on it (review, holding queues). */
  | { kind: "hold" };

export interface WorkItemFields {
  priority: number;
  attributes: Attributes;
  categories: string[];
}

export interface StepResult extends WorkItemFields {
  outcome: Outcome;
  /** SMS texts the steps send to the interaction's customer (SMS interactions only; the queue sends them). */
  sms: string[];
  /** One line per step applied, for the interaction's history. */
  trace: string[];
}

export function compileTargets(step: Extract<Step, { type: "route" }>): CompiledTarget[] {
  return step.targets.map((t) => ({ expr: parseSkillExpr(t.skills), skills: t.skills, pick: t.pick, priority: t.priority, timeoutSeconds: t.timeoutSeconds }));
}

export function runSteps(steps: readonly Step[], item: WorkItemFields): StepResult {
  let { priority } = item;
  const attributes = { ...item.attributes };
  const categories = [...item.categories];
  const trace: string[] = [];
  const sms: string[] = [];
  for (const st of steps) {
    switch (st.type) {
      case "setPriority":
        priority = st.priority;
        trace.push(`priority set to ${st.priority}`);
        break;
      case "setAttributes":
        Object.assign(attributes, st.attributes);
        trace.push(`attributes set: ${Object.keys(st.attributes).join(", ")}`);
        break;
      case "addCategory":
        if (!categories.includes(st.category)) categories.push(st.category);
        trace.push(`category ${st.category}`);
        break;
      case "forward":
        trace.push(`forward to ${st.queue}`);
        return { priority, attributes, categories, trace, sms, outcome: { kind: "forward", queue: st.queue } };
      case "stop":
        trace.push(`stopped: ${st.reason}`);
        return { priority, attributes, categories, trace, sms, outcome: { kind: "stop", reason: st.reason } };
      case "route":
        trace.push(`route over ${st.targets.length} target(s)`);
        return { priority, attributes, categories, trace, sms, outcome: { kind: "route", targets: compileTargets(st) } };
      case "sendSms":
        sms.push(st.text);
        trace.push("SMS sent to the customer");
        break;
    }
  }
  return { priority, attributes, categories, trace, sms, outcome: { kind: "hold" } };
}
