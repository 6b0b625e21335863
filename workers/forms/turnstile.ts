// Cloudflare Turnstile: the widget's token checked with siteverify. Fails closed: a form that asks
// for Turnstile is never accepted unverified, whether the token is bad, siteverify cannot be
// reached, or the secret was never set (a deployment error, logged, answered 403 rather than a 5xx
// the page might retry forever).
import { AppError } from "../kernel/errors.ts";

export const SITEVERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify";

const failed = (message: string, details?: unknown) => new AppError(403, "turnstile_failed", message, details);

export async function verifyTurnstile(secret: string | undefined, token: string | undefined, ip: string): Promise<void> {
  if (!secret) {
    console.error("a form asks for Turnstile but TURNSTILE_SECRET is not set");
    throw new AppError(403, "turnstile_not_configured", "this form cannot verify submissions right now");
  }
  if (!token) throw failed("cf-turnstile-response: missing (the Turnstile widget's token)");
  if (token.length > 2048) throw failed("cf-turnstile-response: too long");
  const body = new URLSearchParams({ secret, response: token });
  if (ip !== "unknown") body.set("remoteip", ip);
  let outcome: { success?: boolean; "error-codes"?: string[] };
  try {
    const res = await fetch(SITEVERIFY_URL, { method: "POST", body });
    if (!res.ok) throw new Error(`siteverify answered ${res.status}`);
    outcome = await res.json();
  } catch (err) {
    console.error("turnstile siteverify", err);
    throw failed("the Turnstile token could not be verified; try again");
  }
  if (outcome.success !== true) throw failed("the Turnstile check failed", { errorCodes: outcome["error-codes"] ?? [] });
}
