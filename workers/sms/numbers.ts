// A contact-center number's owner: the tenant that number_routes gives it to, that tenant's config,
// and the number's entry in it. Every SMS and MMS door starts here.
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import type { CenterNumber } from "./inbound.ts";
import { numberTenant } from "../ucs/sms.ts";
import { TtlCache } from "../kernel/ttl-cache.ts";

/** A number's tenant, kept for 30 s per isolate: a webhook saves its round trip. A number moved to
 *  another tenant meanwhile is missing from the cached tenant's config, which sends us to D1 again. */
const owners = new TtlCache<string>(30_000);

export async function numberOwner(env: Env, number: string): Promise<{ cfg: CompiledConfig; center: CenterNumber } | null> {
  const cached = owners.get(number);
  for (const fresh of cached === undefined ? [true] : [false, true]) {
    const tenant = fresh ? await numberTenant(env.DB, number) : cached!;
    if (!tenant) return null;
    const cfg = await getConfig(env.DB, tenant);
    const center = cfg.raw.numbers.find((n) => n.number === number);
    if (center) {
      owners.set(number, tenant);
      return { cfg, center };
    }
  }
  return null;
}
