// The customer's chat session token: an HS256 JWT with audience "chat" naming the tenant, the chat
// and the participant. Agent tokens have no audience, so neither passes for the other.
import { errors, jwtVerify, SignJWT } from "jose";
import { AppError } from "../kernel/errors.ts";

export interface ChatGrant {
  tenant: string;
  chat: string;
  participant: string;
}

const ISSUER = "parley";
const AUDIENCE = "chat";
const key = (secret: string) => new TextEncoder().encode(secret);

export async function issueChatToken(secret: string, g: ChatGrant, ttlSeconds: number, now = Date.now()): Promise<{ token: string; expiresAt: number }> {
  const iat = Math.floor(now / 1000);
  const token = await new SignJWT({ tid: g.tenant, chat: g.chat })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(g.participant)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .sign(key(secret));
  return { token, expiresAt: (iat + ttlSeconds) * 1000 };
}

/** The grant, or null when the token is not a chat token at all (an agent's, say); a bad chat token throws. */
export async function verifyChatToken(secret: string, token: string): Promise<ChatGrant | null> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { issuer: ISSUER, algorithms: ["HS256"] });
    if (payload.aud !== AUDIENCE) return null;
    if (typeof payload.tid !== "string" || typeof payload.chat !== "string" || typeof payload.sub !== "string") throw new AppError(401, "invalid_token", "the chat token is missing its claims");
    return { tenant: payload.tid, chat: payload.chat, participant: payload.sub };
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new AppError(401, "token_expired", "the chat session expired; start a new chat");
    if (err instanceof errors.JOSEError) throw new AppError(401, "invalid_token", "invalid chat token");
    throw err;
  }
}
