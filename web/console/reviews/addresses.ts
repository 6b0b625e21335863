// Address lists as a reviewer types them: "Pat <pat@example.com>, sam@example.com". Pure.
import type { Address } from "../../shared/types.ts";

export const formatAddress = (a: Address) => (a.name ? `${a.name} <${a.addr}>` : a.addr);
export const formatAddresses = (list: Address[]) => list.map(formatAddress).join(", ");

const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/;

/** Parses a comma-separated list; names may be quoted. Returns the first bad entry on failure. */
export function parseAddresses(s: string): { ok: true; list: Address[] } | { ok: false; bad: string } {
  const list: Address[] = [];
  for (const raw of s.split(/[,;\n]/)) {
    const t = raw.trim();
    if (!t) continue;
    const m = /^(.*)<([^>]+)>$/.exec(t);
    const addr = (m ? m[2]! : t).trim();
    const name = m ? m[1]!.trim().replace(/^"(.*)"$/, "$1").trim() : "";
    if (!EMAIL.test(addr)) return { ok: false, bad: t };
    list.push(name ? { addr, name } : { addr });
  }
  return { ok: true, list };
}

export const sameAddresses = (a: Address[], b: Address[]) => formatAddresses(a) === formatAddresses(b);
