// Subjects and thread tags. A thread tag ("[#K7Q2M]") rides in the subject of every mail Parley sends, so a
// customer's reply finds its thread even when the mail client dropped In-Reply-To and References. Pure.

/** Reply and forward prefixes in the languages mail clients write them: Re, Aw (German), Sv/Vs (Nordic),
 *  Antw (Dutch), Réf/Ref (French), Rif (Italian), Odp (Polish), Fwd/Fw, WG (German), TR (French),
 *  Doorst (Dutch), Enc/RV (Spanish, Portuguese), 回复/答复/转发 (Chinese); with a counter ("Re[2]:", "RE(3):"),
 *  a space before the colon or a full-width colon. */
const PREFIX = /^(?:re|aw|sv|vs|antw|réf|ref|rif|odp|fwd|fw|wg|tr|doorst|enc|rv|回复|答复|转发)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*/iu;
const LIST_TAG = /^\[[^\]\n]*\]\s*/u;

const ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
// No "u" flag: with it, "i" would fold non-ASCII look-alikes (ſ, K) into the alphabet.
const TAG_ANYWHERE = /\[#([2-9A-HJKMNP-TV-Z]{5})\]/gi;
const VALID_TAG = /^[2-9A-HJKMNP-TV-Z]{5}$/;

/** Strips our thread tags, and reply/forward prefixes wherever they follow only other prefixes or list tags
 *  ("Re: [users] AW: Hello" → "[users] Hello"); list tags stay, once each. */
export function displaySubject(s: string): string {
  let rest = s.replace(TAG_ANYWHERE, " ").replace(/\s+/g, " ").trim();
  const lists: string[] = [];
  for (;;) {
    const p = PREFIX.exec(rest);
    if (p) {
      rest = rest.slice(p[0].length);
      continue;
    }
    const l = LIST_TAG.exec(rest);
    if (l && rest.slice(l[0].length) !== "") {
      const tag = l[0].trim();
      if (!lists.some((t) => t.toLowerCase() === tag.toLowerCase())) lists.push(tag);
      rest = rest.slice(l[0].length);
      continue;
    }
    break;
  }
  return [...lists, rest].filter((x) => x !== "").join(" ").trim();
}

/** The subject as compared when threading: no prefixes, no tag, single spaces, lower case. */
export function normalizeSubject(s: string): string {
  return displaySubject(s).normalize("NFC").toLowerCase();
}

/** A new random thread tag: 5 characters, 30 symbols (no 0/O, 1/I/L, U), about 24 million tags. */
export function newTag(): string {
  let out = "";
  const buf = new Uint8Array(16);
  while (out.length < 5) {
    crypto.getRandomValues(buf);
    // 240 is the largest multiple of 30 under 256: rejecting above it keeps every symbol equally likely.
    for (const b of buf) if (b < 240 && out.length < 5) out += ALPHABET[b % 30];
  }
  return out;
}

/** The first valid thread tag in a subject, upper-cased, or null. */
export function extractTag(subject: string): string | null {
  TAG_ANYWHERE.lastIndex = 0;
  const m = TAG_ANYWHERE.exec(subject);
  TAG_ANYWHERE.lastIndex = 0;
  return m ? m[1]!.toUpperCase() : null;
}

function checkTag(tag: string): string {
  const t = tag.toUpperCase();
  if (!VALID_TAG.test(t)) throw new Error(`invalid thread tag '${tag}'`);
  return t;
}

/** The subject with exactly one thread tag, this one, at the end. */
export function withTag(subject: string, tag: string): string {
  const t = checkTag(tag);
  const rest = subject.replace(TAG_ANYWHERE, " ").replace(/\s+/g, " ").trim();
  return rest === "" ? `[#${t}]` : `${rest} [#${t}]`;
}

/** "Re: <subject> [#TAG]", whatever prefixes and tags the original carried. */
export function replySubject(original: string, tag: string): string {
  return withTag(`Re: ${displaySubject(original)}`, tag);
}
