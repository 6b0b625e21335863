// The platform operators' API (docs/deploy.md, "Operating tenants"): tenants created, listed with
// their usage, suspended, resumed, moved between shards and deleted. Above every tenant: a tenant's
// own tokens and keys get 403 or 401 here (workers/platform/auth.ts).
import * as z from "zod";
import { dropCachedKeys, route, Reply, type RouteDef } from "../api.ts";
import { badRequest } from "../../kernel/errors.ts";
import { ConfigError } from "../../config/schema.ts";
import { forgetConfig } from "../../config/store.ts";
import { replaceTenantConfig } from "../../config/tenants.ts";
import { setTenantSecret } from "../../secrets/store.ts";
import { issueOperatorToken } from "../../platform/auth.ts";
import { ProvisionBody, provisionTenant } from "../../platform/provision.ts";
import { deleteTenant, listTenants, setSuspended, showTenant } from "../../platform/tenants.ts";
import { abortMove, moveTenant } from "../../tenancy/move.ts";
import { otherShards, shardList } from "../../tenancy/shards.ts";
import { recentMoves, tenantsPerShard } from "../../ucs/directory.ts";
import { tenantEnv } from "../../tenancy/tenant-env.ts";

const actorOf = (c: { kind: string; operator?: string }) => (c.kind === "operator" && c.operator ? c.operator : "operator");
const asConfigError = (err: unknown) => (err instanceof ConfigError ? badRequest("invalid_config", err.message, err.issues) : err);
const TenantId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);

export const platformRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/platform/v1/session", access: "public", tags: ["platform"],
    summary: "An operator signs in with the platform secret (PLATFORM_SECRET) and gets an operator token for 8 hours",
    body: z.object({ secret: z.string().min(1).max(500), name: z.string().regex(/^[\w.@-]{1,64}$/).optional() }).strict(),
    handler: async ({ env, body }) => issueOperatorToken(env, body.secret, body.name ?? "operator"),
  }),
  route({
    method: "get", path: "/api/platform/v1/shards", access: "platform", tags: ["platform"],
    summary: "The contact-history shards: binding, jurisdiction and how many tenants each holds",
    handler: async ({ env }) => {
      const counts = await tenantsPerShard(env.CONTROL);
      return { shards: shardList(env).map((s) => ({ ...s, tenants: counts.get(s.binding) ?? 0 })) };
    },
  }),
  route({
    method: "get", path: "/api/platform/v1/tenants", access: "platform", tags: ["platform"],
    summary: "Tenants in id order with their shard, jurisdiction, status and usage (interactions, stored bytes, agents)",
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), after: TenantId.optional() }).strict(),
    handler: async ({ env, query }) => listTenants(env, query),
  }),
  route({
    method: "post", path: "/api/platform/v1/tenants", access: "platform", tags: ["platform"],
    summary:
      "Create a tenant: id, name, shard (or the jurisdiction's least used), jurisdiction (eu by default), its first admin. " +
      "Answers its ingest and read keys and the admin's password: shown this once, stored only as hashes",
    body: ProvisionBody,
    handler: async ({ env, body, caller, req }) => {
      const made = await provisionTenant(env, body, actorOf(caller), { devOutboundHost: env.DEV_OUTBOUND_HOST }).catch((e: unknown) => Promise.reject(asConfigError(e)));
      const origin = new URL(env.PUBLIC_URL || req.url).origin;
      return new Reply(201, { ...made, signIn: `${origin}/console/?tenant=${encodeURIComponent(made.tenant.id)}&login=${encodeURIComponent(made.admin.login)}` });
    },
  }),
  route({
    method: "get", path: "/api/platform/v1/tenants/:id", access: "platform", tags: ["platform"],
    summary: "One tenant with its usage and its last moves",
    handler: async ({ env, params }) => ({ ...(await showTenant(env, params.id!)), moves: await recentMoves(env.CONTROL, params.id!) }),
  }),
  route({
    method: "post", path: "/api/platform/v1/tenants/:id/suspend", access: "platform", tags: ["platform"],
    summary: "Suspend a tenant: mail is refused at SMTP time, webhooks get 503 (the provider retries), the API and chat 403; nothing new is stored",
    body: z.object({ reason: z.string().max(300).optional() }).strict(),
    handler: async ({ env, params, body, caller }) => setSuspended(env, params.id!, true, body.reason ?? null, actorOf(caller)),
  }),
  route({
    method: "post", path: "/api/platform/v1/tenants/:id/resume", access: "platform", tags: ["platform"],
    summary: "Resume a suspended tenant: its doors open again",
    handler: async ({ env, params, caller }) => setSuspended(env, params.id!, false, null, actorOf(caller)),
  }),
  route({
    method: "post", path: "/api/platform/v1/tenants/:id/move", access: "platform", tags: ["platform"],
    summary: "Move a tenant to another shard of its jurisdiction: copied, verified, switched; writes arriving meanwhile are held, then land on the new shard",
    body: z.object({ shard: z.string().min(1).max(64) }).strict(),
    handler: async ({ env, params, body, caller }) => moveTenant(env, params.id!, body.shard, actorOf(caller)),
  }),
  route({
    method: "post", path: "/api/platform/v1/tenants/:id/move/abort", access: "platform", tags: ["platform"],
    summary: "End a move whose request died (no heartbeat for a minute): the tenant stays on its shard, unfrozen; the partial copy is removed (409 while the move still runs)",
    handler: async ({ env, params, caller }) => abortMove(env, params.id!, actorOf(caller)),
  }),
  route({
    method: "put", path: "/api/platform/v1/tenants/:id/config", access: "platform", tags: ["platform"],
    summary: "Replace a tenant's config (and set the secrets it names first), as its admin would: for imports and the demo's reload",
    body: z.object({ config: z.record(z.string(), z.unknown()), secrets: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/), z.string().min(1).max(4096)).optional() }).strict(),
    handler: async ({ env, params, body, caller }) => {
      const te = await tenantEnv(env, params.id!, { allowSuspended: true });
      for (const [name, value] of Object.entries(body.secrets ?? {})) await setTenantSecret(te, params.id!, name, value);
      const r = await replaceTenantConfig(te.DB, params.id!, body.config, { devOutboundHost: env.DEV_OUTBOUND_HOST, actor: actorOf(caller), peers: otherShards(env, te.SHARD) }).catch((e: unknown) => Promise.reject(asConfigError(e)));
      forgetConfig(params.id!);
      return r;
    },
  }),
  route({
    method: "delete", path: "/api/platform/v1/tenants/:id", access: "platform", tags: ["platform"],
    summary: "Delete a tenant and everything it holds (rows, files, objects). ?confirm=<id> must repeat its id",
    query: z.object({ confirm: z.string().max(64).optional() }).strict(),
    handler: async ({ env, params, query, caller }) => {
      if (query.confirm !== params.id) throw badRequest("confirm_required", `repeat the tenant's id: ?confirm=${params.id}`);
      const r = await deleteTenant(env, params.id!, actorOf(caller));
      // This isolate forgets its keys at once (others within the key cache's 30 s).
      dropCachedKeys();
      return r;
    },
  }),
];

