// The Content Analyzer's pure core: features, text preparation, training (and resuming it), the
// model's bytes, the held-out split, the test report and the classify step's decisions.
import { describe, expect, it } from "vitest";
import { featurize, words } from "../../workers/analyzer/features.ts";
import { deserialize, modelBytes, OUT_OF_SCOPE, predict, serialize } from "../../workers/analyzer/model.ts";
import { dimFor, distinctFeatures, Trainer } from "../../workers/analyzer/train.ts";
import { stratifiedSplit } from "../../workers/analyzer/split.ts";
import { evaluate, thresholdsFrom, type CurvePoint } from "../../workers/analyzer/report.ts";
import { classifiedText, ownText } from "../../workers/analyzer/text.ts";
import { responseExample, trainingSet } from "../../workers/analyzer/training-set.ts";
import { decideClassification } from "../../workers/workflow/classify.ts";
import { EXAMPLES, PROBES } from "../fixtures/classifier/examples.ts";

const toExamples = (rows: { text: string; category: string }[]) => rows.map((r) => ({ text: r.text, label: r.category }));
const SMALL = { dim: 1 << 14 };

function trained(opts = SMALL) {
  const t = new Trainer(toExamples(EXAMPLES), opts);
  while (!t.run(1000));
  return t.model();
}

describe("features", () => {
  it("splits Chinese and Japanese into words with Intl.Segmenter, and normalises width and case", () => {
    expect(words("我想退款").length).toBeGreaterThan(1);
    expect(words("パスワードを忘れました").length).toBeGreaterThan(1);
    expect(words("ＲＥＦＵＮＤ Please")).toEqual(["refund", "please"]);
  });

  it("is an L2-normalised sparse vector, sorted by bucket, the same every time", () => {
    const a = featurize("Refund my double charge", 1 << 12);
    const b = featurize("Refund my double charge", 1 << 12);
    expect([...a.idx]).toEqual([...b.idx]);
    expect([...a.idx]).toEqual([...a.idx].sort((x, y) => x - y));
    const norm = Math.sqrt([...a.val].reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 5);
  });
});

describe("own text", () => {
  it("drops quoted lines, the attribution and everything after it, and the signature", () => {
    const body = "Thanks, but I still cannot log in.\n\nOn Tue, 3 Dec 2026, Support <help@shop.example> wrote:\n> Your refund was sent.\n> Regards";
    expect(ownText(body)).toBe("Thanks, but I still cannot log in.");
    expect(ownText("Where is my parcel?\n-- \nAna Lopez\nACME Corp")).toBe("Where is my parcel?");
    expect(ownText("Cancel please\n\nSent from my iPhone")).toBe("Cancel please");
    expect(ownText("My order is late\n\nFrom: Shop <orders@shop.example>\nSent: Monday\nSubject: Your order")).toBe("My order is late");
  });

  it("keeps a bare forward's quoted text, since that is all there is", () => {
    expect(ownText("> My invoice is wrong\n> please fix")).toBe("My invoice is wrong\nplease fix");
  });

  it("classifies by subject and body together, and standard responses lose their field codes", () => {
    expect(classifiedText("Refund", "Please")).toBe("Refund\nPlease");
    expect(responseExample({ id: "r", name: "Refund policy", category: "billing", text: "Hello <$ Contact.FirstName $>, refunds take 5 days." })).not.toContain("<$");
  });
});

