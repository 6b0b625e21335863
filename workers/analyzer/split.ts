// The held-out split a model is tested on: stratified (every category keeps its share), at least
// 10% of each category that has two examples or more, chosen by a seeded shuffle so the same
// examples give the same split. Pure.
import type { Example } from "./train.ts";
import { seededRandom } from "./random.ts";

export const HOLD_OUT = 0.1;

export function stratifiedSplit<T extends Example>(examples: readonly T[], share = HOLD_OUT, seed = 7): { train: T[]; test: T[] } {
  const byLabel = new Map<string, T[]>();
  for (const e of examples) {
    const list = byLabel.get(e.label);
    if (list) list.push(e);
    else byLabel.set(e.label, [e]);
  }
  const rnd = seededRandom(seed);
  const train: T[] = [];
  const test: T[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const list = byLabel.get(label)!;
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    // A category with a single example is all training: it could not be learned otherwise.
    const n = list.length < 2 ? 0 : Math.max(1, Math.ceil(list.length * share));
    test.push(...list.slice(0, n));
    train.push(...list.slice(n));
  }
  return { train, test };
}
