// Creating a tenant (the platform operator's API and `npm start`'s demo tenant both come here): its
// directory entry in the control database, its secrets and config on its shard, its first admin with
// a password shown once, and its two API keys shown once.
import * as z from "zod";
import { createTenant, newApiKey, type TenantKeys } from "../config/tenants.ts";
import { setTenantSecret } from "../secrets/store.ts";
import { badRequest, fromUnknown } from "../kernel/errors.ts";
import { insertEntry, removeEntry, tenantsPerShard, type DirectoryEntry } from "../ucs/directory.ts";
import { checkShard, otherShards, DEFAULT_JURISDICTION, isJurisdiction, JURISDICTIONS, pickShard, type Jurisdiction } from "../tenancy/shards.ts";
import { dropDirectoryCache, scopedEnv, type TenantEnv } from "../tenancy/tenant-env.ts";
import { purgeTenantRows } from "./purge.ts";

const Id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "use 1-64 lowercase letters, digits, '-' or '_'");

export const ProvisionBody = z
  .object({
    id: Id,
    name: z.string().min(1).max(200),
    /** A shard binding (SHARD_0...); the jurisdiction's least used shard when left out. */
    shard: z.string().max(64).optional(),
    jurisdiction: z.string().max(16).optional(),
    admin: z.object({ login: Id, fullName: z.string().min(1).max(200).optional() }).strict(),
    /** A whole tenant config to start from (an import; the demo). Its tenant.id must be `id`; the admin
     *  above is added to its agents unless it has that login already. */
    config: z.record(z.string(), z.unknown()).optional(),
    /** Keys to use instead of new random ones (a migration from another install keeps its keys). */
    keys: z.object({ ingest: z.string().min(16).max(200), read: z.string().min(16).max(200) }).strict().optional(),
    /** Secrets its config names, set before the config is stored. */
    secrets: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), z.string().min(1).max(4096)).optional(),
    /** The admin's first password; a strong random one when left out (shown once either way). */
    adminPassword: z.string().min(8).max(200).optional(),
  })
  .strict();
export type ProvisionInput = z.infer<typeof ProvisionBody>;

export interface Provisioned {
  tenant: DirectoryEntry;
  keys: TenantKeys;
  admin: { login: string; password: string };
}

/** A random password of 20 characters from an alphabet without look-alikes (about 115 bits). */
export function newPassword(): string {
  const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}

export function parseJurisdiction(j: string | undefined): Jurisdiction {
  if (j === undefined) return DEFAULT_JURISDICTION;
  if (!isJurisdiction(j)) throw badRequest("bad_jurisdiction", `jurisdiction: '${j}' is not one of ${JURISDICTIONS.join(", ")}`);
  return j;
}

/** The entry of a new tenant in the directory, on its shard: false when the id is taken. */
export async function registerTenant(env: Env, t: { id: string; name: string; shard?: string; jurisdiction?: string }, actor: string): Promise<TenantEnv> {
  const jurisdiction = parseJurisdiction(t.jurisdiction);
  const shard = t.shard ? checkShard(env, t.shard, jurisdiction) : pickShard(env, jurisdiction, await tenantsPerShard(env.CONTROL));
  if (!(await insertEntry(env.CONTROL, { id: t.id, name: t.name, shard: shard.binding, jurisdiction }, actor, Date.now()))) throw badRequest("tenant_exists", `a tenant '${t.id}' exists already`);
  dropDirectoryCache(t.id);
  return scopedEnv(env, { id: t.id, jurisdiction }, shard.binding);
}

function configFor(input: ProvisionInput, password: string): Record<string, unknown> {
  const base: Record<string, unknown> = input.config
    ? { ...input.config }
    : {
        tenant: { id: input.id, name: input.name },
        queues: [{ name: "inbound", media: ["email", "webform", "chat", "sms", "generic", "callback"], steps: [{ type: "route", targets: [{ skills: "*" }] }] }],
        workflows: [{ name: "main", queue: "inbound" }],
      };
  const tenant = base.tenant as { id?: unknown } | undefined;
  if (input.config && tenant?.id !== input.id) throw badRequest("invalid_config", `config.tenant.id: must be '${input.id}'`);
  const agents = Array.isArray(base.agents) ? [...(base.agents as Record<string, unknown>[])] : [];
  const existing = agents.findIndex((a) => a.login === input.admin.login);
  const admin = { id: input.admin.login, login: input.admin.login, fullName: input.admin.fullName ?? input.admin.login, role: "admin", password, skills: {}, capacity: {} };
  if (existing >= 0) agents[existing] = { ...agents[existing], role: "admin", password };
  else agents.push(admin);
  return { ...base, agents };
}

/** Creates the tenant, or nothing: a failure after its directory entry is written removes what was made. */
export async function provisionTenant(env: Env, input: ProvisionInput, actor: string, opts: { devOutboundHost?: string } = {}): Promise<Provisioned> {
  const password = input.adminPassword ?? newPassword();
  const config = configFor(input, password);
  const te = await registerTenant(env, input, actor);
  try {
    // Anything a deleted tenant of the same id left behind (a late write) goes, with its fence.
    await purgeTenantRows(te.DB, input.id);
    for (const [name, value] of Object.entries(input.secrets ?? {})) await setTenantSecret(te, input.id, name, value);
    const keys: TenantKeys = input.keys ?? { ingest: newApiKey("ingest"), read: newApiKey("read") };
    await createTenant(te.DB, config, keys, { devOutboundHost: opts.devOutboundHost, peers: otherShards(env, te.SHARD) });
    return { tenant: { id: input.id, name: input.name, shard: te.SHARD, jurisdiction: te.JURISDICTION, status: "active", statusReason: null, movingTo: null, createdAt: Date.now(), updatedAt: Date.now() }, keys, admin: { login: input.admin.login, password } };
  } catch (err) {
    await purgeTenantRows(te.DB, input.id).catch((e: unknown) => console.error(`provision: clearing ${input.id} after a failure`, e));
    await removeEntry(env.CONTROL, input.id);
    dropDirectoryCache(input.id);
    throw fromUnknown(err) ?? err;
  }
}
