// Wires the route registry into itty-router: authenticate, validate, run, answer JSON; every error
// becomes `{ error: { code, message } }` here, at one boundary. Routes declare CORS and WebSocket
// upgrades as properties, so preflights, CORS headers on every answer (errors too) and refused
// upgrades are handled here, once.
import { Router, type IRequest } from "itty-router";
import { authenticate, readJson, readQuery, Reply, type Ctx, type RouteDef } from "./api.ts";
import { AppError } from "../kernel/errors.ts";
import { refuseUpgrade } from "../kernel/refuse-upgrade.ts";
import { toErrorResponse } from "./error-response.ts";
import { preflight, withCors } from "./cors.ts";
import { BOOKMARK_HEADER, requestSession } from "./session.ts";
import { publicEnv, tenantEnv, type TenantEnv } from "../tenancy/tenant-env.ts";

const isUpgrade = (req: Request) => req.headers.get("Upgrade")?.toLowerCase() === "websocket";

function render(out: unknown): Response {
  if (out instanceof Response) return out;
  if (out instanceof Reply) return Response.json(out.body, { status: out.status });
  return Response.json(out ?? { ok: true });
}

/** The session's bookmark on the answer (a WebSocket's or a redirect's headers stay as they are). */
function withBookmark(res: Response, bookmark: string | null): Response {
  if (!bookmark || res.status === 101 || res.webSocket) return res;
  try {
    res.headers.set(BOOKMARK_HEADER, bookmark);
    return res;
  } catch {
    // immutable headers (a fetched body passed through): no bookmark
    return res;
  }
}

/** One request through one route: its answer, or its error rendered, with the route's CORS headers. */
async function answer(r: RouteDef, req: Request, env: Env, exec: ExecutionContext, params: Record<string, string>): Promise<Response> {
  if (r.upgrade && !isUpgrade(req)) throw new AppError(426, "upgrade_required", "open this as a WebSocket");
  let origin: string | null = null;
  try {
    const caller = await authenticate(req, env, r.access);
    // The caller's tenant's shard, in a D1 session: known once authenticated, or for a public route
    // from what it is sent. A webhook that finds its tenant by number or account resolves it itself.
    let tenv: TenantEnv = publicEnv(env);
    let bookmark = (): string | null => null;
    const resolve = async (tenant: string) => {
      const t = await tenantEnv(env, tenant);
      const session = requestSession(t.DB, req);
      tenv = { ...t, DB: session.db };
      bookmark = () => session.bookmark();
    };
    if (r.access !== "public" && r.access !== "platform") await resolve(caller.tenant);
    const body = r.body ? await readJson(req, r.body) : undefined;
    const query = r.query ? readQuery(req, r.query) : undefined;
    const named = r.access === "public" && r.tenant ? r.tenant({ params, body, query }) : null;
    if (named)
      await resolve(named).catch((e: unknown) => {
        throw e instanceof AppError && e.code === "unknown_tenant" && r.unknownTenant ? r.unknownTenant(named) : e;
      });
    const ctx: Ctx<unknown, unknown> = { req, env: tenv, exec, params, body, query, caller };
    if (r.cors) origin = await r.cors.origin(ctx);
    const res = withBookmark(render(await r.handler(ctx)), bookmark());
    return r.cors ? withCors(res, origin) : res;
  } catch (err) {
    if (r.upgrade) return refuseUpgrade(err instanceof AppError ? err : (console.error("refused upgrade", err), new AppError(500, "internal", "internal error")));
    if (!r.cors) throw err;
    return withCors(toErrorResponse(err), origin);
  }
}

export function buildRouter(routes: RouteDef[]) {
  const router = Router<IRequest, [Env, ExecutionContext]>({
    catch: (err: unknown) => toErrorResponse(err),
    finally: [(res: unknown) => res ?? toErrorResponse(new AppError(404, "not_found", "no such endpoint"))],
  });
  const methodsByPath = new Map<string, Set<string>>();
  const corsByPath = new Map<string, { rule: NonNullable<RouteDef["cors"]>; methods: string[] }>();
  for (const r of routes) {
    const set = methodsByPath.get(r.path) ?? new Set<string>();
    set.add(r.method.toUpperCase());
    methodsByPath.set(r.path, set);
    if (r.cors) {
      const c = corsByPath.get(r.path) ?? { rule: r.cors, methods: [] };
      c.methods.push(r.method.toUpperCase());
      corsByPath.set(r.path, c);
    }
    router[r.method](r.path, (req: IRequest, env: Env, exec: ExecutionContext) => answer(r, req as unknown as Request, env, exec, (req.params ?? {}) as Record<string, string>));
  }
  // Preflights for the routes web pages call: 204 with what may be sent, or 403 for an origin not on the list.
  for (const [path, c] of corsByPath)
    router.options(path, async (req: IRequest, env: Env) => {
      const r = req as unknown as Request;
      return preflight(r, await c.rule.allowList({ req: r, env, params: (req.params ?? {}) as Record<string, string> }), c.methods);
    });
  // A known path with the wrong method is a 405, not a 404.
  for (const [path, methods] of methodsByPath)
    router.all(path, () => {
      throw new AppError(405, "method_not_allowed", `use ${[...methods].join(" or ")}`);
    });
  return router;
}
