// A number's signing key: the owning tenant's own secret, by the name its config gives
// (`numbers[].secret`). Never a Worker variable: a tenant's config reaches only its own secrets.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import type { CompiledConfig } from "../config/compiled.ts";
import { tenantSecret } from "../secrets/store.ts";
import type { CenterNumber } from "./inbound.ts";

import { TtlCache } from "../kernel/ttl-cache.ts";

/** Opened secrets, 10 s per isolate. A signature that fails with a cached one is checked again with
 *  the secret read afresh (`fresh`), so a rotation never refuses a good webhook; a rotated-out secret
 *  stops verifying at once in the isolate that rotated it and within 10 s everywhere else. */
const opened = new TtlCache<string>(10_000, 500);

/** A tenant's secret changed: this isolate forgets every secret it opened. */
export const forgetOpenedSecrets = () => opened.clear();

export async function numberSecret(env: TenantEnv, cfg: CompiledConfig, center: CenterNumber, fresh = false): Promise<string | undefined> {
  const key = `${cfg.tenantId}\n${center.secret}`;
  const hit = fresh ? undefined : opened.get(key);
  if (hit !== undefined) return hit;
  const v = await tenantSecret(env, cfg.tenantId, center.secret);
  if (v !== undefined) opened.set(key, v);
  return v;
}

/** Whether `check` passes with the number's secret: the cached one, then (if it fails) the one in D1 now. */
export async function verifiedWithSecret(env: TenantEnv, cfg: CompiledConfig, center: CenterNumber, check: (secret: string) => Promise<boolean>): Promise<string | null> {
  for (const fresh of [false, true]) {
    const secret = await numberSecret(env, cfg, center, fresh);
    if (secret === undefined) return null;
    if (await check(secret)) return secret;
  }
  return null;
}
