// A tenant's view of the platform: its shard as DB, its jurisdiction's bucket as BLOBS, and its
// Durable Object namespaces in its jurisdiction. Every door resolves this once it knows the tenant;
// nothing reaches contact history through anything else, so no query can land on another shard.
import { directoryEntry, type DirectoryEntry } from "../ucs/directory.ts";
import { AppError } from "../kernel/errors.ts";
import { bucketFor, shardDb, type Jurisdiction } from "./shards.ts";
import { countedD1 } from "../kernel/d1-count.ts";

export interface TenantEnv extends Env {
  DB: D1Database;
  TENANT: string;
  SHARD: string;
  JURISDICTION: Jurisdiction;
  /** Suspended tenants' envs exist only for the platform's own work and for checking a webhook's
   *  signature before refusing it (assertOpen). */
  SUSPENDED: boolean;
  /** When the tenant was created (ms): tokens issued before it are of a deleted tenant of that id. */
  CREATED_AT: number;
}

/** How long an isolate trusts a directory entry. A move waits this long after announcing itself
 *  before it freezes the tenant's rows, so no isolate still writes to the old shard unfenced. */
export const DIRECTORY_TTL_MS = 5_000;
/** How long a door holds a write while its tenant is moved, before answering 503. */
const HOLD_MS = 20_000;

const cache = new Map<string, { entry: DirectoryEntry | null; at: number }>();

/** Forgets cached entries (this isolate): after a change the platform made here. */
export function dropDirectoryCache(tenant?: string): void {
  if (tenant === undefined) cache.clear();
  else cache.delete(tenant);
}

/** Tenant ids are [a-z0-9_-], at most 64: anything else is no tenant, never a lookup or a cache entry. */
const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export async function lookupEntry(env: Env, tenant: string, fresh = false): Promise<DirectoryEntry | null> {
  if (!TENANT_ID.test(tenant)) return null;
  const hit = cache.get(tenant);
  if (!fresh && hit && Date.now() - hit.at < DIRECTORY_TTL_MS) return hit.entry;
  const entry = await directoryEntry(env.CONTROL, tenant);
  if (cache.size > 10_000) cache.clear();
  cache.set(tenant, { entry, at: Date.now() });
  return entry;
}

/** The refusal says suspended, not why: the operator's reason is for the platform console. */
export const tenantSuspended = (e: Pick<DirectoryEntry, "id">) => new AppError(403, "tenant_suspended", `tenant '${e.id}' is suspended: nothing was stored; its operator can resume it`);

export interface ResolveOptions {
  /** The platform's own work (usage, deletion, a move) reaches suspended tenants too. */
  allowSuspended?: boolean;
  /** Don't hold while a move runs (the mover itself, the platform's reads). */
  noHold?: boolean;
}

/** The tenant's env; 404 for a tenant the directory doesn't know, 403 while suspended, and a
 *  write held (then 503) while the tenant is being moved to another shard. */
export async function tenantEnv(env: Env, tenant: string, opts: ResolveOptions = {}): Promise<TenantEnv> {
  let entry = await lookupEntry(env, tenant);
  const until = Date.now() + HOLD_MS;
  while (entry?.movingTo && !opts.noHold) {
    if (Date.now() > until) throw new AppError(503, "tenant_moving", `tenant '${tenant}' is being moved to another shard; retry in a minute (nothing was stored)`, { retryAfterSeconds: 60 });
    await new Promise((r) => setTimeout(r, 500));
    entry = await lookupEntry(env, tenant, true);
  }
  if (!entry || entry.status === "deleting") throw new AppError(404, "unknown_tenant", `no tenant '${tenant}'`);
  if (entry.status === "suspended" && !opts.allowSuspended) throw tenantSuspended(entry);
  // One env per (env, cached entry): objects ask for theirs at every step, and a refreshed entry is a
  // new object, so a change in the directory makes a new env.
  let byEntry = built.get(env);
  if (!byEntry) built.set(env, (byEntry = new WeakMap()));
  let te = byEntry.get(entry);
  if (!te) byEntry.set(entry, (te = scopedEnv(env, entry, entry.shard)));
  return te;
}

const built = new WeakMap<object, WeakMap<DirectoryEntry, TenantEnv>>();

