// The route registry: each route declares who may call it and the schemas of what it takes.
// The same declarations validate requests, check roles and generate the OpenAPI document.
import * as z from "zod";
import type { Role } from "../config/schema.ts";
import { assertCurrent } from "../auth/revocation.ts";
import { looksLikeJwt, verifyToken, type Principal } from "../auth/tokens.ts";
import { getConfig } from "../config/store.ts";
import { tenantByKey, type KeyKind } from "../ucs/tenants.ts";
import { AppError, badRequest, forbidden, unauthorized } from "../kernel/errors.ts";
import { readLimited } from "../kernel/read-limited.ts";
import { predatesTenant, tenantEnv, type TenantEnv } from "../tenancy/tenant-env.ts";
import { authenticateOperator } from "../platform/auth.ts";
import { locateKey } from "../tenancy/locate.ts";

/**
 * Who may call a route. "ingest": the tenant's ingest key (writes: interactions, mail, SMS).
 * "read_or_agent": the tenant's read key (history, messages, attachments, the outbox) or an agent.
 * An ingest key never reads and a read key never writes.
 */
/** `events`: a key scoped to reading events, or an admin's token. */
/** `platform`: a platform operator (workers/platform/auth.ts), above every tenant. */
export type Access = "public" | "ingest" | Role | "ingest_or_agent" | "read_or_agent" | "events" | "platform";

export type Caller = { kind: "user"; tenant: string; agentId: string; role: Role; version: number; expiresAt: number } | { kind: KeyKind; tenant: string } | { kind: "operator"; tenant: ""; operator: string };

export interface Ctx<B, Q> {
  req: Request;
  /** The caller's tenant's env (its shard, bucket and objects). On a public route no tenant is
   *  known yet: its handler resolves one (tenancy/tenant-env.ts) and reading DB before throws. */
  env: TenantEnv;
  exec: ExecutionContext;
  params: Record<string, string>;
  body: B;
  query: Q;
  caller: Caller;
}

/** A route web pages on other origins call. `origin`: the Origin to allow for this request, or null
 *  for none (it may throw 403 to refuse one); every answer of the route carries it, errors included.
 *  `allowList`: for the preflight, the origins allowed on this path, or null when only the request
 *  itself can tell (its tenant is in the body); the router answers OPTIONS from it. */
export interface CorsRule<B, Q> {
  origin: (ctx: Ctx<B, Q>) => Promise<string | null>;
  allowList: (ctx: { req: Request; env: Env; params: Record<string, string> }) => Promise<readonly string[] | null>;
}

export interface RouteDef<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  method: "get" | "post" | "put" | "delete";
  path: string;
  access: Access;
  summary: string;
  tags: string[];
  body?: B;
  query?: Q;
  /** Documented success responses: status → description and schema. */
  responses?: Record<number, { description: string; schema?: z.ZodType }>;
  handler: (ctx: Ctx<z.infer<B>, z.infer<Q>>) => Promise<unknown>;
  /** A public route's tenant, when what it is sent names one (path, query or body): the router
   *  resolves its env before the handler runs. Webhooks that find theirs by number or account don't. */
  tenant?: (ctx: { params: Record<string, string>; body: z.infer<B>; query: z.infer<Q> }) => string | null;
  /** What an unknown tenant is answered with on this public route (so it can't be told from an
   *  unknown form, or a tenant without callbacks). */
  unknownTenant?: (tenant: string) => AppError;
  cors?: CorsRule<z.infer<B>, z.infer<Q>>;
  /** Only ever opened as a WebSocket: a plain request is a 426, and a refused upgrade is answered
   *  as a socket that sends the error frame and closes (a browser never reads a refusal's body). */
  upgrade?: "websocket";
}

/** The caller as a logged-in user (agent, supervisor, admin): an ingest key is refused. */
export function asUser(c: Caller): Extract<Caller, { kind: "user" }> {
  if (c.kind !== "user") throw forbidden("this needs an agent token");
  return c;
}

export const route = <B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(r: RouteDef<B, Q>): RouteDef => r as unknown as RouteDef;

/** A handler's answer with a status other than 200. */
export class Reply {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    this.status = status;
    this.body = body;
  }
}

export const MAX_JSON_BYTES = 1 << 20;
const RANK: Record<Role, number> = { agent: 1, supervisor: 2, admin: 3 };

type KeyOwner = Awaited<ReturnType<typeof tenantByKey>>;
const keyCache = new Map<string, { owner: KeyOwner; at: number }>();

/** A revocation clears this isolate's cache at once; other isolates drop a revoked key within 30 s. */
export const dropCachedKeys = () => keyCache.clear();

/** A key's tenant and kind: found on whichever shard holds it, then read again on its tenant's own
 *  shard (the one the directory names), so a copy left on another shard grants nothing. */
