// Training: softmax regression by stochastic gradient descent with AdaGrad step sizes, in slices.
// `run(budget)` does at most `budget` example updates and returns, so a caller under a CPU limit
// (a Durable Object alarm) trains a few thousand at a time; `checkpoint()` and `resume` carry the
// state across slices and evictions, and the result is the same as one uninterrupted run. Pure.
import { featureCounts, featurize, type Features } from "./features.ts";
import { quantize, type Model } from "./model.ts";
import { seededRandom } from "./random.ts";

export interface Example {
  text: string;
  label: string;
}

export interface TrainOptions {
  /** Hash buckets, a power of two. */
  dim: number;
  epochs: number;
  seed: number;
  /** AdaGrad base step. */
  rate: number;
  /** L2 penalty per update. */
  l2: number;
}

export const DEFAULT_TRAINING: TrainOptions = { dim: 1 << 15, epochs: 10, seed: 1, rate: 0.15, l2: 1e-6 };

/**
 * A Model costs dim × labels bytes. The hash space is four buckets per distinct feature of the
 * training text (few collisions), a power of two, at most what fits `budgetBytes`: so a small tenant's
 * model is small, and a large one's is bounded whatever the number of examples.
 */
export function dimFor(labels: number, distinctFeatures = Infinity, budgetBytes = 8 << 20, min = 1 << 12, max = 1 << 18): number {
  let dim = max;
  while (dim > min && (dim * labels > budgetBytes || dim / 2 >= distinctFeatures * 4)) dim >>= 1;
  return dim;
}

/** How many different features these texts have (for dimFor). */
export function distinctFeatures(texts: Iterable<string>): number {
  const seen = new Set<string>();
  for (const t of texts) for (const k of featureCounts(t).keys()) seen.add(k);
  return seen.size;
}

function permutation(n: number, seed: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rnd = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

export interface Progress {
  epoch: number;
  position: number;
  /** 0..1 */
  done: number;
}

export class Trainer {
  readonly labels: string[];
  readonly opts: TrainOptions;
  readonly idf: Float32Array;
  private readonly x: Features[];
  private readonly y: Uint16Array;
  private readonly w: Float32Array;
  private readonly g: Float32Array;
  private readonly bias: Float32Array;
  private epoch = 0;
  private pos = 0;
  private order: Uint32Array;

  constructor(examples: readonly Example[], opts: Partial<TrainOptions> = {}, resume?: Uint8Array) {
    this.opts = { ...DEFAULT_TRAINING, ...opts };
    const { dim } = this.opts;
    this.labels = [...new Set(examples.map((e) => e.label))].sort();
    const li = new Map(this.labels.map((l, i) => [l, i]));
    this.y = Uint16Array.from(examples, (e) => li.get(e.label)!);
    // Document frequency per bucket → smoothed idf; then each vector re-weighted and re-normalised.
    const raw = examples.map((e) => featurize(e.text, dim));
    const df = new Uint32Array(dim);
    for (const f of raw) for (const b of f.idx) df[b]!++;
    this.idf = new Float32Array(dim);
    for (let b = 0; b < dim; b++) this.idf[b] = Math.log((examples.length + 1) / (df[b]! + 1)) + 1;
    this.x = raw.map((f) => reweigh(f, this.idf));
    const C = this.labels.length;
    this.w = new Float32Array(dim * C);
    this.g = new Float32Array(dim * C);
    this.bias = new Float32Array(C);
    if (resume) this.restore(resume);
    this.order = permutation(this.x.length, this.opts.seed + this.epoch);
  }

  get progress(): Progress {
    const total = this.opts.epochs * this.x.length || 1;
    return { epoch: this.epoch, position: this.pos, done: Math.min(1, (this.epoch * this.x.length + this.pos) / total) };
  }

  get finished(): boolean {
    return this.epoch >= this.opts.epochs;
  }

  /** At most `budget` example updates. Returns true when training is complete. */
  run(budget: number): boolean {
    const C = this.labels.length;
    const { rate, l2 } = this.opts;
    const z = new Float64Array(C);
    while (budget-- > 0 && !this.finished) {
      const i = this.order[this.pos]!;
      const f = this.x[i]!;
      z.set(this.bias);
      for (let k = 0; k < f.idx.length; k++) {
        const row = f.idx[k]! * C;
        const v = f.val[k]!;
        for (let c = 0; c < C; c++) z[c]! += this.w[row + c]! * v;
      }
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, z[c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += z[c] = Math.exp(z[c]! - max);
      const yi = this.y[i]!;
      for (let c = 0; c < C; c++) {
        const grad = z[c]! / sum - (c === yi ? 1 : 0);
        // Classes the example says nothing about (probability ~0) are skipped: most of them, after an epoch.
        if (grad > -1e-5 && grad < 1e-5) continue;
        this.bias[c]! -= 0.05 * grad;
        for (let k = 0; k < f.idx.length; k++) {
          const j = f.idx[k]! * C + c;
          const gr = grad * f.val[k]! + l2 * this.w[j]!;
          const acc = (this.g[j] = this.g[j]! + gr * gr);
          this.w[j]! -= (rate * gr) / Math.sqrt(acc + 1e-8);
        }
      }
      if (++this.pos >= this.x.length) {
        this.pos = 0;
        this.epoch++;
        this.order = permutation(this.x.length, this.opts.seed + this.epoch);
      }
    }
    return this.finished;
  }

  /** The whole training state, to resume after an eviction. */
  checkpoint(): Uint8Array {
    const head = new Uint32Array([this.epoch, this.pos, this.w.length, this.bias.length]);
    const out = new Uint8Array(16 + this.bias.byteLength + this.w.byteLength * 2);
    out.set(new Uint8Array(head.buffer), 0);
    out.set(new Uint8Array(this.bias.buffer), 16);
    out.set(new Uint8Array(this.w.buffer), 16 + this.bias.byteLength);
    out.set(new Uint8Array(this.g.buffer), 16 + this.bias.byteLength + this.w.byteLength);
    return out;
  }

  private restore(bytes: Uint8Array): void {
    const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const head = new Uint32Array(b.buffer, b.byteOffset, 4);
    if (head[2] !== this.w.length || head[3] !== this.bias.length) throw new Error("checkpoint does not match these examples");
    this.epoch = head[0]!;
    this.pos = head[1]!;
    let at = b.byteOffset + 16;
    this.bias.set(new Float32Array(b.buffer, at, this.bias.length));
    at += this.bias.byteLength;
    this.w.set(new Float32Array(b.buffer, at, this.w.length));
    at += this.w.byteLength;
    this.g.set(new Float32Array(b.buffer, at, this.g.length));
  }

  model(temperature = 1): Model {
    const { weights, scales } = quantize(this.w, this.labels.length);
    return { labels: this.labels, dim: this.opts.dim, idf: this.idf, weights, scales, bias: Float32Array.from(this.bias), temperature };
  }
}

function reweigh(f: Features, idf: Float32Array): Features {
  const val = new Float32Array(f.val.length);
  let norm = 0;
  for (let i = 0; i < val.length; i++) norm += (val[i] = f.val[i]! * idf[f.idx[i]!]!) ** 2;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < val.length; i++) val[i]! /= norm;
  return { idx: f.idx, val };
}
