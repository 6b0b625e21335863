// Wires the route registry into itty-router: authenticate, validate, run, answer JSON; every error
// becomes `{ error: { code, message } }` here, at one boundary.
import { Router, type IRequest } from "itty-router";
import { authenticate, readJson, readQuery, Reply, type RouteDef } from "./api.ts";
import { AppError } from "../kernel/errors.ts";
import { toErrorResponse } from "./error-response.ts";

export function buildRouter(routes: RouteDef[]) {
  const router = Router<IRequest, [Env, ExecutionContext]>({
    catch: (err: unknown) => toErrorResponse(err),
    finally: [(res: unknown) => res ?? toErrorResponse(new AppError(404, "not_found", "no such endpoint"))],
  });
  const methodsByPath = new Map<string, Set<string>>();
  for (const r of routes) {
    const set = methodsByPath.get(r.path) ?? new Set<string>();
    set.add(r.method.toUpperCase());
    methodsByPath.set(r.path, set);
    router[r.method](r.path, async (req: IRequest, env: Env, exec: ExecutionContext) => {
      const caller = await authenticate(req as unknown as Request, env, r.access);
      const body = r.body ? await readJson(req as unknown as Request, r.body) : undefined;
      const query = r.query ? readQuery(req as unknown as Request, r.query) : undefined;
      const out = await r.handler({ req: req as unknown as Request, env, exec, params: (req.params ?? {}) as Record<string, string>, body, query, caller });
      if (out instanceof Response) return out;
      if (out instanceof Reply) return Response.json(out.body, { status: out.status });
      return Response.json(out ?? { ok: true });
    });
  }
  // A known path with the wrong method is a 405, not a 404.
  for (const [path, methods] of methodsByPath)
    router.all(path, () => {
      throw new AppError(405, "method_not_allowed", `use ${[...methods].join(" or ")}`);
    });
  return router;
}