describe("training and predicting", () => {
  it("learns the fixture: every probe gets its category, an off-topic question gets none of them", () => {
    const m = trained();
    for (const p of PROBES) expect(predict(m, p.text).ranked[0]!.label, p.text).toBe(p.category);
    expect(predict(m, "What is the weather in Berlin today?").ranked[0]!.label).toBe(OUT_OF_SCOPE);
  });

  it("gives confidences that sum to one, and explains the decision by the words that drove it", () => {
    const m = trained();
    const p = predict(m, "I was charged two times, please refund me");
    expect(p.ranked.reduce((s, r) => s + r.confidence, 0)).toBeCloseTo(1, 6);
    expect(p.explanation.length).toBeGreaterThan(0);
    expect(p.explanation.map((e) => e.feature).join(" ")).toMatch(/charg|refund/);
    for (let i = 1; i < p.explanation.length; i++) expect(p.explanation[i - 1]!.weight).toBeGreaterThanOrEqual(p.explanation[i]!.weight);
  });

  it("resumed from a checkpoint, ends with exactly the weights of an uninterrupted run", () => {
    const ex = toExamples(EXAMPLES);
    const whole = new Trainer(ex, SMALL);
    while (!whole.run(10_000));
    const first = new Trainer(ex, SMALL);
    first.run(123);
    expect(first.progress.done).toBeGreaterThan(0);
    expect(first.finished).toBe(false);
    const resumed = new Trainer(ex, SMALL, first.checkpoint());
    expect(resumed.progress).toEqual(first.progress);
    while (!resumed.run(77));
    expect(serialize(resumed.model())).toEqual(serialize(whole.model()));
  });

  it("refuses a checkpoint made for other examples", () => {
    const t = new Trainer(toExamples(EXAMPLES), SMALL);
    t.run(10);
    expect(() => new Trainer(toExamples(EXAMPLES.slice(0, 20)), SMALL, t.checkpoint())).toThrow(/does not match/);
  });

  it("serialises to dim × labels bytes plus the idf, and reads back to the same predictions", () => {
    const m = trained();
    const bytes = serialize(m);
    expect(bytes.byteLength).toBeLessThanOrEqual(modelBytes(m) + 256);
    const back = deserialize(bytes);
    expect(back.labels).toEqual(m.labels);
    for (const p of PROBES) expect(predict(back, p.text).ranked).toEqual(predict(m, p.text).ranked);
    expect(() => deserialize(new Uint8Array(64))).toThrow();
  });

  it("sizes the hash space so the model stays within its byte budget", () => {
    expect(dimFor(5)).toBe(1 << 18);
    expect(dimFor(151)).toBe(1 << 15);
    expect(dimFor(151) * 151).toBeLessThanOrEqual(8 << 20);
    expect(dimFor(100_000)).toBe(1 << 12);
    // A small tenant's model: four buckets per distinct feature, not the whole budget.
    expect(dimFor(5, distinctFeatures(EXAMPLES.map((e) => e.text)))).toBeLessThan(1 << 18);
    expect(dimFor(5, 3000)).toBe(1 << 14);
  });
});

describe("held-out split", () => {
  it("holds out at least 10% of each category with two examples or more, the same way every time", () => {
    const ex = [...toExamples(EXAMPLES), { text: "lonely", label: "solo" }];
    const a = stratifiedSplit(ex);
    const b = stratifiedSplit(ex);
    expect(a.test.map((e) => e.text)).toEqual(b.test.map((e) => e.text));
    for (const label of ["billing", "password", "shipping", "cancel", OUT_OF_SCOPE]) {
      const n = ex.filter((e) => e.label === label).length;
      expect(a.test.filter((e) => e.label === label).length).toBeGreaterThanOrEqual(Math.ceil(n * 0.1));
    }
    expect(a.train.some((e) => e.label === "solo")).toBe(true);
    expect(a.test.some((e) => e.label === "solo")).toBe(false);
    expect(a.train.length + a.test.length).toBe(ex.length);
  });
});

