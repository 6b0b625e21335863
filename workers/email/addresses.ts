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

// An RFC 5322 dot-atom local part: what needs no quotes.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+)*$/u;
// qtext and quoted-pairs: printable ASCII (and UTF-8, RFC 6532) inside the quotes; never a line break.
const QUOTED_LOCAL = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\uffff]|\\[\x20-\x7e])*"$/u;
const HOSTNAME = /^(?=.{1,253}$)[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?)*$/u;

/** An address as a parser hands it over after dropping the quotes of a quoted local part
 *  ('"john doe"@example.com' arrives as 'john doe@example.com'), written back in its RFC 5322 form:
 *  a local part that is not a dot-atom is quoted again, with '"' and '\' escaped. Otherwise unchanged. */
export function faithfulAddress(addr: string): string {
  const a = addr.trim();
  const at = a.lastIndexOf("@");
  if (at <= 0) return a;
  const local = a.slice(0, at);
  if (DOT_ATOM.test(local) || QUOTED_LOCAL.test(local)) return a;
  return `"${local.replace(/["\\]/g, "\\$&")}"${a.slice(at)}`;
}

/** Why Parley will not send to this address, or null: a local part that is a dot-atom or a quoted string
 *  (no line breaks or controls), and a domain that is a host name. Domain literals ('user@[127.0.0.1]')
 *  are refused: mail goes to named hosts, never to an address an outsider picked. */
export function unsendableReason(addr: string): string | null {
  if (addr.length > 320) return "it is longer than 320 characters";
  const at = addr.lastIndexOf("@");
  if (at <= 0) return "it has no local part and domain";
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (domain.startsWith("[")) return "its domain is an IP literal; replies go only to named hosts";
  if (!HOSTNAME.test(domain.replace(/\.$/, ""))) return "its domain is not a host name";
  if (local.length > 64 && !local.startsWith('"')) return "its local part is longer than 64 characters";
  if (!DOT_ATOM.test(local) && !QUOTED_LOCAL.test(local)) return "its local part is neither an atom nor a quoted string";
  return null;
}