async function keyOwner(env: Env, key: string): Promise<KeyOwner> {
  const hit = keyCache.get(key);
  if (hit && Date.now() - hit.at < 30_000) return hit.owner;
  const tenant = await locateKey(env, key);
  const owner = tenant ? await tenantByKey((await tenantEnv(env, tenant)).DB, key) : null;
  if (keyCache.size > 1000) keyCache.clear();
  keyCache.set(key, { owner: owner?.tenant === tenant ? owner : null, at: Date.now() });
  return owner?.tenant === tenant ? owner : null;
}

/** The kind of API key a route takes, if any. */
const keyKindFor = (access: Access): KeyKind | null => (access === "ingest" || access === "ingest_or_agent" ? "ingest" : access === "read_or_agent" ? "read" : access === "events" ? "events" : null);

function bearer(req: Request, allowQuery: boolean): string | null {
  const h = req.headers.get("Authorization");
  if (h) {
    const m = /^Bearer\s+(\S+)$/i.exec(h);
    if (!m) throw unauthorized("Authorization must be 'Bearer <token>'");
    return m[1]!;
  }
  // Browsers cannot set headers on a WebSocket: the desktop passes its token as ?token=.
  return allowQuery ? new URL(req.url).searchParams.get("token") : null;
}

export async function authenticate(req: Request, env: Env, access: Access): Promise<Caller> {
  if (access === "public") return { kind: "ingest", tenant: "" };
  if (access === "platform") {
    const token = bearer(req, false);
    if (!token) throw unauthorized("send 'Authorization: Bearer <operator token>' (POST /api/platform/v1/session)");
    return { kind: "operator", tenant: "", operator: await authenticateOperator(env, token) };
  }
  const token = bearer(req, req.headers.get("Upgrade")?.toLowerCase() === "websocket");
  if (!token) throw unauthorized(access === "ingest" ? "send the tenant's ingest key as 'Authorization: Bearer <key>'" : "send 'Authorization: Bearer <token>' (POST /api/v1/auth/login)");
  const wantsUser = access !== "ingest";
  const wantsKey = keyKindFor(access);
  if (wantsUser && looksLikeJwt(token)) {
    const p: Principal = await verifyToken(env.AUTH_SECRET, token);
    // The token proves who; the current config says what they may do. A removed login, or one whose
    // password, role or name changed (its token version moved on), is refused within the config
    // cache's 2 s, not when the token expires.
    const tenv = await tenantEnv(env, p.tenant);
    const cfg = await getConfig(tenv.DB, p.tenant).catch(() => null);
    const agent = cfg?.agents.get(p.agentId);
    if (!cfg || !agent || predatesTenant(tenv, p.issuedAt)) throw new AppError(401, "invalid_token", "this login no longer exists");
    await assertCurrent(tenv.DB, p, cfg);
    const need: Role = access === "ingest_or_agent" || access === "read_or_agent" ? "agent" : access === "events" ? "admin" : (access as Role);
    if (RANK[agent.role] < RANK[need]) throw forbidden(`this needs the ${need} role; you are ${agent.role}`);
    return { kind: "user", tenant: p.tenant, agentId: p.agentId, role: agent.role, version: p.version, expiresAt: p.expiresAt };
  }
  if (wantsKey) {
    const owner = await keyOwner(env, token);
    if (!owner) throw new AppError(401, "invalid_key", `unknown ${wantsKey} key`);
    if (owner.kind !== wantsKey)
      throw forbidden(wantsKey === "events" ? `this needs a key scoped to reading events (POST /api/v1/admin/event-keys); a ${owner.kind} key cannot read them` : `this needs the tenant's ${wantsKey} key (or an agent token); a ${owner.kind} key cannot ${owner.kind === "ingest" ? "read" : "write"}`);
    return { kind: owner.kind, tenant: owner.tenant };
  }
  throw new AppError(401, "invalid_token", "invalid token");
}

export function issuesOf(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join(".") || "(body)", message: i.message }));
}

export async function readJson(req: Request, schema: z.ZodType): Promise<unknown> {
  const type = req.headers.get("Content-Type") ?? "";
  if (!/^application\/json\b/i.test(type)) throw new AppError(415, "unsupported_media_type", "send the body as application/json");
  const buf = await readLimited(req, MAX_JSON_BYTES);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    throw badRequest("invalid_encoding", "the body is not valid UTF-8");
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw badRequest("invalid_json", `the body is not valid JSON: ${(e as Error).message}`);
  }
  const r = schema.safeParse(data);
  if (!r.success) {
    const issues = issuesOf(r.error);
    throw badRequest("invalid_request", `${issues[0]!.path}: ${issues[0]!.message}`, issues);
  }
  return r.data;
}

export function readQuery(req: Request, schema: z.ZodType): unknown {
  const r = schema.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!r.success) {
    const issues = issuesOf(r.error);
    throw badRequest("invalid_query", `${issues[0]!.path}: ${issues[0]!.message}`, issues);
  }
  return r.data;
}
