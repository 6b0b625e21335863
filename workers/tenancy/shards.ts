// The shards of contact history: SHARDS in wrangler.toml names each D1 binding with its data
// jurisdiction. Pure apart from reading the bindings off env.
import { AppError, badRequest } from "../kernel/errors.ts";

export const JURISDICTIONS = ["eu", "global"] as const;
export type Jurisdiction = (typeof JURISDICTIONS)[number];
export const DEFAULT_JURISDICTION: Jurisdiction = "eu";

export const isJurisdiction = (j: unknown): j is Jurisdiction => typeof j === "string" && (JURISDICTIONS as readonly string[]).includes(j);

export interface Shard {
  binding: string;
  jurisdiction: Jurisdiction;
}

/** The configured shards, in binding order; a misconfigured list fails loudly, not quietly. */
export function shardList(env: Pick<Env, "SHARDS">): Shard[] {
  const raw = env.SHARDS as unknown;
  const map = typeof raw === "string" ? (JSON.parse(raw) as unknown) : raw;
  if (!map || typeof map !== "object") throw new AppError(500, "misconfigured", "SHARDS must map D1 bindings to jurisdictions");
  const out: Shard[] = [];
  for (const [binding, j] of Object.entries(map)) {
    if (!/^SHARD_[A-Z0-9_]+$/.test(binding) || !isJurisdiction(j)) throw new AppError(500, "misconfigured", `SHARDS: '${binding}' = '${String(j)}' is not a shard binding and jurisdiction`);
    out.push({ binding, jurisdiction: j });
  }
  return out.sort((a, b) => a.binding.localeCompare(b.binding, "en", { numeric: true }));
}

/** The D1 database of a shard binding. */
export function shardDb(env: Env, binding: string): D1Database {
  const db = (env as unknown as Record<string, unknown>)[binding];
  if (!shardList(env).some((s) => s.binding === binding) || !db || typeof (db as D1Database).prepare !== "function") throw new AppError(500, "misconfigured", `no D1 binding for shard '${binding}'`);
  return db as D1Database;
}

/** A shard an operator names for a tenant: it must exist and be of the tenant's jurisdiction. */
export function checkShard(env: Env, binding: string, jurisdiction: Jurisdiction): Shard {
  const shard = shardList(env).find((s) => s.binding === binding);
  if (!shard) throw badRequest("unknown_shard", `no shard '${binding}'; the shards are ${shardList(env).map((s) => s.binding).join(", ")}`);
  if (shard.jurisdiction !== jurisdiction) throw badRequest("jurisdiction_mismatch", `shard '${binding}' is in jurisdiction '${shard.jurisdiction}', not '${jurisdiction}'`);
  return shard;
}

/** Where a new tenant goes when the operator names no shard: the jurisdiction's shard with the
 *  fewest tenants (counts from the directory). */
export function pickShard(env: Env, jurisdiction: Jurisdiction, tenantsPerShard: ReadonlyMap<string, number>): Shard {
  const candidates = shardList(env).filter((s) => s.jurisdiction === jurisdiction);
  if (!candidates.length) throw badRequest("no_shard_in_jurisdiction", `no shard is configured in jurisdiction '${jurisdiction}'`);
  return candidates.reduce((best, s) => ((tenantsPerShard.get(s.binding) ?? 0) < (tenantsPerShard.get(best.binding) ?? 0) ? s : best));
}

/** The R2 bucket that holds a jurisdiction's bytes: BLOBS is the EU bucket, BLOBS_GLOBAL the other. */
export function bucketFor(env: Env, j: Jurisdiction): R2Bucket {
  const b = j === "eu" ? env.BLOBS : (env as unknown as Record<string, R2Bucket | undefined>).BLOBS_GLOBAL;
  if (!b) throw new AppError(500, "misconfigured", `no R2 bucket bound for jurisdiction '${j}' (BLOBS_GLOBAL)`);
  return b;
}

/** Every shard but `own`: where a name a tenant claims (a mailbox, a number) must be free as well. */
export const otherShards = (env: Env, own: string): D1Database[] => shardList(env).filter((s) => s.binding !== own).map((s) => shardDb(env, s.binding));
