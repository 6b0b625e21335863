// The platform's tenants: listed with their usage, suspended and resumed, deleted.
import { AppError, notFound } from "../kernel/errors.ts";
import { directoryEntries, directoryEntry, removeEntry, setStatus, type DirectoryEntry } from "../ucs/directory.ts";
import { chatIdsOf, tenantUsage } from "../ucs/shard-tables.ts";
import { getConfig } from "../config/store.ts";
import { agentStub, chatStub, classifierStub, dashboardStub, eventPumpStub, queueStub } from "../../durable-objects/names.ts";
import { DIRECTORY_TTL_MS, dropDirectoryCache, scopedEnv } from "../tenancy/tenant-env.ts";
import { shardDb, shardList } from "../tenancy/shards.ts";
import { purgeTenantRows } from "./purge.ts";

export interface TenantView extends DirectoryEntry {
  usage: { interactions: number; storageBytes: number; agents: number } | null;
}

async function withUsage(env: Env, e: DirectoryEntry): Promise<TenantView> {
  const usage = e.status === "deleting" ? null : await tenantUsage(shardDb(env, e.shard), e.id).catch(() => null);
  return { ...e, usage };
}

export async function listTenants(env: Env, opts: { limit: number; after?: string }): Promise<{ tenants: TenantView[]; next: string | null }> {
  const entries = await directoryEntries(env.CONTROL, opts);
  const tenants = await Promise.all(entries.map((e) => withUsage(env, e)));
  return { tenants, next: entries.length === opts.limit ? entries.at(-1)!.id : null };
}

export async function showTenant(env: Env, id: string): Promise<TenantView> {
  const e = await directoryEntry(env.CONTROL, id);
  if (!e) throw notFound("unknown_tenant", `no tenant '${id}'`);
  return withUsage(env, e);
}

/** Suspends or resumes: the doors refuse a suspended tenant's traffic (within the directory cache's
 *  few seconds on other isolates); nothing it holds is touched. */
export async function setSuspended(env: Env, id: string, suspended: boolean, reason: string | null, actor: string): Promise<TenantView> {
  const e = await directoryEntry(env.CONTROL, id);
  if (!e || e.status === "deleting") throw notFound("unknown_tenant", `no tenant '${id}'`);
  await setStatus(env.CONTROL, id, suspended ? "suspended" : "active", suspended ? reason : null, actor, Date.now());
  dropDirectoryCache(id);
  return showTenant(env, id);
}

/** Deletes a tenant and everything it has: its doors close first (status 'deleting'), then its
 *  objects' storage, its bytes in R2 and its rows on its shard, then its directory entry. Idempotent:
 *  a delete that stopped midway is finished by asking again. */
export async function deleteTenant(env: Env, id: string, actor: string, opts: { settleMs?: number } = {}): Promise<{ tenant: string; rows: number; blobs: number; objects: number }> {
  const e = await directoryEntry(env.CONTROL, id);
  if (!e) throw notFound("unknown_tenant", `no tenant '${id}'`);
  if (e.movingTo) throw new AppError(409, "move_in_progress", `tenant '${id}' is being moved; delete it when the move is done`);
  await setStatus(env.CONTROL, id, "deleting", null, actor, Date.now());
  dropDirectoryCache(id);
  // Every isolate's directory cache learns of it before anything is wiped: no door still writes.
  await new Promise((r) => setTimeout(r, opts.settleMs ?? DIRECTORY_TTL_MS + 1_000));
  const te = scopedEnv(env, e, e.shard);
  let objects = 0;
  const cfg = await getConfig(te.DB, id).catch(() => null);
  const stubs: { wipe(): Promise<void> }[] = [dashboardStub(te, id), classifierStub(te, id), eventPumpStub(te, id)];
  if (cfg) {
    for (const q of cfg.queues.keys()) stubs.push(queueStub(te, id, q));
    for (const a of cfg.agents.keys()) stubs.push(agentStub(te, id, a));
  }
  for (const chat of await chatIdsOf(te.DB, id)) stubs.push(chatStub(te, id, chat));
  for (let i = 0; i < stubs.length; i += 20) {
    const done = await Promise.all(stubs.slice(i, i + 20).map((s) => s.wipe().then(() => 1, (err: unknown) => (console.error(`delete ${id}: an object`, err), 0))));
    objects += done.reduce<number>((a, b) => a + b, 0);
  }
  let blobs = 0;
  for (const prefix of [`${id}/`, `classifier/${id}/`]) {
    for (let cursor: string | undefined; ; ) {
      const page = await te.BLOBS.list({ prefix, cursor, limit: 1000 });
      if (page.objects.length) await te.BLOBS.delete(page.objects.map((o) => o.key));
      blobs += page.objects.length;
      if (!page.truncated) break;
      cursor = page.cursor;
    }
  }
  // Its shard, and any other a failed clean-up after a move left rows on.
  let rows = 0;
  for (const s of shardList(env)) rows += await purgeTenantRows(shardDb(env, s.binding), id, { keepFence: true });
  await removeEntry(env.CONTROL, id);
  dropDirectoryCache(id);
  return { tenant: id, rows, blobs, objects };
}
