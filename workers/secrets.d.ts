// Secrets are not in wrangler.toml, so `wrangler types` does not see them.
interface Env {
  /** Signs agent tokens (HS256). Local: .dev.vars, written by `npm start`. Deployed: `wrangler secret put AUTH_SECRET`. */
  AUTH_SECRET: string;
  /** Turnstile's secret key, for forms with turnstile: true. */
  TURNSTILE_SECRET?: string;
  /** Bearer token for the HTTP mail transport. */
  MAIL_API_TOKEN?: string;
  /** Twilio's auth token (a number's `secret` may name another): signs its webhooks, and authenticates sends and media fetches. */
  TWILIO_AUTH_TOKEN?: string;
}
declare namespace Cloudflare {
  interface Env {
    AUTH_SECRET: string;
    TURNSTILE_SECRET?: string;
    MAIL_API_TOKEN?: string;
    TWILIO_AUTH_TOKEN?: string;
  }
}
