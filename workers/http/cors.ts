// CORS for the public endpoints web pages call (forms, callbacks, the visitor chat): an allow-list
// per form or per tenant, declared on each route (`cors`) and applied by the router. A request whose Origin is not listed is refused outright (403), not just left without
// headers: a plain HTML form post is not subject to CORS, so withholding headers would not stop it.
import { AppError } from "../kernel/errors.ts";

const ALLOW_HEADERS = "Content-Type, Accept, Authorization, Idempotency-Key";
const EXPOSE_HEADERS = "Retry-After, Location";

/** `https://Example.com:443/path` and `https://example.com` are the same origin. */
function normalize(origin: string): string {
  try {
    const o = new URL(origin).origin;
    return o === "null" ? origin : o;
  } catch {
    return origin;
  }
}

/** The request's Origin when it is allowed, null when there is none (a server-to-server post);
 *  a listed-nowhere Origin (including `null` from sandboxed pages) is a 403. */
export function allowedOrigin(req: Request, allowed: readonly string[]): string | null {
  const origin = req.headers.get("Origin");
  if (origin === null) return null;
  const want = normalize(origin);
  if (!allowed.some((a) => normalize(a) === want)) throw new AppError(403, "origin_not_allowed", `origin '${origin}' may not call this endpoint`);
  return origin;
}

/** Adds the CORS answer headers; Vary: Origin always, since the answer depends on it. */
export function withCors(res: Response, origin: string | null): Response {
  const out = new Response(res.body, res);
  out.headers.append("Vary", "Origin");
  if (origin !== null) {
    out.headers.set("Access-Control-Allow-Origin", origin);
    out.headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
  }
  return out;
}

/** The preflight's answer: 204 with what may be sent, or 403 for an origin not on the list. */
export function preflight(req: Request, allowed: readonly string[] | null, methods: string[]): Response {
  // Without a list (the tenant is named only in the body) the actual request is checked instead.
  const origin = allowed === null ? req.headers.get("Origin") : allowedOrigin(req, allowed);
  const res = new Response(null, { status: 204, headers: { Allow: [...methods, "OPTIONS"].join(", ") } });
  if (origin !== null) {
    res.headers.set("Access-Control-Allow-Methods", [...methods, "OPTIONS"].join(", "));
    res.headers.set("Access-Control-Allow-Headers", ALLOW_HEADERS);
    res.headers.set("Access-Control-Max-Age", "600");
  }
  return withCors(res, origin);
}
