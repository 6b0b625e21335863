// Secrets are not in wrangler.toml, and `npm run types` reads no .dev.vars (--env-file=/dev/null, so a
// checkout's local values never shape Env): they are declared here, once.
interface Env {
  /** Signs agent tokens (HS256). Local: .dev.vars, written by `npm start`. Deployed: `wrangler secret put AUTH_SECRET`. */
  AUTH_SECRET: string;
  /** Turnstile's secret key, for forms with turnstile: true. */
  TURNSTILE_SECRET?: string;
  /** The platform key tenant secrets are sealed under (HKDF per tenant, AES-GCM): hex or base64 of 32+ random bytes (`openssl rand -hex 32`).
   *  Local: .dev.vars, written by `npm start`. Deployed: `wrangler secret put SECRETS_KEY`. */
  SECRETS_KEY?: string;
  /** While rotating SECRETS_KEY: the key being replaced. Rows it sealed still open, and are re-sealed
   *  under SECRETS_KEY when read; unset it once every tenant secret has been read or set again. */
  SECRETS_KEY_PREVIOUS?: string;
  /** Local development only (unset in production): the one host the http mail transport may post to
   *  although it is local or plain http, as `name` or `name:port` (workers/outbound/url-policy.ts). */
  DEV_OUTBOUND_HOST?: string;
}
declare namespace Cloudflare {
  interface Env {
    AUTH_SECRET: string;
    TURNSTILE_SECRET?: string;
    SECRETS_KEY?: string;
    SECRETS_KEY_PREVIOUS?: string;
    DEV_OUTBOUND_HOST?: string;
  }
}
