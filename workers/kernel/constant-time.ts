/** Equal strings, compared in time that does not depend on where they first differ (signatures, MACs).
 *  Lengths are not secret here: every caller compares fixed-length digests. */
export function equalText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  return x.byteLength === y.byteLength && crypto.subtle.timingSafeEqual(x, y);
}
