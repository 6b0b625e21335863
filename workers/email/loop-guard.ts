// Mail-loop protection (RFC 3834): Parley answers people, never robots. An acknowledgement sent to an
// out-of-office reply, a bounce or a mailing list can start a loop or spam a list. Pure.
import { baseAddress } from "./addresses.ts";

/** Headers on every automatic reply Parley sends. RFC 3834 §5 defines Auto-Submitted, and "auto-replied" is
 *  its value for a direct response to a message; X-Auto-Response-Suppress asks Exchange/Outlook not to answer
 *  with out-of-office or other automatic replies. No Precedence header: it is not standardized (RFC 3834 only
 *  lets responders treat bulk/list/junk as a reason not to reply), and "bulk" or "junk" on a one-to-one reply
 *  invites spam filters to file it as such. */
export const AUTO_REPLY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Auto-Submitted": "auto-replied",
  "X-Auto-Response-Suppress": "All",
});

/** Robot mailboxes: bounces, postmasters, no-reply senders, list owners and request addresses. */
const ROBOT_LOCAL = /^(?:mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|owner-.+|.+-request)$/;

/** The keyword a header value starts with ("auto-replied" in "auto-replied; owner-email=…"), lower case. */
const keyword = (v: string) => /^\s*([^\s;(,]*)/.exec(v)![1]!.toLowerCase();

/** Why no automatic reply may go to this message, or null if one may. */
export function automaticReason(m: { headers: [string, string][]; from: string | null; returnPath?: string | null }): string | null {
  const all = (name: string) => m.headers.filter(([k]) => k.toLowerCase() === name).map(([, v]) => v);

  for (const v of all("auto-submitted")) if (keyword(v) !== "no") return `Auto-Submitted: ${v.trim()}`;
  for (const v of all("precedence")) if (["bulk", "list", "junk"].includes(keyword(v))) return `Precedence: ${v.trim()}`;
  if (all("list-id").length) return "List-Id present (mailing list)";
  for (const v of all("x-auto-response-suppress")) {
    const tokens = v.split(/[\s,]+/).map((t) => t.toLowerCase());
    if (tokens.some((t) => t === "all" || t === "autoreply" || t === "oof")) return `X-Auto-Response-Suppress: ${v.trim()}`;
  }
  for (const name of ["x-autoreply", "x-autorespond"]) {
    for (const v of all(name)) if (keyword(v) !== "no") return `${name === "x-autoreply" ? "X-Autoreply" : "X-Autorespond"} present`;
  }
  // A null reverse path (<>) marks bounces and other automatic mail (RFC 3834 §2: never answer it).
  const paths = [...(m.returnPath != null ? [m.returnPath] : []), ...all("return-path")];
  if (paths.some((p) => /^\s*(?:<\s*>)?\s*$/.test(p))) return "empty Return-Path (<>)";

  const from = m.from == null ? null : baseAddress(m.from);
  if (!from) return "missing or unparseable From";
  const local = from.slice(0, from.lastIndexOf("@"));
  if (ROBOT_LOCAL.test(local)) return `automatic sender ${from}`;
  return null;
}