describe("test report", () => {
  it("scores per category and macro, top-3, out-of-scope recall and the curve", () => {
    const m = trained();
    const test = [...toExamples(PROBES), { text: "Who won the tennis final?", label: OUT_OF_SCOPE }];
    const r = evaluate(m, test, { outOfScopeBelow: 0.05, autoRespondPrecision: 0.85 });
    expect(r.examples).toBe(5);
    expect(r.accuracy).toBe(1);
    expect(r.top3).toBe(1);
    expect(r.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
    expect(r.categories.find((c) => c.id === "billing")).toEqual({ id: "billing", precision: 1, recall: 1, f1: 1, support: 1 });
    expect(r.outOfScope).toEqual({ examples: 1, recall: 1 });
    expect(r.curve).toHaveLength(21);
    for (let i = 1; i < r.curve.length; i++) expect(r.curve[i]!.recall).toBeLessThanOrEqual(r.curve[i - 1]!.recall);
    expect(r.confusions).toEqual([]);
  });

  it("names the pairs confused more than 20% of the time", () => {
    const m = trained();
    // Billing probes filed as "cancel": every one of them is "confused" with billing.
    const test = [
      { text: "I was charged two times, please refund me", label: "cancel" },
      { text: "Why is my invoice so high", label: "cancel" },
      ...toExamples(PROBES).filter((p) => p.label !== "cancel"),
    ];
    const r = evaluate(m, test, { outOfScopeBelow: 0, autoRespondPrecision: 0.85 });
    expect(r.confusions[0]).toMatchObject({ actual: "cancel", predicted: "billing", count: 2, rate: 1 });
    expect(r.categories.find((c) => c.id === "cancel")!.recall).toBe(0);
  });

  it("reads the thresholds off the curve: auto-reply where precision reaches the target, routing where precision meets recall", () => {
    const curve: CurvePoint[] = [0, 0.25, 0.5, 0.75, 1].map((threshold, i) => ({ threshold, precision: [0.7, 0.8, 0.9, 0.95, 1][i]!, recall: [0.9, 0.85, 0.8, 0.6, 0][i]!, coverage: 1 - threshold }));
    expect(thresholdsFrom(curve, 0.85)).toEqual({ autoRespond: 0.5, route: 0.25 });
    expect(thresholdsFrom(curve, 0.99)).toEqual({ autoRespond: 1, route: 0.25 });
    expect(thresholdsFrom(curve.map((p) => ({ ...p, precision: 0.5 })).slice(0, 4), 0.85).autoRespond).toBeNull();
  });
});

describe("training objects", () => {
  it("take stored examples of known categories and the standard responses filed under one, and count the rest as skipped", () => {
    const set = trainingSet(
      [{ id: "billing", name: "Billing" }],
      [{ id: "refund", name: "Refund policy", category: "billing", text: "Refunds take five days" }, { id: "hello", name: "Hello", text: "Hi" }],
      [{ text: "invoice wrong", category: "billing" }, { text: "off topic", category: OUT_OF_SCOPE }, { text: "old", category: "removed" }],
    );
    expect(set.examples.map((e) => e.label)).toEqual(["billing", OUT_OF_SCOPE, "billing"]);
    expect(set.skipped).toBe(1);
  });
});

describe("the classify step's decisions", () => {
  const step = { autoRespond: true, rules: [{ category: "billing", queue: "billing", priority: 5 }, { category: "password", skills: "tech >= 2" }, { category: "billing", skills: "vip" }] };
  const responses = [{ id: "refund-policy", name: "Refund policy", category: "billing", text: "…" }];
  const t = { autoRespond: 0.8, route: 0.4 };

  it("routes, raises priority and requires skills by category, and replies automatically only above the threshold", () => {
    const d = decideClassification(step, { categories: [{ id: "billing", confidence: 0.9 }, { id: "password", confidence: 0.05 }], outOfScope: false }, t, responses);
    expect(d).toMatchObject({ categories: ["billing"], queue: "billing", priority: 5, skills: "(vip)", autoRespond: "refund-policy" });
    const unsure = decideClassification(step, { categories: [{ id: "billing", confidence: 0.6 }], outOfScope: false }, t, responses);
    expect(unsure.autoRespond).toBeUndefined();
    expect(unsure.queue).toBe("billing");
  });

  it("does nothing below the routing threshold, for out-of-scope text, without a model, or with auto-reply off", () => {
    expect(decideClassification(step, { categories: [{ id: "billing", confidence: 0.3 }], outOfScope: false }, t, responses)).toMatchObject({ categories: [] });
    expect(decideClassification(step, { categories: [{ id: "billing", confidence: 0.9 }], outOfScope: true }, t, responses)).toMatchObject({ categories: [] });
    expect(decideClassification(step, null, t, responses).categories).toEqual([]);
    expect(decideClassification({ ...step, autoRespond: false }, { categories: [{ id: "billing", confidence: 0.99 }], outOfScope: false }, t, responses).autoRespond).toBeUndefined();
    expect(decideClassification(step, { categories: [{ id: "billing", confidence: 0.99 }], outOfScope: false }, { ...t, autoRespond: null }, responses).autoRespond).toBeUndefined();
  });

  it("joins the skills of every matching rule", () => {
    const d = decideClassification(step, { categories: [{ id: "billing", confidence: 0.5 }, { id: "password", confidence: 0.45 }], outOfScope: false }, t, responses);
    expect(d.skills).toBe("(tech >= 2) & (vip)");
  });

  it("takes a second category only when it is a real second reading, even with a routing threshold of 0", () => {
    const d = decideClassification(step, { categories: [{ id: "billing", confidence: 0.8 }, { id: "password", confidence: 0.15 }], outOfScope: false }, { ...t, route: 0 }, responses);
    expect(d).toMatchObject({ categories: ["billing"], queue: "billing", skills: "(vip)" });
    const low = decideClassification(step, { categories: [{ id: "password", confidence: 0.2 }, { id: "billing", confidence: 0.1 }], outOfScope: false }, { ...t, route: 0 }, responses);
    expect(low).toMatchObject({ categories: ["password"], skills: "(tech >= 2)" });
  });
});
