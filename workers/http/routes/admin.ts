// Configuration Server API: read and replace the tenant's whole config.
import * as z from "zod";
import { forgetConfig } from "../../config/store.ts";
import { ConfigError, TenantConfig } from "../../config/schema.ts";
import { loadTenantConfig, replaceTenantConfig, secretWarnings } from "../../config/tenants.ts";
import { route } from "../api.ts";
import { badRequest } from "../../kernel/errors.ts";
import { otherShards } from "../../tenancy/shards.ts";

export const adminRoutes = [
  route({
    method: "get", path: "/api/v1/admin/config", access: "admin", tags: ["admin"],
    summary: "The tenant's config (no passwords), and `warnings`: each secret it names that the tenant has not set (a config stored before tenant secrets: see docs/sms.md, Upgrading)",
    handler: async ({ env, caller }) => {
      const r = await loadTenantConfig(env.DB, caller.tenant);
      return { ...r, warnings: await secretWarnings(env.DB, caller.tenant, r.config) };
    },
  }),
  route({
    method: "put", path: "/api/v1/admin/config", access: "admin", tags: ["admin"],
    summary: "Replace the tenant's config. Validated whole; an error names the bad field. Secrets it names (numbers[].secret, email.transport.secret) must be set first (PUT /api/v1/admin/secrets/{name}). Agents keep their passwords unless one is given. With If-Match: \"<version>\", 409 version_conflict if the config changed since that version.",
    body: z.unknown().describe("A tenant config") as z.ZodType,
    responses: { 200: { description: "The stored config and its new version", schema: z.object({ config: TenantConfig, version: z.number() }) } },
    handler: async ({ env, caller, body, req }) => {
      // If-Match: "<version>" (the version the editor loaded) refuses a save over someone else's newer one.
      const match = req.headers.get("If-Match");
      const expectedVersion = match === null ? undefined : Number(match.replace(/^W\//, "").replace(/"/g, ""));
      if (expectedVersion !== undefined && !Number.isInteger(expectedVersion)) throw badRequest("invalid_if_match", "If-Match: give the config version you loaded, as \"12\"");
      try {
        const r = await replaceTenantConfig(env.DB, caller.tenant, body, { expectedVersion, devOutboundHost: env.DEV_OUTBOUND_HOST, actor: caller.kind === "user" ? `agent:${caller.agentId}` : caller.kind, origin: req.headers.get("CF-Connecting-IP"), peers: otherShards(env, env.SHARD) });
        forgetConfig(caller.tenant);
        return r;
      } catch (err) {
        if (err instanceof ConfigError) throw badRequest("invalid_config", err.message, err.issues);
        throw err;
      }
    },
  }),
];
