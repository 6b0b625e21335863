// D1 round trips, counted in bench mode (BENCH=1): on Cloudflare each call from a Worker or an object
// to D1 crosses the network to the database's primary, so how many an operation makes is what a
// deployed Parley feels. A `batch()` is one trip; so is each `run()`, `all()`, `first()`, `raw()` and
// `exec()`. Counts are kept per place (the Worker, each kind of object, the outboxes that write
// behind), in this isolate: locally the Worker and its objects share one, and the bench reads them
// through GET /api/bench/d1.

const counts = new Map<string, number>();

export const d1Counts = (): Record<string, number> => Object.fromEntries(counts);
export const resetD1Counts = (): void => counts.clear();

const bump = (place: string) => counts.set(place, (counts.get(place) ?? 0) + 1);
const TRIPS = new Set(["run", "all", "first", "raw"]);
/** The real statement behind each counted one: batch() is handed the real ones. */
const real = new WeakMap<object, D1PreparedStatement>();

function countedStatement(s: D1PreparedStatement, place: string): D1PreparedStatement {
  const p = new Proxy(s, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      if (prop === "bind") return (...args: unknown[]) => countedStatement((v as (...a: unknown[]) => D1PreparedStatement).apply(target, args), place);
      if (TRIPS.has(String(prop))) return (...args: unknown[]) => (bump(place), (v as (...a: unknown[]) => unknown).apply(target, args));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  real.set(p, s);
  return p;
}

/** `db` with every round trip counted under `place`. */
export function countedD1<T extends D1Database | D1DatabaseSession>(db: T, place: string): T {
  return new Proxy(db, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      const fn = v as (...a: unknown[]) => unknown;
      if (prop === "prepare") return (sql: string) => countedStatement(fn.call(target, sql) as D1PreparedStatement, place);
      if (prop === "batch") return (sts: D1PreparedStatement[]) => (bump(place), fn.call(target, sts.map((s) => real.get(s) ?? s)));
      if (prop === "exec") return (sql: string) => (bump(place), fn.call(target, sql));
      if (prop === "withSession") return (...args: unknown[]) => countedD1(fn.apply(target, args) as D1DatabaseSession, place);
      return fn.bind(target);
    },
  });
}

/** The env an entry point or object works with: in bench mode, its D1 counted under `place`. */
export function benchEnv<E extends { DB: D1Database }>(env: E, place: string): E {
  return (env as { BENCH?: string }).BENCH === "1" ? { ...env, DB: countedD1(env.DB, place) } : env;
}