/** The namespace scoped to the jurisdiction. Cloudflare creates the objects there; workerd (wrangler
 *  dev, the tests) does not implement jurisdictions and says so, so locally the objects are unscoped. */
function inJurisdiction<T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>, j: Jurisdiction): DurableObjectNamespace<T> {
  if (j === "global" || unscopable.has(ns)) return ns;
  const hit = scoped.get(ns)?.get(j) as DurableObjectNamespace<T> | undefined;
  if (hit) return hit;
  try {
    const out = ns.jurisdiction(j);
    scoped.set(ns, (scoped.get(ns) ?? new Map()).set(j, out));
    return out;
  } catch (err) {
    if (!/not implemented in workerd/i.test(String(err))) throw err;
    unscopable.add(ns);
    return ns;
  }
}
/** Scoped namespaces, made once per namespace and jurisdiction (every request builds a tenant env). */
const scoped = new WeakMap<object, Map<Jurisdiction, unknown>>();
/** Namespaces whose runtime said it has no jurisdictions (workerd), asked once each. */
const unscopable = new WeakSet<object>();

/** The env of `entry` on `shard` (its own or, for a move, the one it goes to). */
export function scopedEnv(env: Env, entry: Pick<DirectoryEntry, "id" | "jurisdiction"> & Partial<Pick<DirectoryEntry, "status" | "createdAt">>, shard: string): TenantEnv {
  const j = entry.jurisdiction;
  const inJ = <T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>): DurableObjectNamespace<T> => inJurisdiction(ns, j);
  const db = shardDb(env, shard);
  const place = (env as { D1_PLACE?: string }).D1_PLACE;
  return {
    ...env,
    DB: place && (env as { BENCH?: string }).BENCH === "1" ? countedD1(db, place) : db,
    BLOBS: bucketFor(env, j),
    QUEUE: inJ(env.QUEUE),
    AGENT: inJ(env.AGENT),
    CHAT: inJ(env.CHAT),
    DASHBOARD: inJ(env.DASHBOARD),
    CLASSIFIER: inJ(env.CLASSIFIER),
    EVENT_PUMP: inJ(env.EVENT_PUMP),
    TENANT: entry.id,
    SHARD: shard,
    JURISDICTION: j,
    SUSPENDED: entry.status === "suspended",
    CREATED_AT: entry.createdAt ?? 0,
  };
}

/** The env of a request whose tenant isn't known yet (public routes): touching a tenant's binding
 *  before resolving one is a bug, and says so. */
export function publicEnv(env: Env): TenantEnv {
  const unresolved = (): never => {
    throw new AppError(500, "internal", "a public route used a tenant binding before resolving its tenant");
  };
  const out = { ...env } as TenantEnv;
  for (const k of ["DB", "TENANT", "SHARD", "JURISDICTION", "SUSPENDED", "CREATED_AT"] as const) Object.defineProperty(out, k, { get: unresolved, enumerable: false });
  return out;
}

/** The env of a request a public route has found the tenant of. */
export const publicTenantEnv = (env: TenantEnv, tenant: string, opts?: ResolveOptions) => tenantEnv(env, tenant, opts);

/** The env a Durable Object works in for its tenant: a suspended tenant's objects still finish and
 *  flush what they hold (nothing accepted is lost). */
export const objectEnv = (env: Env, tenant: string) => tenantEnv(env, tenant, { allowSuspended: true });

/** A webhook door's refusal of a suspended tenant, once its signature checked out: 503 with
 *  Retry-After, so the provider tries again and the message arrives once the tenant is resumed. */
export function assertOpen(env: TenantEnv): void {
  if (env.SUSPENDED) throw new AppError(503, "tenant_suspended", `tenant '${env.TENANT}' is suspended: nothing was stored; retry after it is resumed`, { retryAfterSeconds: 600 });
}

/** `env` when it is already `tenant`'s, else that tenant's env resolved (a public route that learns
 *  its tenant from a token rather than from its path). */
export async function ensureTenant(env: TenantEnv, tenant: string): Promise<TenantEnv> {
  return Object.getOwnPropertyDescriptor(env, "TENANT")?.value === tenant ? env : tenantEnv(env, tenant);
}

/** A token issued a full second or more before its tenant was created belongs to a deleted tenant
 *  whose id was used again. */
export const predatesTenant = (env: TenantEnv, issuedAt: number) => issuedAt + 1000 < env.CREATED_AT;
