// Secrets are not in wrangler.toml, so `wrangler types` does not see them.
interface Env {
  /** Signs agent tokens (HS256). Local: .dev.vars, written by `npm start`. Deployed: `wrangler secret put AUTH_SECRET`. */
  AUTH_SECRET: string;
}
declare namespace Cloudflare {
  interface Env {
    AUTH_SECRET: string;
  }
}
