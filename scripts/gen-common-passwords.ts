// node scripts/gen-common-passwords.ts: writes workers/auth/common-passwords.ts, the cut-down
// common-password list the Worker's strength check (workers/auth/strength.ts) ranks passwords with.
//
// Why: @zxcvbn-ts/language-common's full list (49,233 passwords, most common first) is ~200 KiB of
// the Worker's gzipped upload, two thirds of it. The cut keeps what the check needs most:
//   1. the TOP most common passwords: they are also the words longer passwords are built from
//      ("monkey" in "Monkey2024!"), and zxcvbn ranks a match by its position in the list;
//   2. every other listed password that is one of those words followed by digits ("garcia1",
//      "dragon12"): word-then-digits is the commonest way passwords are made, and zxcvbn counts a
//      listed "garcia1" as one guessable piece, where "garcia" + "1" costs a second piece (x10^4);
//   3. every other listed password that the estimator would otherwise ACCEPT (score >= 3): so no
//      password on the full list passes, the property a verbatim list attack tests. Most of the
//      tail needs no entry for that: 8 characters or fewer fail on length or brute force, and dates,
//      digit runs, keyboard walks and repeats are caught by zxcvbn's other matchers.
// Order: a password's position is its rank (zxcvbn's guesses for a dictionary match). Sorting shares
// prefixes, which makes the list ~25% smaller gzipped, so the TOP passwords are sorted within bands
// of ranks [2^k, 2^(k+1)) (a rank moves by less than 2x: 0.3 in the log10 of the guesses, whose
// score bands are 2 wide), and the ones kept by steps 2 and 3 follow as one sorted block: their rank
// is at most the list's length, mostly far below their full-list rank (stricter), at worst length/TOP
// times above it. Step 3 is run again on the final list until nothing is added, so its claim holds.
//
// The text is zxcvbn's own prefix coding: each word is one capital letter (A = 0, B = 1, ...: the
// number of leading characters it shares with the word before) and the rest of the word.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import { writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";

/** How many of the most common passwords are kept (step 1). The whole list, gzipped: TOP 1000 -> 18.2 KiB,
 *  2000 -> 22.3 KiB, 3000 -> 25.9 KiB (each word of the top also brings its digit variants). */
export const TOP = 1000;
/** zxcvbn's score the Worker requires (workers/auth/strength.ts MIN_PASSWORD_SCORE). */
const MIN_SCORE = 3;
/** Shorter passwords are refused before the estimator runs (strength.ts MIN_PASSWORD_LENGTH). */
const MIN_LENGTH = 8;

/** Sorts each band of positions [2^k, 2^(k+1)) (1-based) alphabetically. */
export function banded(list: readonly string[]): string[] {
  const out: string[] = [];
  for (let lo = 1; lo <= list.length; lo *= 2) out.push(...list.slice(lo - 1, 2 * lo - 1).sort());
  return out;
}

/** The kept passwords (in the full list's order) as ranked: the top ones banded, the rest one sorted block. */
export function ordered(kept: readonly string[], top: number): string[] {
  return [...banded(kept.slice(0, top)), ...kept.slice(top).sort()];
}

/** zxcvbn's prefix coding (the inverse of @zxcvbn-ts/dictionary-compression's decompress). */
export function prefixEncode(words: readonly string[]): string {
  let out = "";
  let last = "";
  for (const w of words) {
    if (!/^[^A-Z]+$/.test(w)) throw new Error(`cannot encode ${JSON.stringify(w)}: capital letters are the separators`);
    let shared = 0;
    while (shared < 25 && shared < last.length && shared < w.length && last[shared] === w[shared]) shared++;
    out += String.fromCharCode(65 + shared) + w.slice(shared);
    last = w;
  }
  return out;
}

export function prefixDecode(text: string): string[] {
  const parts = text.split(/([A-Z])/);
  const words: string[] = [];
  let last = "";
  for (let i = 1; i < parts.length; i += 2) words.push((last = last.slice(0, parts[i]!.charCodeAt(0) - 65) + parts[i + 1]!));
  return words;
}

export interface Cut {
  words: string[];
  /** How many each step kept. */
  top: number;
  suffixed: number;
  accepted: number;
}

export function cutList(full: readonly string[], top = TOP): Cut {
  const kept = new Set(full.slice(0, top));
  const suffixed = full.filter((w) => !kept.has(w) && kept.has(w.replace(/\d+$/, "")) && /^[a-z]+\d+$/.test(w));
  for (const w of suffixed) kept.add(w);
  const candidates = full.filter((w) => w.length >= MIN_LENGTH);
  let accepted = 0;
  for (;;) {
    const words = ordered(full.filter((w) => kept.has(w)), top);
    const zxcvbn = new ZxcvbnFactory({ dictionary: { "passwords-common": words }, graphs: adjacencyGraphs });
    const passing = candidates.filter((w) => zxcvbn.check(w).score >= MIN_SCORE);
    if (passing.length === 0) return { words, top, suffixed: suffixed.length, accepted };
    const listed = passing.filter((w) => kept.has(w));
    if (listed.length > 0) throw new Error(`accepted although listed (a band moved its rank too far): ${listed.slice(0, 5).join(", ")}`);
    for (const w of passing) kept.add(w);
    accepted += passing.length;
  }
}

function main(): void {
  const full = dictionary["passwords-common"] as string[];
  const cut = cutList(full);
  const text = prefixEncode(cut.words);
  if (prefixDecode(text).join("\n") !== cut.words.join("\n")) throw new Error("prefix coding does not round-trip");
  const kib = (s: string) => (gzipSync(s, { level: 9 }).byteLength / 1024).toFixed(1);
  const summary = `${cut.words.length} of its ${full.length} passwords: the ${cut.top} most common, the ${cut.suffixed} that are one of those followed by digits, and the ${cut.accepted} others of ${MIN_LENGTH}+ characters zxcvbn would otherwise score ${MIN_SCORE}+. ${kib(text)} KiB gzipped (the full list: ${kib(prefixEncode(full))} KiB).`;
  const out = `// GENERATED by \`node scripts/gen-common-passwords.ts\` from @zxcvbn-ts/language-common's "passwords-common"; do not edit.
// ${summary.replace(/(.{1,100})(?: |$)/g, "$1\n// ").replace(/\n\/\/ $/, "")}
// The script says why and how. zxcvbn's prefix coding: a capital letter = characters shared with the word before.
export const COMMON_PASSWORDS_ENCODED =
  ${JSON.stringify(text)};
`;
  writeFileSync(new URL("../workers/auth/common-passwords.ts", import.meta.url), out);
  console.log(`workers/auth/common-passwords.ts: ${summary}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
