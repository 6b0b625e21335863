// A contact-center number's owner: the tenant that number_routes gives it to, that tenant's config,
// and the number's entry in it. Every SMS and MMS door starts here.
import { tenantEnv, type TenantEnv } from "../tenancy/tenant-env.ts";
import { findOnShards } from "../tenancy/locate.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import type { CenterNumber } from "./inbound.ts";
import { numberTenant } from "../ucs/sms.ts";
import { TtlCache } from "../kernel/ttl-cache.ts";

/** A number's tenant, kept for 30 s per isolate: a webhook saves its round trip. A number moved to
 *  another tenant meanwhile is missing from the cached tenant's config, which sends us to D1 again. */
const owners = new TtlCache<string>(30_000);

/** The owner of a number, with its tenant's env. A suspended tenant is found too (its webhook's
 *  signature is checked with its secret first); the door then refuses it (assertOpen). */
export async function numberOwner(platform: Env, number: string): Promise<{ cfg: CompiledConfig; center: CenterNumber; env: TenantEnv } | null> {
  const cached = owners.get(number);
  for (const fresh of cached === undefined ? [true] : [false, true]) {
    const tenant = fresh ? (await findOnShards(platform, async (db) => ((t) => (t ? { tenant: t } : null))(await numberTenant(db, number))))?.tenant : cached!;
    if (!tenant) return null;
    const env = await tenantEnv(platform, tenant, { allowSuspended: true });
    const cfg = await getConfig(env.DB, tenant);
    const center = cfg.raw.numbers.find((n) => n.number === number);
    if (center) {
      owners.set(number, tenant);
      return { cfg, center, env };
    }
  }
  return null;
}
