// Where a tenant's config names one of its secrets: numbers[].secret and email.transport.secret.
// Used to refuse a config naming a secret the tenant has not set, and a delete of one still named. Pure.
import type { TenantConfig } from "./schema.ts";
import { socialSecretRefs } from "./social.ts";

export function secretRefs(cfg: Pick<TenantConfig, "numbers" | "email"> & Partial<Pick<TenantConfig, "social">>): { path: string; name: string }[] {
  const out: { path: string; name: string }[] = [];
  (cfg.numbers ?? []).forEach((n, i) => {
    if (n.secret) out.push({ path: `numbers[${i}].secret`, name: n.secret });
  });
  const t = cfg.email?.transport;
  if (t?.kind === "http" && t.secret) out.push({ path: "email.transport.secret", name: t.secret });
  out.push(...socialSecretRefs(cfg.social));
  return out;
}
