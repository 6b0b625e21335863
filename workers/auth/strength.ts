// Password strength: zxcvbn-ts with the common-password list and keyboard graphs (no language
// dictionaries, to keep the Worker small). Pure: no bindings.
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";

/** zxcvbn's score, 0–4: 3 is "safely unguessable" (about 10^8 guesses, or more), the least accepted. */
export const MIN_PASSWORD_SCORE = 3;
export const MIN_PASSWORD_LENGTH = 8;

let factory: ZxcvbnFactory | undefined;
const estimator = () => (factory ??= new ZxcvbnFactory({ dictionary: { "passwords-common": dictionary["passwords-common"] }, graphs: adjacencyGraphs }));

/** Why a password is too weak, or null. `related` are words an attacker would try first (login, name, tenant). */
export function weakPasswordReason(password: string, related: string[] = []): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `at least ${MIN_PASSWORD_LENGTH} characters`;
  const r = estimator().check(password, related.filter((w) => w.length >= 3).map((w) => w.toLowerCase()));
  if (r.score >= MIN_PASSWORD_SCORE) return null;
  // feedback.warning is a translation key (no language pack is bundled): the score says enough.
  return `too easy to guess (strength ${r.score} of 4, at least ${MIN_PASSWORD_SCORE} needed); use a longer passphrase that is not a common password, a keyboard pattern or the agent's name`;
}
