// Secrets are not in wrangler.toml, so `wrangler types` does not see them.
interface Env {
  /** Signs agent tokens (HS256). Local: .dev.vars, written by `npm start`. Deployed: `wrangler secret put AUTH_SECRET`. */
  AUTH_SECRET: string;
  /** Turnstile's secret key, for forms with turnstile: true. */
  TURNSTILE_SECRET?: string;
  /** The platform key tenant secrets are sealed under (HKDF per tenant, AES-GCM; 32+ characters).
   *  Local: .dev.vars, written by `npm start`. Deployed: `wrangler secret put SECRETS_KEY`. */
  SECRETS_KEY?: string;
  /** Local development only (unset in production): the one host the http mail transport may post to
   *  although it is local or plain http, as `name` or `name:port` (workers/outbound/url-policy.ts). */
  DEV_OUTBOUND_HOST?: string;
}
declare namespace Cloudflare {
  interface Env {
    AUTH_SECRET: string;
    TURNSTILE_SECRET?: string;
    SECRETS_KEY?: string;
    DEV_OUTBOUND_HOST?: string;
  }
}
