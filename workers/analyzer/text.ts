// What a message says, without what it quotes: quoted replies and signatures are cut before
// features are taken, so an answer to "Re: refund" is classified by the answer, not by the
// refund request it quotes. Line-based and linear. Pure.

/** Past this many characters a message is classified by its start. */
export const MAX_TEXT_CHARS = 20_000;

// "On Tue, 3 Dec 2026, Ana <ana@example.com> wrote:", "Le 3 déc. 2026, Ana a écrit :", "Am … schrieb …:".
const ATTRIBUTION = /^(on\b.{0,200}\bwrote|le\b.{0,200}\ba écrit|am\b.{0,200}\bschrieb|el\b.{0,200}\bescribió)\s*:?\s*$/i;
const FORWARD_OR_ORIGINAL = /^(-{2,}\s*(original message|forwarded message|mensaje original|message d'origine|ursprüngliche nachricht)\s*-{2,}|_{10,})\s*$/i;
const OUTLOOK_HEADER = /^(from|de|von):\s.{1,300}$/i;
const SIGN_OFF = /^(sent from my \w+|get outlook for \w+|envoyé de mon \w+|von meinem \w+ gesendet)/i;

export function ownText(body: string): string {
  const lines = body.slice(0, MAX_TEXT_CHARS).split(/\r?\n/);
  const kept: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "--" || raw === "-- ") break; // RFC 3676 signature separator
    if (ATTRIBUTION.test(line) || FORWARD_OR_ORIGINAL.test(line) || SIGN_OFF.test(line)) break;
    // Outlook quotes with a "From: …" header block and no '>' marks; only after some text of our own.
    if (OUTLOOK_HEADER.test(line) && kept.some((k) => k.trim() !== "")) break;
    if (line.startsWith(">")) continue;
    kept.push(raw);
  }
  const own = kept.join("\n").trim();
  // A message that is nothing but a quote (a bare forward) is classified by what it quotes.
  return own || body.slice(0, MAX_TEXT_CHARS).replace(/^[ \t]*>+[ \t]?/gm, "").trim();
}

/** The text an interaction is classified by: its subject and what its customer wrote. */
export function classifiedText(subject: string | null | undefined, body: string | null | undefined): string {
  return [subject ?? "", ownText(body ?? "")].filter((s) => s.trim() !== "").join("\n");
}
