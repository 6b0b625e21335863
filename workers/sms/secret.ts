// A number's signing key: the owning tenant's own secret, by the name its config gives
// (`numbers[].secret`). Never a Worker variable: a tenant's config reaches only its own secrets.
import type { CompiledConfig } from "../config/compiled.ts";
import { tenantSecret } from "../secrets/store.ts";
import type { CenterNumber } from "./inbound.ts";

export function numberSecret(env: Env, cfg: CompiledConfig, center: CenterNumber): Promise<string | undefined> {
  return tenantSecret(env, cfg.tenantId, center.secret);
}
