// A workflow's screening step: its rules tried in order over a message, their actions folded into
// one outcome. The first rule that routes decides the queue; a spam verdict ends screening. Pure.
import type { Attributes, ScreeningRule } from "../config/schema.ts";
import { evaluateScreening, parseScreening, type ScreenedMessage, type ScreeningExpr } from "./screening.ts";

export interface ScreenOutcome {
  queue?: string;
  priority?: number;
  categories: string[];
  attributes: Attributes;
  spam?: string;
  autoRespond: string[];
  /** Rules that matched, in order, for the interaction's history. */
  matched: string[];
}

const compiledRules = new WeakMap<ScreeningRule, ScreeningExpr>();

function compiled(rule: ScreeningRule): ScreeningExpr {
  let e = compiledRules.get(rule);
  if (!e) compiledRules.set(rule, (e = parseScreening(rule.when)));
  return e;
}

export function screen(rules: readonly ScreeningRule[], msg: ScreenedMessage): ScreenOutcome {
  const out: ScreenOutcome = { categories: [], attributes: {}, autoRespond: [], matched: [] };
  for (const rule of rules) {
    if (!evaluateScreening(compiled(rule), msg)) continue;
    out.matched.push(rule.name);
    for (const a of rule.actions) {
      switch (a.type) {
        case "route":
          out.queue ??= a.queue;
          break;
        case "setPriority":
          out.priority = a.priority;
          break;
        case "addCategory":
          if (!out.categories.includes(a.category)) out.categories.push(a.category);
          break;
        case "setAttributes":
          Object.assign(out.attributes, a.attributes);
          break;
        case "spam":
          out.spam = a.reason;
          break;
        case "autoRespond":
          if (!out.autoRespond.includes(a.response)) out.autoRespond.push(a.response);
          break;
      }
    }
    if (out.spam !== undefined) break;
  }
  return out;
}
