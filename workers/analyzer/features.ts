// Text → a sparse, hashed feature vector: word unigrams and bigrams plus character 3–5-grams inside
// words. Words come from Intl.Segmenter, so Chinese or Japanese text splits into words like any
// other; character n-grams carry typos, inflections and unsegmented scripts. Pure.

/** A sparse vector over `dim` hashed buckets, sorted by bucket; `origins` (when asked) says which
 *  word or word pair of the text each bucket came from. */
export interface Features {
  idx: Uint32Array;
  val: Float32Array;
  origins?: string[];
}

const segmenter = new Intl.Segmenter("und", { granularity: "word" });

/** Past this many words the rest of a text adds little to what it is about, and costs time. */
export const MAX_WORDS = 400;
const CHAR_GRAMS = [3, 4, 5] as const;
/** Character n-grams count for less than whole words: there are many more of them per text. */
const CHAR_WEIGHT = 0.5;

/** FNV-1a over UTF-16 code units: fast, stable across runtimes, good enough spread for feature hashing. */
export function bucket(s: string, dim: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & (dim - 1);
}

export function words(text: string): string[] {
  const out: string[] = [];
  for (const s of segmenter.segment(text.normalize("NFKC").toLowerCase())) {
    if (!s.isWordLike) continue;
    out.push(s.segment);
    if (out.length >= MAX_WORDS) break;
  }
  return out;
}

/** Raw counts per feature name, in the order first seen; `words` (when given) gets the word or word
 *  pair each feature came from, for explanations. */
export function featureCounts(text: string, origins?: Map<string, string>): Map<string, number> {
  const f = new Map<string, number>();
  const add = (k: string, from: string) => {
    f.set(k, (f.get(k) ?? 0) + 1);
    if (origins && !origins.has(k)) origins.set(k, from);
  };
  const ws = words(text);
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    add(`w:${w}`, w);
    if (i > 0) add(`b:${ws[i - 1]} ${w}`, `${ws[i - 1]} ${w}`);
    const padded = `<${w}>`;
    for (const n of CHAR_GRAMS) for (let j = 0; j + n <= padded.length; j++) add(`c:${padded.slice(j, j + n)}`, w);
  }
  return f;
}

/**
 * Hashed, sublinear-tf, idf-weighted, L2-normalised features. `idf` (one weight per bucket, from the
 * training set) may be omitted while it is being computed.
 */
export function featurize(text: string, dim: number, idf?: Float32Array, withNames = false): Features {
  const byBucket = new Map<number, { v: number; name: string }>();
  const origins = withNames ? new Map<string, string>() : undefined;
  for (const [name, count] of featureCounts(text, origins)) {
    const b = bucket(name, dim);
    const v = (1 + Math.log(count)) * (idf ? idf[b]! : 1) * (name.startsWith("c:") ? CHAR_WEIGHT : 1);
    const prev = byBucket.get(b);
    if (prev) prev.v += v;
    else byBucket.set(b, { v, name });
  }
  const keys = [...byBucket.keys()].sort((a, b) => a - b);
  const idx = new Uint32Array(keys.length);
  const val = new Float32Array(keys.length);
  let norm = 0;
  keys.forEach((k, i) => {
    const v = byBucket.get(k)!.v;
    idx[i] = k;
    val[i] = v;
    norm += v * v;
  });
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < val.length; i++) val[i]! /= norm;
  return origins ? { idx, val, origins: keys.map((k) => origins.get(byBucket.get(k)!.name)!) } : { idx, val };
}
