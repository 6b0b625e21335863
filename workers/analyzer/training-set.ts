// A tenant's training objects as the trainer takes them: the stored examples whose category is in
// the tree (or is "none of these"), plus the text of each category's standard responses, field
// codes removed. Pure.
import type { Category, StandardResponse } from "../config/schema.ts";
import { OUT_OF_SCOPE } from "./model.ts";
import { classifiedText } from "./text.ts";
import type { Example } from "./train.ts";

/** The newest this many examples train a model: far more than a category needs. */
export const MAX_TRAINING_EXAMPLES = 100_000;

const FIELD_CODE = /<\$[\s\S]*?\$>/g;

export function responseExample(r: StandardResponse): string {
  return classifiedText(r.subject?.replace(FIELD_CODE, " "), `${r.name}\n${r.text.replace(FIELD_CODE, " ")}`);
}

export function trainingSet(categories: readonly Category[], responses: readonly StandardResponse[], stored: readonly { text: string; category: string }[]): { examples: Example[]; skipped: number } {
  const known = new Set([...categories.map((c) => c.id), OUT_OF_SCOPE]);
  const examples: Example[] = [];
  let skipped = 0;
  for (const e of stored) {
    if (known.has(e.category)) examples.push({ text: e.text, label: e.category });
    else skipped++;
  }
  for (const r of responses) if (r.category !== undefined && known.has(r.category)) examples.push({ text: responseExample(r), label: r.category });
  return { examples, skipped };
}
