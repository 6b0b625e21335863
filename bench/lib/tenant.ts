// Loads the bench's big tenant into the bench's own local D1 (its snapshot and state dirs),
// with the same SQL as `npm start` (scripts/sql.ts keeps every statement within D1's limit).
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { tenantSql } from "../../scripts/sql.ts";
import { devVar, directorySql } from "../../scripts/local.ts";
import { BENCH_SHARD, wranglerIn, type Workdir } from "./dev.ts";

/** `secrets`: the tenant's own secrets its config names, sealed under the snapshot's SECRETS_KEY.
 *  The benches write with `ingestKey`; the read key (`{ingestKey}-read`) is there for a bench that reads. */
export async function loadBigTenant(config: unknown, ingestKey: string, w: Workdir, secrets?: Record<string, string>): Promise<{ configBytes: number; statements: number }> {
  let sealing: { secrets: Record<string, string>; secretsKey: string } | undefined;
  if (secrets) {
    const secretsKey = devVar("SECRETS_KEY", join(w.src, ".dev.vars"));
    if (!secretsKey) throw new Error("the snapshot's .dev.vars has no SECRETS_KEY");
    sealing = { secrets, secretsKey };
  }
  const t = await tenantSql(config, { ingest: ingestKey, read: `${ingestKey}-read` }, sealing, { devOutboundHost: devVar("DEV_OUTBOUND_HOST", join(w.src, ".dev.vars")) });
  const file = join(w.dir, `tenant-${t.tenantId}.sql`);
  writeFileSync(file, t.sql);
  wranglerIn(w.src, ["d1", "execute", BENCH_SHARD, "--local", "--file", file, "--persist-to", w.state]);
  // Its directory entry, as the platform API writes one.
  const name = (config as { tenant?: { name?: string } }).tenant?.name ?? t.tenantId;
  wranglerIn(w.src, ["d1", "execute", "CONTROL", "--local", "--command", directorySql(t.tenantId, name, BENCH_SHARD), "--persist-to", w.state]);
  return { configBytes: t.configBytes, statements: t.statements };
}
