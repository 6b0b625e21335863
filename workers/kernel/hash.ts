// Content hashes for bytes kept in R2: the key of an attachment, the stand-in for a missing Message-ID.
export async function bytesSha256(b: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", b);
  return [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, "0")).join("");
}
