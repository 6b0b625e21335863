// Time-ordered, URL-safe ids: a prefix, 9 chars of time, 12 random chars.
const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let rnd = "";
  for (const b of bytes) rnd += ALPHABET[b % 36];
  return `${prefix}_${Date.now().toString(36).padStart(9, "0")}${rnd}`;
}


export async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
