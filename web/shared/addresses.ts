// Recipient fields as an agent or a reviewer types them. Pure, so it is unit-tested without a browser.
import type { Address } from "./types.ts";

/** Addresses as one line: `Name <addr>` where there is a name. */
export const showAddress = (a: Address): string => (a.name ? `${/[,;<>"]/.test(a.name) ? `"${a.name.replace(/"/g, "")}"` : a.name} <${a.addr}>` : a.addr);
export const showAddresses = (as: Address[]): string => as.map(showAddress).join(", ");
export const sameAddresses = (a: Address[], b: Address[]): boolean => showAddresses(a) === showAddresses(b);

/** "Pat <pat@example.com>, lee@example.com" → addresses; a bad one is named in the error. */
export function parseAddresses(s: string): Address[] {
  return splitList(s)
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      const m = /^(.*?)\s*<([^>]+)>$/.exec(x);
      const addr = (m ? m[2]! : x).trim();
      if (!/^[^\s@<>",;]+@[^\s@<>",;]+\.[^\s@<>",;]+$/.test(addr)) throw new Error(`'${x}' is not an email address`);
      const name = m?.[1]?.replace(/^"|"$/g, "").trim();
      return name ? { addr, name } : { addr };
    });
}

/** Splits at commas and semicolons that are not inside a quoted name or <…>. */
function splitList(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  let angle = false;
  for (const ch of s) {
    if (ch === '"' && !angle) quoted = !quoted;
    else if (ch === "<" && !quoted) angle = true;
    else if (ch === ">" && !quoted) angle = false;
    if ((ch === "," || ch === ";") && !quoted && !angle) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
