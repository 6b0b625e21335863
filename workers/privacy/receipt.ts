// The signed receipt an erasure ends with: what was removed, from which store, when and at whose
// request. HMAC-SHA256 over the receipt's canonical JSON, so Parley can later show it issued it as is.
import { equalText } from "../kernel/constant-time.ts";

export interface Receipt {
  kind: "parley.erasure-receipt/1";
  erasure: string;
  tenant: string;
  contact: string;
  /** Every contact id the person was known by. */
  contacts: string[];
  requestedBy: string;
  startedAt: string;
  finishedAt: string;
  /** Per store: rows, objects' entries or files removed. */
  removed: Record<string, number>;
  signature: string;
}

const enc = new TextEncoder();

/** Keys sorted at every level, so the same receipt always signs the same bytes. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

async function mac(secret: string, body: Omit<Receipt, "signature">): Promise<string> {
  const k = await crypto.subtle.importKey("raw", enc.encode(`erasure-receipt:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(canonical(body))));
  return `v1,${btoa(String.fromCharCode(...sig))}`;
}

export async function signReceipt(secret: string, body: Omit<Receipt, "signature" | "kind">): Promise<Receipt> {
  const unsigned = { kind: "parley.erasure-receipt/1" as const, ...body };
  return { ...unsigned, signature: await mac(secret, unsigned) };
}

export async function verifyReceipt(secret: string, r: Receipt): Promise<boolean> {
  const { signature, ...body } = r;
  return typeof signature === "string" && equalText(await mac(secret, body), signature);
}
