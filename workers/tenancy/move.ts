// Moving a tenant to another shard: announce, settle, freeze, copy, verify, switch, clean up.
//  1. The directory says the tenant is moving: doors hold its writes (tenant-env.ts) until it's done.
//  2. Wait out the directory cache, so no isolate still writes to the old shard unannounced.
//  3. Freeze its rows on the old shard: fence triggers refuse any write a late isolate still makes.
//  4. Copy table by table, then verify: the same row count and the same digest of every row.
//  5. Switch the directory to the new shard; the held writes go there.
//  6. Mark it gone on the old shard and delete its rows there.
// A failure before the switch leaves the tenant where it was: the copy is removed, the fence lifted.
import { AppError, badRequest, conflict } from "../kernel/errors.ts";
import { beginMove, endMove, moveBeat, openMove } from "../ucs/directory.ts";
import { ensureFences, insertRows, rowsPage, setFence, tenantTables, type TenantTable } from "../ucs/shard-tables.ts";
import { purgeTenantRows } from "../platform/purge.ts";
import { checkShard, shardDb } from "./shards.ts";
import { DIRECTORY_TTL_MS, dropDirectoryCache, lookupEntry } from "./tenant-env.ts";

/** Rows per page: message parts can be large, so pages stay small. */
const PAGE = 100;
/** A move whose heartbeat is older than this has lost its request, and may be aborted. */
export const MOVE_STALE_MS = 60_000;

export interface MoveReport {
  tenant: string;
  from: string;
  to: string;
  rows: number;
  tables: Record<string, number>;
  ms: number;
}

async function digestOf(prev: string, rows: unknown[][]): Promise<string> {
  const bytes = new TextEncoder().encode(prev + JSON.stringify(rows));
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every row of one table, page by page; the digest of all of them in order. */
async function walk(db: D1Database, t: TenantTable, tenant: string, each?: (rows: unknown[][]) => Promise<void>): Promise<{ n: number; digest: string }> {
  let n = 0;
  let digest = "";
  for (;;) {
    const rows = await rowsPage(db, t, tenant, PAGE, n);
    if (each) await each(rows);
    digest = await digestOf(digest, rows);
    n += rows.length;
    if (rows.length < PAGE) return { n, digest };
  }
}

export async function moveTenant(env: Env, tenant: string, to: string, actor: string, opts: { settleMs?: number } = {}): Promise<MoveReport> {
  const started = Date.now();
  const entry = await lookupEntry(env, tenant, true);
  if (!entry || entry.status === "deleting") throw new AppError(404, "unknown_tenant", `no tenant '${tenant}'`);
  checkShard(env, to, entry.jurisdiction);
  if (entry.shard === to) throw badRequest("same_shard", `tenant '${tenant}' is on ${to} already`);
  const from = entry.shard;
  const moveId = await beginMove(env.CONTROL, tenant, from, to, actor, Date.now());
  if (moveId === null) throw conflict("move_in_progress", `tenant '${tenant}' is being moved already`);
  dropDirectoryCache(tenant);
  const src = shardDb(env, from);
  const dst = shardDb(env, to);
  let switched = false;
  let rows = 0;
  const tables: Record<string, number> = {};
  try {
    await new Promise((r) => setTimeout(r, opts.settleMs ?? DIRECTORY_TTL_MS + 1_000));
    const [srcTables, dstTables] = await Promise.all([tenantTables(src), tenantTables(dst)]);
    const dstNames = new Set(dstTables.map((t) => t.name));
    const missing = srcTables.filter((t) => !dstNames.has(t.name)).map((t) => t.name);
    if (missing.length) throw new AppError(409, "schema_mismatch", `${to} lacks ${missing.join(", ")}: apply the migrations to every shard first (npm run migrate)`);
    await Promise.all([ensureFences(src, srcTables), ensureFences(dst, dstTables)]);
    await setFence(src, tenant, "frozen");
    // Whatever an earlier, failed move left on the target goes first.
    await purgeTenantRows(dst, tenant, { keepFence: true });
    await setFence(dst, tenant, "importing");
    for (const t of srcTables) {
      await moveBeat(env.CONTROL, moveId, rows, Date.now());
      const copied = await walk(src, t, tenant, (page) => insertRows(dst, t, page));
      const check = await walk(dst, t, tenant);
      if (check.n !== copied.n || check.digest !== copied.digest) throw new AppError(500, "verify_failed", `${t.name}: copied ${copied.n} rows, found ${check.n}${check.n === copied.n ? " with different contents" : ""}`);
      tables[t.name] = copied.n;
      rows += copied.n;
    }
    await setFence(dst, tenant, null);
    await endMove(env.CONTROL, moveId, tenant, { shard: to, state: "done", rows, detail: null }, actor, Date.now());
    switched = true;
    dropDirectoryCache(tenant);
    await purgeTenantRows(src, tenant, { keepFence: true });
    return { tenant, from, to, rows, tables, ms: Date.now() - started };
  } catch (err) {
    if (switched) {
      // The tenant is on its new shard; only the old copy's clean-up failed. It stays fenced.
      console.error(`move of ${tenant}: cleaning ${from} failed`, err);
      return { tenant, from, to, rows, tables, ms: Date.now() - started };
    }
    const why = err instanceof Error ? err.message : String(err);
    await purgeTenantRows(dst, tenant).catch((e: unknown) => console.error(`move of ${tenant}: clearing ${to}`, e));
    await setFence(src, tenant, null).catch((e: unknown) => console.error(`move of ${tenant}: unfreezing ${from}`, e));
    await endMove(env.CONTROL, moveId, tenant, { shard: from, state: "failed", rows, detail: why.slice(0, 500) }, actor, Date.now());
    dropDirectoryCache(tenant);
    throw err;
  }
}

/** Ends a move whose request died (its heartbeat stopped): the tenant stays where it was, its copy
 *  on the target is removed and its rows are unfrozen. A move still beating is refused (409). */
export async function abortMove(env: Env, tenant: string, actor: string, now = Date.now()): Promise<{ tenant: string; shard: string; aborted: number }> {
  const move = await openMove(env.CONTROL, tenant);
  if (!move) throw conflict("no_move", `tenant '${tenant}' is not being moved`);
  if (now - move.beatAt < MOVE_STALE_MS) throw conflict("move_running", `the move of '${tenant}' last reported ${Math.round((now - move.beatAt) / 1000)} s ago: it is still running`);
  await purgeTenantRows(shardDb(env, move.to), tenant);
  await setFence(shardDb(env, move.from), tenant, null);
  await endMove(env.CONTROL, move.id, tenant, { shard: move.from, state: "failed", rows: 0, detail: `aborted by ${actor}: its request stopped reporting` }, actor, now);
  dropDirectoryCache(tenant);
  return { tenant, shard: move.from, aborted: move.id };
}
