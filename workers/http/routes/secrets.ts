// A tenant's own secrets (provider tokens, relay passwords): set, listed and deleted by its admin,
// never read back. The config names them (numbers[].secret, email.transport.secret); the values stay
// sealed in D1 (workers/secrets/) and are opened only where they are used.
import * as z from "zod";
import { SECRET_NAME } from "../../config/schema.ts";
import { secretRefs } from "../../config/secret-refs.ts";
import { MAX_SECRET_CHARS, MAX_SECRETS_PER_TENANT } from "../../secrets/crypto.ts";
import { deleteUnusedTenantSecret, listTenantSecrets, setTenantSecret } from "../../secrets/store.ts";
import { forgetOpenedSecrets } from "../../sms/secret.ts";
import { loadTenantConfig } from "../../config/tenants.ts";
import { route, type RouteDef } from "../api.ts";
import { badRequest, conflict, notFound } from "../../kernel/errors.ts";

function nameOf(params: Record<string, string>): string {
  const name = params.name ?? "";
  if (!SECRET_NAME.test(name)) throw badRequest("invalid_secret_name", "a secret's name is 1-64 letters, digits, '-' or '_', starting with a letter");
  return name;
}

const Listed = z.object({ name: z.string(), updatedAt: z.number() });

export const secretRoutes: RouteDef[] = [
  route({
    method: "get", path: "/api/v1/admin/secrets", access: "admin", tags: ["admin"],
    summary: "The tenant's secrets: names and when each was set, never a value",
    responses: { 200: { description: "Names only", schema: z.object({ secrets: z.array(Listed) }) } },
    handler: async ({ env, caller }) => ({ secrets: await listTenantSecrets(env.DB, caller.tenant) }),
  }),
  route({
    method: "put", path: "/api/v1/admin/secrets/:name", access: "admin", tags: ["admin"],
    summary: `Set one of the tenant's secrets (created or replaced; at most ${MAX_SECRETS_PER_TENANT}), encrypted at rest; the value (1-${MAX_SECRET_CHARS} characters) is never returned`,
    body: z.object({ value: z.string().min(1).max(MAX_SECRET_CHARS) }).strict(),
    responses: { 200: { description: "Set (the name and when, not the value)", schema: Listed } },
    handler: async ({ env, caller, params, body }) => {
      const name = nameOf(params);
      // The cap is checked in the insert itself: two admins adding at once cannot both take the last place.
      const updatedAt = await setTenantSecret(env, caller.tenant, name, body.value);
      if (updatedAt === null) throw conflict("too_many_secrets", `a tenant keeps at most ${MAX_SECRETS_PER_TENANT} secrets: delete one first`);
      forgetOpenedSecrets();
      return { name, updatedAt };
    },
  }),
  route({
    method: "delete", path: "/api/v1/admin/secrets/:name", access: "admin", tags: ["admin"],
    summary: "Delete one of the tenant's secrets; 409 secret_in_use while the config names it",
    responses: { 204: { description: "Deleted" } },
    handler: async ({ env, caller, params }) => {
      const name = nameOf(params);
      // Deleted only if the stored config does not name it, in the same statement; then, if
      // nothing was deleted, say why.
      if (await deleteUnusedTenantSecret(env.DB, caller.tenant, name)) return forgetOpenedSecrets(), new Response(null, { status: 204 });
      const { config } = await loadTenantConfig(env.DB, caller.tenant);
      const uses = secretRefs(config).filter((r) => r.name === name);
      if (uses.length) throw conflict("secret_in_use", `${uses.map((u) => u.path).join(", ")} names '${name}': change the config first`);
      throw notFound("unknown_secret", `this tenant has no secret '${name}'`);
    },
  }),
];
