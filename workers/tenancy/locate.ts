// Finding the tenant behind something global: an API key, a mailbox address, a phone number, a
// social account. Each lives on its tenant's shard, so the question goes to every shard at once
// (one round trip of wall time) and an answer counts only from the shard the directory names for
// that tenant: rows a move left behind, or a shard that claims someone else's tenant, grant nothing.
import { shardDb, shardList } from "./shards.ts";
import { lookupEntry } from "./tenant-env.ts";
import { tenantByKey } from "../ucs/tenants.ts";
import { AppError } from "../kernel/errors.ts";

/** `ask` on every shard; the answer of the tenant's own shard. Two tenants claiming the same thing
 *  (a race between two config saves on different shards) answer nothing, logged, rather than pick
 *  one. A shard that can't be asked doesn't stop the others: only when nothing was found and a shard
 *  failed is the question a 503 to try again. */
export async function findOnShards<T extends { tenant: string }>(env: Env, ask: (db: D1Database) => Promise<T | null>): Promise<T | null> {
  const owned = await ownedOnShards(env, async (db) => {
    const one = await ask(db);
    return one ? [one] : [];
  });
  const tenants = new Set(owned.map((o) => o.tenant));
  if (tenants.size > 1) console.error(`locate: ${[...tenants].join(", ")} claim the same name on different shards; answering none`);
  return tenants.size === 1 ? owned[0]! : null;
}

export async function locateKey(env: Env, key: string): Promise<string | null> {
  return (await findOnShards(env, (db) => tenantByKey(db, key)))?.tenant ?? null;
}

/** `ask` on every shard; each answer kept only from the shard the directory names for its tenant. */
export async function ownedOnShards<T extends { tenant: string }>(env: Env, ask: (db: D1Database) => Promise<T[]>): Promise<T[]> {
  const settled = await Promise.allSettled(shardList(env).map(async (s) => ({ shard: s.binding, found: await ask(shardDb(env, s.binding)) })));
  const out: T[] = [];
  let failed: unknown = null;
  for (const r of settled) {
    if (r.status === "rejected") {
      failed = r.reason;
      continue;
    }
    for (const f of r.value.found) {
      const entry = await lookupEntry(env, f.tenant);
      if (entry && entry.shard === r.value.shard) out.push(f);
    }
  }
  if (failed && out.length === 0) {
    console.error("locate: a shard could not be asked", failed);
    throw new AppError(503, "shard_unavailable", "a contact-history database did not answer; nothing was stored: try again", { retryAfterSeconds: 5 });
  }
  return out;
}
