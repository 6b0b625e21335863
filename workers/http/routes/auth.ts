import * as z from "zod";
import { appendEvent } from "../../ucs/event-log.ts";
import { getConfig } from "../../config/store.ts";
import { DUMMY_HASH, verifyPassword } from "../../auth/password.ts";
import { checkNotBlocked, countAttempt, IP_THROTTLE, ipKey, LOGIN_THROTTLE, loginKey, resetAttempts } from "../../auth/throttle.ts";
import { issueToken } from "../../auth/tokens.ts";
import { credentialOf, tokenVersionOf } from "../../ucs/auth.ts";
import { route } from "../api.ts";
import { tenantEnv, tenantSuspended } from "../../tenancy/tenant-env.ts";
import { shardDb, shardList } from "../../tenancy/shards.ts";
import { AppError } from "../../kernel/errors.ts";

const Login = z.object({ tenant: z.string().min(1).max(64), login: z.string().min(1).max(100), password: z.string().min(1).max(200) }).strict();
const Token = z.object({ token: z.string(), expiresAt: z.number(), agent: z.object({ id: z.string(), fullName: z.string(), role: z.string() }) });

export const authRoutes = [
  route({
    method: "post", path: "/api/v1/auth/login", access: "public", tags: ["auth"], summary: "Log in: a token for the agent, supervisor or admin API. Guessing is throttled: 429 with Retry-After",
    body: Login, responses: { 200: { description: "A bearer token and when it expires", schema: Token } },
    handler: async ({ env, req, body }) => {
      // Cloudflare always sets CF-Connecting-IP; only local calls without it skip the per-IP count.
      const ip = req.headers.get("CF-Connecting-IP");
      const forLogin = loginKey(body.tenant, body.login);
      // The tenant's shard; for a tenant that doesn't exist, the first shard counts the guesses, so an
      // unknown tenant answers like a wrong password (and a suspended one says so).
      const te = await tenantEnv(env, body.tenant, { allowSuspended: true }).catch((e: unknown) => (e instanceof AppError && e.status === 404 ? null : Promise.reject(e)));
      const db = te?.DB ?? shardDb(env, shardList(env)[0]!.binding);
      // The cheap checks first: a throttled guess never reaches PBKDF2.
      if (ip) await checkNotBlocked(db, [ipKey(ip)]);
      await countAttempt(db, forLogin, LOGIN_THROTTLE);
      const row = await credentialOf(db, body.tenant, body.login.toLowerCase());
      // Unknown tenant, unknown login and wrong password take the same time and give the same answer.
      const ok = await verifyPassword(body.password, row?.password_hash ?? DUMMY_HASH);
      const cfg = row && ok ? await getConfig(db, body.tenant) : undefined;
      const agent = row ? cfg?.agents.get(row.agent_id) : undefined;
      if (!cfg || !agent) {
        if (ip) await countAttempt(db, ipKey(ip), IP_THROTTLE).catch((e: unknown) => void e);
        // A failed login of a tenant that exists is in its audit log (the login name, never the password).
        if (te && (await getConfig(db, body.tenant).then(() => true, () => false)))
          await appendEvent(db, { tenant: body.tenant, type: "parley.auth.login_failed", subject: `login:${body.login.toLowerCase().slice(0, 100)}`, at: Date.now(), actor: "anonymous", origin: ip, data: { login: body.login.slice(0, 100), known: row !== null } }).run().catch((e: unknown) => console.error("audit", e));
        throw new AppError(401, "invalid_credentials", "wrong tenant, login or password");
      }
      // Only the right password learns that the tenant is suspended.
      if (te?.SUSPENDED) throw tenantSuspended({ id: body.tenant });
      // The login's current token version, from D1 itself: the token is revoked when it next moves on.
      const [, version] = await Promise.all([resetAttempts(db, forLogin), tokenVersionOf(db, body.tenant, agent.id)]);
      const t = await issueToken(env.AUTH_SECRET, { tenant: body.tenant, agentId: agent.id, role: agent.role, version }, cfg.raw.settings.tokenTtlSeconds);
      await appendEvent(db, { tenant: body.tenant, type: "parley.auth.login_succeeded", subject: `agent:${agent.id}`, at: Date.now(), actor: `agent:${agent.id}`, origin: ip, data: { role: agent.role } }).run().catch((e: unknown) => console.error("audit", e));
      return { ...t, agent: { id: agent.id, fullName: agent.fullName, role: agent.role } };
    },
  }),
];
