// Addresses and Message-IDs as they arrive in headers, reduced to the forms Parley compares. Pure.

const LOCAL = /^[^\s@<>()[\]\\,;:"]+$/u;
const LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?$/u;

/** Removes RFC 5322 comments "(...)", nested or not, leaving quoted strings alone. */
function stripComments(s: string): string {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? "");
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    if (!quoted && c === "(") { depth++; continue; }
    if (!quoted && c === ")" && depth > 0) { depth--; if (depth === 0) out += " "; continue; }
    if (depth === 0) out += c;
  }
  return out;
}

/** "Pat <Support+Billing@Demo.Parley.test>" → "support@demo.parley.test": lower case, no display name, no
 *  "+tag" sub-address, so every variant of one mailbox compares equal. Null if it is not an address. */
export function baseAddress(addr: string): string | null {
  const s = stripComments(addr).trim();
  const angle = /<([^<>]*)>\s*$/.exec(s);
  const a = (angle ? angle[1]! : s).trim().toLowerCase();
  const at = a.lastIndexOf("@");
  if (at <= 0) return null;
  let local = a.slice(0, at);
  const domain = a.slice(at + 1).replace(/\.$/, "");
  if (!LOCAL.test(local) || !domain.split(".").every((l) => LABEL.test(l))) return null;
  const plus = local.indexOf("+");
  if (plus > 0) local = local.slice(0, plus);
  return `${local}@${domain}`;
}

/** "<abc@host>" → "abc@host". Message-IDs keep their case (they are compared exactly). */
export function normalizeMessageId(s: string | null | undefined): string | null {
  if (!s) return null;
  const v = s.replace(/[\s<>]+/g, "");
  return v === "" ? null : v;
}

const MAX_IDS = 100;

/** The ids in a References or In-Reply-To value, in order, each once: folded lines, comments and phrases
 *  (old In-Reply-To forms) are skipped, ids without angle brackets are taken if they contain "@". */
export function parseMessageIdList(v: string | null | undefined): string[] {
  if (!v) return [];
  const s = stripComments(v.replace(/\r?\n[ \t]/g, " "));
  const ids: string[] = [];
  const seen = new Set<string>();
  const add = (raw: string) => {
    const id = normalizeMessageId(raw);
    if (id && !seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  };
  const re = /<([^<>]*)>|"(?:[^"\\]|\\.)*"|[^\s,<>"]+/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m[1] !== undefined) add(m[1]);
    else if (!m[0].startsWith('"') && m[0].includes("@")) add(m[0]);
  }
  // A thread's root and its latest messages matter most for threading: keep the first and the last 99.
  return ids.length > MAX_IDS ? [ids[0]!, ...ids.slice(ids.length - (MAX_IDS - 1))] : ids;
}
