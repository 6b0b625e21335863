// Agent tokens: HS256 JWTs (jose) carrying tenant, agent, role and the login's token version, with an
// expiry. A token without one is refused: every token lapses, and a changed login revokes the rest.
import { errors, jwtVerify, SignJWT } from "jose";
import { Role, type Role as RoleT } from "../config/schema.ts";
import { AppError } from "../kernel/errors.ts";

/** What a token is issued for. `version`: the login's token version (workers/auth/revocation.ts), 1 if never changed. */
export interface TokenSubject {
  tenant: string;
  agentId: string;
  role: RoleT;
  version?: number;
}

export interface Principal {
  tenant: string;
  agentId: string;
  role: RoleT;
  /** The login's token version when the token was issued; refused once the login's version moves on. */
  version: number;
  /** When the token lapses (ms), for connections that outlive the request that opened them. */
  expiresAt: number;
  /** When it was issued (ms, to the second): a token from before its tenant existed (an id deleted
   *  and made again) is refused. */
  issuedAt: number;
}

const ISSUER = "parley";
const key = (secret: string) => new TextEncoder().encode(secret);

export async function issueToken(secret: string, p: TokenSubject, ttlSeconds: number, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(now / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({ tid: p.tenant, role: p.role, ver: p.version ?? 1 })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(p.agentId)
    .setIssuer(ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(key(secret));
  return { token, expiresAt: exp * 1000 };
}

export async function verifyToken(secret: string, token: string): Promise<Principal> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { issuer: ISSUER, algorithms: ["HS256"], requiredClaims: ["exp"] });
    const role = Role.safeParse(payload.role);
    const ver = payload.ver;
    if (typeof payload.tid !== "string" || typeof payload.sub !== "string" || !role.success || typeof ver !== "number" || !Number.isSafeInteger(ver) || ver < 1 || typeof payload.exp !== "number")
      throw new AppError(401, "invalid_token", "invalid token: it is missing its claims");
    return { tenant: payload.tid, agentId: payload.sub, role: role.data, version: ver, expiresAt: payload.exp * 1000, issuedAt: (typeof payload.iat === "number" ? payload.iat : 0) * 1000 };
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new AppError(401, "token_expired", "token expired; log in again");
    if (err instanceof errors.JOSEError) throw new AppError(401, "invalid_token", "invalid token");
    throw err;
  }
}

export const looksLikeJwt = (t: string) => t.split(".").length === 3;
