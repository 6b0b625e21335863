// Headers every API answer carries, set at the one place responses leave the Worker: nothing an
// API returns (tokens, customer data, raw mail) is kept by a cache or sniffed into another type.
// A handler that chose its own Cache-Control (attachments) keeps it. Static pages get theirs from
// public/_headers (HSTS included).

/** Two years, subdomains included: the value HSTS preload lists ask for. */
export const HSTS = "max-age=63072000; includeSubDomains";

export function finalizeApi(res: Response): Response {
  // A WebSocket handshake's response is the runtime's: its headers are not ours to change.
  if (res.status === 101 || res.webSocket) return res;
  let out = res;
  try {
    setDefaults(out.headers);
  } catch {
    // Immutable headers (a response passed through from elsewhere): copy it once.
    out = new Response(res.body, res);
    setDefaults(out.headers);
  }
  return out;
}

function setDefaults(h: Headers) {
  if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("Strict-Transport-Security", HSTS);
}
