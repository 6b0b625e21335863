// The web addresses a tenant's config may hold: where a browser is sent (a form's thankYouUrl) and
// which pages may call us (allowedOrigins). https only: a `javascript:` or `data:` thankYouUrl would
// run script in our origin's redirect, and a plain-http origin is a page anyone on the network can
// rewrite. Plain http is kept for local development on a loopback host (the demo tenant serves its
// pages from http://localhost:8787). Pure.

/** Hosts that are the developer's own machine, as the URL parser writes them. */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

function parse(s: string): URL | null {
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

const webScheme = (u: URL) => u.protocol === "https:" || (u.protocol === "http:" && LOOPBACK.has(u.hostname));

/** An https URL (http on a loopback host), with no user name or password in it. */
export function isWebUrl(s: string): boolean {
  const u = parse(s);
  return !!u && webScheme(u) && u.hostname !== "" && u.username === "" && u.password === "";
}

/** An origin as a browser sends it (`https://shop.example`, a trailing `/` allowed): no path, query or fragment. */
export function isWebOrigin(s: string): boolean {
  const u = parse(s);
  return !!u && isWebUrl(s) && u.pathname === "/" && u.search === "" && u.hash === "" && !s.includes("?") && !s.includes("#");
}

export const WEB_URL_MESSAGE = "an https:// URL (http:// only on localhost, for local development)";
export const WEB_ORIGIN_MESSAGE = "an https:// origin such as https://shop.example, with no path (http:// only on localhost, for local development)";
