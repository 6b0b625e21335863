// Removing every row of a tenant from one shard: after a move (the shard it left), after a failed
// provisioning or import, and when a tenant is deleted. Its fence says 'gone' first, so a writer
// that still thinks the tenant lives here is refused instead of leaving a row behind.
import { deleteRows, ensureFences, setFence, tenantTables } from "../ucs/shard-tables.ts";

export async function purgeTenantRows(db: D1Database, tenant: string, opts: { keepFence?: boolean } = {}): Promise<number> {
  const tables = await tenantTables(db);
  await ensureFences(db, tables);
  await setFence(db, tenant, "gone");
  let removed = 0;
  // `tenants` last: the others refer to it.
  for (const t of [...tables].reverse()) removed += await deleteRows(db, t, tenant);
  if (!opts.keepFence) await setFence(db, tenant, null);
  return removed;
}
