// Finding the tenant behind something global: an API key, a mailbox address, a phone number, a
// social account. Each lives on its tenant's shard, so the question goes to every shard at once
// (one round trip of wall time) and an answer counts only from the shard the directory names for
// that tenant: rows a move left behind, or a shard that claims someone else's tenant, grant nothing.
import { shardDb, shardList } from "./shards.ts";
import { lookupEntry } from "./tenant-env.ts";
import { tenantByKey } from "../ucs/tenants.ts";

/** `ask` on every shard; the answer of the tenant's own shard (or of the shard it is moving from). */
export async function findOnShards<T extends { tenant: string }>(env: Env, ask: (db: D1Database) => Promise<T | null>): Promise<T | null> {
  const shards = shardList(env);
  const answers = await Promise.all(shards.map(async (s) => ({ shard: s.binding, found: await ask(shardDb(env, s.binding)) })));
  for (const a of answers) {
    if (!a.found) continue;
    const entry = await lookupEntry(env, a.found.tenant);
    if (entry && entry.shard === a.shard) return a.found;
  }
  return null;
}

/** Every shard's answers, concatenated (checks that a name is free across tenants). */
export async function askAllShards<T>(env: Env, ask: (db: D1Database) => Promise<T[]>): Promise<T[]> {
  return (await Promise.all(shardList(env).map((s) => ask(shardDb(env, s.binding))))).flat();
}

export async function locateKey(env: Env, key: string): Promise<string | null> {
  return (await findOnShards(env, (db) => tenantByKey(db, key)))?.tenant ?? null;
}

/** `ask` on every shard; each answer kept only from the shard the directory names for its tenant. */
export async function ownedOnShards<T extends { tenant: string }>(env: Env, ask: (db: D1Database) => Promise<T[]>): Promise<T[]> {
  const per = await Promise.all(shardList(env).map(async (s) => ({ shard: s.binding, found: await ask(shardDb(env, s.binding)) })));
  const out: T[] = [];
  for (const p of per)
    for (const f of p.found) {
      const entry = await lookupEntry(env, f.tenant);
      if (entry && entry.shard === p.shard) out.push(f);
    }
  return out;
}
