// Password strength: zxcvbn-ts with a common-password list and the keyboard graphs (no language
// dictionaries, to keep the Worker small). Pure: no bindings.
//
// The list is cut down from @zxcvbn-ts/language-common's 49,233 passwords (~200 KiB gzipped, two
// thirds of the Worker's upload) to 6,611 (~18 KiB): the 1,000 most common, the listed ones that are
// one of those plus digits ("garcia1"), and every other listed password of 8+ characters zxcvbn would
// otherwise score MIN_PASSWORD_SCORE or more, so still no password on the full list is accepted.
// What the cut gives up: words ranked past 1,000 no longer count as dictionary words inside longer
// passwords ("<a rank-20,000 word>12!" can now pass). 1,000 rather than 2,000 keeps the Worker
// within its 300 KiB budget with room (issue 18). workers/auth/common-passwords.ts is generated
// by scripts/gen-common-passwords.ts, which says how.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs } from "@zxcvbn-ts/language-common";
import { COMMON_PASSWORDS_ENCODED } from "./common-passwords.ts";

/** zxcvbn's score, 0–4: 3 is "safely unguessable" (about 10^8 guesses, or more), the least accepted. */
export const MIN_PASSWORD_SCORE = 3;
export const MIN_PASSWORD_LENGTH = 8;

/** zxcvbn's prefix coding: a capital letter (A = 0, B = 1, ...) counts the characters kept from the word before. */
function decodeList(text: string): string[] {
  const parts = text.split(/([A-Z])/);
  const words: string[] = [];
  let last = "";
  for (let i = 1; i < parts.length; i += 2) words.push((last = last.slice(0, parts[i]!.charCodeAt(0) - 65) + parts[i + 1]!));
  return words;
}

let factory: ZxcvbnFactory | undefined;
const estimator = () => (factory ??= new ZxcvbnFactory({ dictionary: { "passwords-common": decodeList(COMMON_PASSWORDS_ENCODED) }, graphs: adjacencyGraphs }));

/** Why a password is too weak, or null. `related` are words an attacker would try first (login, name, tenant). */
export function weakPasswordReason(password: string, related: string[] = []): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  const r = estimator().check(password, related.filter((w) => w.length >= 3).map((w) => w.toLowerCase()));
  if (r.score >= MIN_PASSWORD_SCORE) return null;
  // feedback.warning is a translation key (no language pack is bundled): the score says enough.
  return `too easy to guess (strength ${r.score} of 4, at least ${MIN_PASSWORD_SCORE} needed); use a longer passphrase that is not a common password, a keyboard pattern or the agent's name`;
}
