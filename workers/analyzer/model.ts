// A trained model: multinomial logistic regression over hashed features, weights quantised to one
// byte each. Its size is fixed by its shape, dim × categories bytes plus dim × 4 for the idf,
// whatever the number of training examples. Predicting is one pass over the text's features. Pure.
import { featurize, type Features } from "./features.ts";

/** The reserved label of examples that belong to none of the tenant's categories. */
export const OUT_OF_SCOPE = "_none";

export interface Model {
  labels: string[];
  dim: number;
  idf: Float32Array;
  /** Row-major by bucket: weights[b * labels.length + c], times scales[c]. */
  weights: Int8Array;
  scales: Float32Array;
  bias: Float32Array;
  /** Softmax temperature fitted on held-out data, so confidences read as probabilities. */
  temperature: number;
}

export interface Scored {
  label: string;
  confidence: number;
}

export interface Explanation {
  /** A word of the text, with everything derived from it (its pieces, the word pairs it is in). */
  feature: string;
  weight: number;
}

export interface Prediction {
  /** Every label, most likely first; confidences sum to 1. */
  ranked: Scored[];
  /** The words that pushed the top label up, strongest first. */
  explanation: Explanation[];
}

export function modelBytes(m: Pick<Model, "dim" | "labels">): number {
  return m.dim * m.labels.length + m.dim * 4 + m.labels.length * 8 + 8;
}

export function scores(m: Model, f: Features): Float64Array {
  const C = m.labels.length;
  const z = new Float64Array(C);
  for (let i = 0; i < f.idx.length; i++) {
    const row = f.idx[i]! * C;
    const x = f.val[i]!;
    for (let c = 0; c < C; c++) z[c]! += m.weights[row + c]! * x;
  }
  for (let c = 0; c < C; c++) z[c] = z[c]! * m.scales[c]! + m.bias[c]!;
  return z;
}

export function softmax(z: ArrayLike<number>, temperature = 1): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) max = Math.max(max, z[i]!);
  const p = new Float64Array(z.length);
  let sum = 0;
  for (let i = 0; i < z.length; i++) sum += p[i] = Math.exp((z[i]! - max) / temperature);
  for (let i = 0; i < z.length; i++) p[i]! /= sum;
  return p;
}

export function predict(m: Model, text: string, explain = 5): Prediction {
  const f = featurize(text, m.dim, m.idf, explain > 0);
  const p = softmax(scores(m, f), m.temperature);
  const order = [...p.keys()].sort((a, b) => p[b]! - p[a]!);
  const ranked = order.map((c) => ({ label: m.labels[c]!, confidence: p[c]! }));
  return { ranked, explanation: f.origins ? explanation(m, f, order[0]!, explain) : [] };
}

/** What pushed `label` up, by word of the text: a word's own weight, its pieces', and half of each
 *  word pair it is in; words that pushed it down are left out. */
function explanation(m: Model, f: Features, label: number, n: number): Explanation[] {
  const C = m.labels.length;
  const byWord = new Map<string, number>();
  const add = (w: string, x: number) => byWord.set(w, (byWord.get(w) ?? 0) + x);
  for (let i = 0; i < f.idx.length; i++) {
    const x = m.weights[f.idx[i]! * C + label]! * m.scales[label]! * f.val[i]!;
    const from = f.origins![i]!;
    const pair = from.split(" ");
    if (pair.length === 2) for (const w of pair) add(w, x / 2);
    else add(from, x);
  }
  return [...byWord]
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([feature, weight]) => ({ feature, weight: Math.round(weight * 1000) / 1000 }));
}

/** Float weights → one signed byte each, scaled per label (the largest weight of a label is ±127). */
export function quantize(w: Float32Array, labels: number): { weights: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(labels);
  for (let i = 0; i < w.length; i++) {
    const c = i % labels;
    scales[c] = Math.max(scales[c]!, Math.abs(w[i]!));
  }
  for (let c = 0; c < labels; c++) scales[c] = scales[c]! / 127 || 1;
  const weights = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) weights[i] = Math.round(w[i]! / scales[i % labels]!);
  return { weights, scales };
}

// Serialised form: a JSON header line (labels, dim, temperature) then the arrays, 4-byte aligned.
const MAGIC = "parley-model-1";

export function serialize(m: Model): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ magic: MAGIC, labels: m.labels, dim: m.dim, temperature: m.temperature }));
  const headLen = Math.ceil((header.length + 4) / 4) * 4;
  const C = m.labels.length;
  const out = new Uint8Array(headLen + m.dim * 4 + C * 8 + m.weights.length);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  let at = headLen;
  for (const arr of [m.idf, m.scales, m.bias]) {
    out.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), at);
    at += arr.byteLength;
  }
  out.set(new Uint8Array(m.weights.buffer, m.weights.byteOffset, m.weights.byteLength), at);
  return out;
}

export function deserialize(bytes: Uint8Array): Model {
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  const len = view.getUint32(0, true);
  const head = JSON.parse(new TextDecoder().decode(copy.subarray(4, 4 + len))) as { magic: string; labels: string[]; dim: number; temperature: number };
  if (head.magic !== MAGIC) throw new Error("not a parley model");
  const C = head.labels.length;
  let at = copy.byteOffset + Math.ceil((len + 4) / 4) * 4;
  const take = (n: number) => {
    const a = new Float32Array(copy.buffer, at, n);
    at += n * 4;
    return a;
  };
  const idf = take(head.dim);
  const scales = take(C);
  const bias = take(C);
  const weights = new Int8Array(copy.buffer, at, head.dim * C);
  return { labels: head.labels, dim: head.dim, temperature: head.temperature, idf, scales, bias, weights };
}
