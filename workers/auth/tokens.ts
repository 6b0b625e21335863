// Agent tokens: HS256 JWTs (jose) carrying tenant, agent and role, with an expiry.
import { errors, jwtVerify, SignJWT } from "jose";
import { Role, type Role as RoleT } from "../config/schema.ts";
import { AppError, unauthorized } from "../http/errors.ts";

export interface Principal {
  tenant: string;
  agentId: string;
  role: RoleT;
  /** When the token lapses (ms), for connections that outlive the request that opened them. */
  expiresAt?: number;
}

const ISSUER = "parley";
const key = (secret: string) => new TextEncoder().encode(secret);

export async function issueToken(secret: string, p: Principal, ttlSeconds: number, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(now / 1000);
  const exp = iat + ttlSeconds;
  const token = await new SignJWT({ tid: p.tenant, role: p.role })
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
    const { payload } = await jwtVerify(token, key(secret), { issuer: ISSUER, algorithms: ["HS256"] });
    const role = Role.safeParse(payload.role);
    if (typeof payload.tid !== "string" || typeof payload.sub !== "string" || !role.success) throw unauthorized("token is missing its claims");
    return { tenant: payload.tid, agentId: payload.sub, role: role.data, ...(typeof payload.exp === "number" ? { expiresAt: payload.exp * 1000 } : {}) };
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new AppError(401, "token_expired", "token expired; log in again");
    if (err instanceof errors.JOSEError) throw new AppError(401, "invalid_token", "invalid token");
    throw err;
  }
}

export const looksLikeJwt = (t: string) => t.split(".").length === 3;
