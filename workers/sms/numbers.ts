// A contact-center number's owner: the tenant that number_routes gives it to, that tenant's config,
// and the number's entry in it. Every SMS and MMS door starts here.
import type { CompiledConfig } from "../config/compiled.ts";
import { getConfig } from "../config/store.ts";
import type { CenterNumber } from "./inbound.ts";
import { numberTenant } from "../ucs/sms.ts";

export async function numberOwner(env: Env, number: string): Promise<{ cfg: CompiledConfig; center: CenterNumber } | null> {
  const tenant = await numberTenant(env.DB, number);
  if (!tenant) return null;
  const cfg = await getConfig(env.DB, tenant);
  const center = cfg.raw.numbers.find((n) => n.number === number);
  return center ? { cfg, center } : null;
}
