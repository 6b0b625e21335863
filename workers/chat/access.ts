// Who is calling a chat endpoint: a customer with the chat's session token, or staff with their agent
// token (then the chat is looked up in their own tenant). The Origin of a browser must be on the
// tenant's chat allow-list or be Parley's own (the desktop).
import { ensureTenant, predatesTenant, type TenantEnv } from "../tenancy/tenant-env.ts";
import { assertCurrent, type Held } from "../auth/revocation.ts";
import { looksLikeJwt, verifyToken } from "../auth/tokens.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import { AppError, notFound, unauthorized } from "../kernel/errors.ts";
import { interactionMedia } from "../ucs/interaction-reads.ts";
import { verifyChatToken } from "./token.ts";

/** The customer's chat id names its tenant: `{tenant}.{interactionId}`, so a browser's preflight,
 *  which carries no token, still knows whose allow-list applies. Staff may use the bare interaction id. */
export const chatIdOf = (tenant: string, interactionId: string) => `${tenant}.${interactionId}`;

export function splitChatId(id: string): { tenant: string | null; interactionId: string } {
  const dot = id.indexOf(".");
  if (dot > 0) return { tenant: id.slice(0, dot), interactionId: id.slice(dot + 1) };
  return { tenant: null, interactionId: id };
}

export interface ChatCaller {
  tenant: string;
  interactionId: string;
  /** `customer`, or `agent:{id}` for staff. */
  participant: string;
  /** Staff: who, their role, and their token's version and expiry (their chat socket closes on either). */
  staff: (Held & { role: "agent" | "supervisor" | "admin" }) | null;
  cfg: CompiledConfig;
  /** The chat's tenant's env: a session id need not name its tenant, the token does. */
  env: TenantEnv;
}

function tokenOf(req: Request): string | null {
  const h = req.headers.get("Authorization");
  if (h) {
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    if (!m) throw unauthorized("Authorization must be 'Bearer <token>'");
    return m[1]!;
  }
  // Browsers cannot set headers on a WebSocket.
  return req.headers.get("Upgrade")?.toLowerCase() === "websocket" ? new URL(req.url).searchParams.get("token") : null;
}

/** Normalizes `https://x.example:443/` to `https://x.example`. */
function originOf(s: string): string {
  try {
    return new URL(s).origin;
  } catch {
    return s;
  }
}

/** A browser's Origin must be listed (or be ours); a request with no Origin is not from a page. */
export function checkOrigin(req: Request, cfg: CompiledConfig): string | null {
  const origin = req.headers.get("Origin");
  if (origin === null) return null;
  const own = new URL(req.url).origin;
  const want = originOf(origin);
  if (want === own || (cfg.raw.chat?.allowedOrigins ?? []).some((a) => originOf(a) === want)) return origin;
  throw new AppError(403, "origin_not_allowed", `origin '${origin}' may not use this tenant's chat`);
}

export async function chatCaller(req: Request, given: TenantEnv, id: string): Promise<ChatCaller> {
  const token = tokenOf(req);
  if (!token) throw unauthorized("send the chat's session token as 'Authorization: Bearer <token>' (or ?token= on the WebSocket)");
  if (!looksLikeJwt(token)) throw new AppError(401, "invalid_token", "invalid token");
  const { tenant: named, interactionId } = splitChatId(id);
  const grant = await verifyChatToken(given.AUTH_SECRET, token);
  if (grant) {
    // A customer's token is for one chat: someone else's chat is not found, whatever its id.
    if (grant.chat !== interactionId || (named !== null && named !== grant.tenant)) throw notFound("no_chat", "no such chat");
    const env = await ensureTenant(given, grant.tenant);
    const cfg = await getConfig(env.DB, grant.tenant);
    checkOrigin(req, cfg);
    return { tenant: grant.tenant, interactionId, participant: grant.participant, staff: null, cfg, env };
  }
  const p = await verifyToken(given.AUTH_SECRET, token);
  if (named !== null && named !== p.tenant) throw notFound("no_chat", "no such chat");
  const env = await ensureTenant(given, p.tenant);
  const cfg = await getConfig(env.DB, p.tenant);
  const agent = cfg.agents.get(p.agentId);
  if (!agent || predatesTenant(env, p.issuedAt)) throw new AppError(401, "invalid_token", "this login no longer exists");
  await assertCurrent(env.DB, p, cfg);
  checkOrigin(req, cfg);
  // Only chats of the agent's own tenant exist for them (and probing ids creates no objects).
  if ((await interactionMedia(env.DB, p.tenant, interactionId)) !== "chat") throw notFound("no_chat", "no such chat");
  return { tenant: p.tenant, interactionId, participant: `agent:${p.agentId}`, staff: { agentId: p.agentId, role: agent.role, version: p.version, expiresAt: p.expiresAt }, cfg, env };
}
