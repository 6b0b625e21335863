// Platform operators: the people who run a Parley install, above every tenant. They hold
// PLATFORM_SECRET (a Worker secret, never in any tenant's config) and trade it for an operator token
// (HS256, its own issuer and a key derived from that secret, so no tenant token can ever pass for
// one). A tenant's admin token on a platform route is a 403; anything else unknown a 401.
import { errors, jwtVerify, SignJWT } from "jose";
import { AppError, forbidden, unauthorized } from "../kernel/errors.ts";
import { looksLikeJwt, verifyToken } from "../auth/tokens.ts";
import { equalText } from "../kernel/constant-time.ts";
import { sha256Hex } from "../kernel/ids.ts";

const ISSUER = "parley-platform";
export const OPERATOR_TOKEN_TTL_S = 8 * 3600;
/** A secret shorter than this is refused outright: the platform's routes stay closed. */
const MIN_SECRET = 32;

async function operatorKey(secret: string): Promise<Uint8Array> {
  // Derived, so the raw secret is never a signing key: a leaked token tells nothing about it.
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`parley-platform-token\n${secret}`)));
}

function platformSecret(env: Env): string {
  const s = (env as { PLATFORM_SECRET?: string }).PLATFORM_SECRET;
  if (!s || s.length < MIN_SECRET) throw new AppError(503, "platform_disabled", `the platform API is closed: set the PLATFORM_SECRET secret (at least ${MIN_SECRET} characters; openssl rand -hex 32)`);
  return s;
}

/** Equal secrets, whatever their lengths: their digests compared in constant time. */
const sameSecret = async (a: string, b: string) => equalText(await sha256Hex(a), await sha256Hex(b));

/** An operator token for whoever proves they hold the platform secret. `name` says who, for the audit. */
export async function issueOperatorToken(env: Env, secret: string, name: string, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const want = platformSecret(env);
  if (!(await sameSecret(secret, want))) throw new AppError(401, "invalid_credentials", "wrong platform secret");
  const iat = Math.floor(now / 1000);
  const token = await new SignJWT({ op: name }).setProtectedHeader({ alg: "HS256" }).setSubject(`operator:${name}`).setIssuer(ISSUER).setIssuedAt(iat).setExpirationTime(iat + OPERATOR_TOKEN_TTL_S).sign(await operatorKey(want));
  return { token, expiresAt: (iat + OPERATOR_TOKEN_TTL_S) * 1000 };
}

/** The operator behind a bearer: an operator token, or the platform secret itself (scripts: npm start,
 *  the deploy). Answers the actor name for the audit. */
export async function authenticateOperator(env: Env, bearer: string): Promise<string> {
  const secret = platformSecret(env);
  if (looksLikeJwt(bearer)) {
    try {
      const { payload } = await jwtVerify(bearer, await operatorKey(secret), { issuer: ISSUER, algorithms: ["HS256"], requiredClaims: ["exp", "sub"] });
      return String(payload.sub);
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new AppError(401, "token_expired", "operator token expired; sign in again");
      // A tenant's own token (an admin's included) is valid, and not for this.
      if (await verifyToken(env.AUTH_SECRET, bearer).then(() => true, () => false)) throw forbidden("platform routes are for platform operators; a tenant's token (even an admin's) cannot use them");
      throw unauthorized("invalid operator token");
    }
  }
  if (await sameSecret(bearer, secret)) return "operator:platform-secret";
  throw unauthorized("invalid operator token");
}
