// The one-time upgrade of configs stored before tenant secrets (scripts/upgrade-secrets.ts runs it
// for the operator). Those configs name Worker variables: numbers[].secret was "TWILIO_AUTH_TOKEN"
// by default (or "SMS_GENERIC_SECRET"), and an http mail transport had no `secret` and used
// MAIL_API_TOKEN. The operator gives those values; each tenant naming one gets it sealed as its own
// secret, and its config names that secret instead. Pure apart from sealing (WebCrypto).
import type { Statement } from "../ucs/tenant-statements.ts";
import { sealSecret } from "./crypto.ts";
import { secretUpsert } from "../ucs/secret-statements.ts";

/** The Worker variables configs used to name, and the tenant-secret name each becomes. */
export const LEGACY_SECRETS: Readonly<Record<string, string>> = { TWILIO_AUTH_TOKEN: "twilio", SMS_GENERIC_SECRET: "generic", MAIL_API_TOKEN: "mail" };
/** Never copied into a tenant, whatever a config names or the operator passes. */
export const PLATFORM_ONLY = ["AUTH_SECRET", "SECRETS_KEY", "SECRETS_KEY_PREVIOUS", "TURNSTILE_SECRET", "DEV_OUTBOUND_HOST"] as const;

export interface StoredTenant {
  tenantId: string;
  /** The stored config, as JSON (not validated: it is from before the rules). */
  config: Record<string, unknown>;
  version: number;
  /** Names of the secrets the tenant has set. */
  secrets: readonly string[];
}

export interface UpgradePlan {
  tenantId: string;
  version: number;
  /** Values to seal as the tenant's own: under `name`, from the operator's `legacy` variable. */
  seal: { name: string; legacy: string }[];
  /** References rewritten. */
  changes: { path: string; from: string | null; to: string }[];
  /** The config with the references rewritten (only meaningful when `changes` is not empty). */
  config: Record<string, unknown>;
  /** What could not be upgraded, for the operator to read (no values). */
  problems: string[];
  /** The values to seal, by legacy name (kept out of any printed output). */
  values: Record<string, string>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * What to change for one tenant. `values` are the operator's legacy variables (name → value); a
 * reference is upgraded only if its variable is in LEGACY_SECRETS (or `extra`, names the operator
 * chose), never PLATFORM_ONLY, has a value, and the tenant has no secret of that exact name (then it
 * already resolves). The new name is LEGACY_SECRETS' ("twilio"...), or the legacy name itself when
 * the tenant already uses the new one for something else.
 */
export function planUpgrade(t: StoredTenant, values: Readonly<Record<string, string | undefined>>, extra: readonly string[] = []): UpgradePlan {
  const config = structuredClone(t.config);
  const have = new Set(t.secrets);
  const plan: UpgradePlan = { tenantId: t.tenantId, version: t.version, seal: [], changes: [], config, problems: [], values: {} };
  const target = new Map<string, string | null>(); // legacy → new name (null: not upgradable)

  const resolve = (legacy: string, path: string): string | null => {
    if (target.has(legacy)) return target.get(legacy)!;
    let to: string | null = null;
    if ((PLATFORM_ONLY as readonly string[]).includes(legacy)) plan.problems.push(`${t.tenantId}: ${path} names the platform's ${legacy}; it is never given to a tenant: the tenant's admin must set its own secret and name it`);
    else if (!(legacy in LEGACY_SECRETS) && !extra.includes(legacy)) plan.problems.push(`${t.tenantId}: ${path} names '${legacy}', which the tenant has not set and is not a legacy variable (${[...Object.keys(LEGACY_SECRETS), ...extra].join(", ")})`);
    else if (!values[legacy]) plan.problems.push(`${t.tenantId}: ${path} names ${legacy}, but no value was given for it: nothing changed there`);
    else {
      const preferred = LEGACY_SECRETS[legacy] ?? legacy.toLowerCase().replace(/_/g, "-");
      to = have.has(preferred) ? legacy : preferred;
      plan.seal.push({ name: to, legacy });
      plan.values[legacy] = values[legacy]!;
      have.add(to);
    }
    target.set(legacy, to);
    return to;
  };

  const numbers = Array.isArray(config.numbers) ? config.numbers : [];
  numbers.forEach((n, i) => {
    if (!isObj(n)) return;
    const path = `numbers[${i}].secret`;
    // A number stored before `secret` was required used the old default.
    const name = typeof n.secret === "string" ? n.secret : "TWILIO_AUTH_TOKEN";
    if (t.secrets.includes(name)) return;
    const to = resolve(name, path);
    if (to && to !== n.secret) {
      plan.changes.push({ path, from: typeof n.secret === "string" ? n.secret : null, to });
      n.secret = to;
    }
  });
  const transport = isObj(config.email) && isObj(config.email.transport) ? config.email.transport : undefined;
  if (transport?.kind === "http") {
    const path = "email.transport.secret";
    const name = typeof transport.secret === "string" ? transport.secret : "MAIL_API_TOKEN";
    if (!t.secrets.includes(name)) {
      const to = resolve(name, path);
      if (to && to !== transport.secret) {
        plan.changes.push({ path, from: typeof transport.secret === "string" ? transport.secret : null, to });
        transport.secret = to;
      }
    }
  }
  return plan;
}

/** D1's statement limit, less room for the rest of the UPDATE. */
const CHUNK = 40_000;

/** The statements that carry a plan out: seal each value, then store the rewritten config with a new
 *  version, only if the config is still the version planned from (an admin's save meanwhile wins; run
 *  again). A config too long for one statement is written in pieces. */
export async function upgradeStatements(plan: UpgradePlan, secretsKey: string, now = Date.now()): Promise<Statement[]> {
  const out: Statement[] = [];
  for (const s of plan.seal) out.push(secretUpsert(plan.tenantId, s.name, await sealSecret(secretsKey, plan.tenantId, s.name, plan.values[s.legacy]!), now));
  if (plan.changes.length === 0) return out;
  const json = JSON.stringify(plan.config);
  out.push({ sql: "UPDATE tenants SET config = ?, config_version = config_version + 1 WHERE id = ? AND config_version = ?", params: [json.slice(0, CHUNK), plan.tenantId, plan.version] });
  // Each piece is appended only to the pieces before it (same length and start), never to a config
  // someone else saved meanwhile.
  for (let i = CHUNK; i < json.length; i += CHUNK)
    out.push({ sql: "UPDATE tenants SET config = config || ? WHERE id = ? AND config_version = ? AND length(config) = ? AND substr(config, 1, 200) = ?", params: [json.slice(i, i + CHUNK), plan.tenantId, plan.version + 1, i, json.slice(0, 200)] });
  return out;
}
