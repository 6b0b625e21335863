// Whether a token still holds: its login exists, its token version is the login's current one, and it
// has not lapsed. Token versions are bumped only in the same D1 batch as the tenant's config version
// (workers/config/tenants.ts), so they are re-read only when the config's version moved: a caller sees a
// revocation as soon as getConfig sees the new config (its cache checks the version every 2 s).
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import { AppError } from "../kernel/errors.ts";
import { tokenVersionOf, tokenVersionRows } from "../ucs/auth.ts";

/** How often an object holding staff sockets re-checks their tokens (the desktop and staff chat
 *  sockets; the dashboard checks on its 2 s tick). With the config cache's 2 s, a revoked login's
 *  sockets close within about 7 s; an expired token's close on its first frame or at its expiry. */
export const REVOCATION_CHECK_MS = 5_000;

/** The close code a socket gets when its token is no longer good (the desktop logs in again). */
export const CLOSE_REVOKED = 4001;

export interface Held {
  agentId: string;
  version: number;
  expiresAt: number;
}

export interface Refusal {
  code: "token_expired" | "token_revoked" | "invalid_token";
  message: string;
}

const cache = new Map<string, { configVersion: number; versions: ReadonlyMap<string, number> }>();

/** Each login's current token version (absent: 1), as of this config version. */
export async function tokenVersions(db: D1Database, cfg: CompiledConfig): Promise<ReadonlyMap<string, number>> {
  const tenant = cfg.raw.tenant.id;
  const hit = cache.get(tenant);
  if (hit && hit.configVersion >= cfg.version) return hit.versions;
  const versions = new Map((await tokenVersionRows(db, tenant)).map((x) => [x.agent_id, x.version]));
  const now = cache.get(tenant);
  if (!now || now.configVersion < cfg.version) cache.set(tenant, { configVersion: cfg.version, versions });
  return versions;
}

const EXPIRED: Refusal = { code: "token_expired", message: "token expired; log in again" };

/** Why a held token no longer holds, or null. Pure. */
export function refusal(h: Held, cfg: CompiledConfig, versions: ReadonlyMap<string, number>, now: number): Refusal | null {
  if (h.expiresAt <= now) return EXPIRED;
  if (!cfg.agents.has(h.agentId)) return { code: "invalid_token", message: "this login no longer exists" };
  if ((versions.get(h.agentId) ?? 1) !== h.version) return { code: "token_revoked", message: "this login's password, role or name changed; log in again" };
  return null;
}

/** The refusal, against this isolate's view; a token newer than that view (issued just after a change
 *  this isolate has not seen yet: versions only grow) is checked against D1 itself. */
async function check(db: D1Database, h: Held, cfg: CompiledConfig, now: number): Promise<Refusal | null> {
  const versions = await tokenVersions(db, cfg);
  const r = refusal(h, cfg, versions, now);
  if (r?.code !== "token_revoked" || h.version < (versions.get(h.agentId) ?? 1)) return r;
  return (await tokenVersionOf(db, cfg.raw.tenant.id, h.agentId)) === h.version ? null : r;
}

/** Checks a held token against the tenant's current config; null when the config cannot be read (the
 *  caller keeps what it has and checks again later). */
export async function checkHeld(db: D1Database, tenant: string, h: Held, now = Date.now()): Promise<Refusal | null> {
  if (h.expiresAt <= now) return EXPIRED;
  try {
    return await check(db, h, await getConfig(db, tenant), now);
  } catch (err) {
    console.warn(`token check for ${tenant}/${h.agentId}: config unreadable`, err);
    return null;
  }
}

/** The same check for a request: throws the refusal as a 401. */
export async function assertCurrent(db: D1Database, h: Held, cfg: CompiledConfig, now = Date.now()): Promise<void> {
  const r = await check(db, h, cfg, now);
  if (r) throw new AppError(401, r.code, r.message);
}

/** A held token from a socket's attachment or a request's headers, or null if it is not one. */
export function heldOf(v: unknown): Held | null {
  if (typeof v !== "object" || v === null) return null;
  const o = v as Record<string, unknown>;
  return typeof o.agentId === "string" && typeof o.version === "number" && typeof o.expiresAt === "number" ? { agentId: o.agentId, version: o.version, expiresAt: o.expiresAt } : null;
}

/** Headers that carry a checked token's holder from the Worker to an object (never the token itself). */
export const heldHeaders = (h: Held): Record<string, string> => ({ "X-Parley-Agent": h.agentId, "X-Parley-Version": String(h.version), "X-Parley-Expires": String(h.expiresAt) });

export function heldFromHeaders(req: Request): Held | null {
  const agentId = req.headers.get("X-Parley-Agent");
  const version = Number(req.headers.get("X-Parley-Version"));
  const expiresAt = Number(req.headers.get("X-Parley-Expires"));
  if (!agentId || !Number.isSafeInteger(version) || !Number.isFinite(expiresAt)) return null;
  return { agentId, version, expiresAt };
}
