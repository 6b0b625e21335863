// D1 round trips, counted in bench mode (BENCH=1): on Cloudflare each call from a Worker or an object
// to D1 crosses the network to the database's primary, so how many an operation makes is what a
// deployed Parley feels. A `batch()` is one trip; so is each `run()`, `all()`, `first()`, `raw()` and
// `exec()`. Counts are kept per place (the Worker, each kind of object, the outboxes that write
// behind), in this isolate: locally the Worker and its objects share one, and the bench reads them
// through GET /api/bench/d1.

const counts = new Map<string, number>();
/** The trips themselves (place and the start of the SQL), the last 200: what a count is made of. */
const trail: string[] = [];

export const d1Counts = (): Record<string, number> => Object.fromEntries(counts);
export const d1Trail = (): string[] => [...trail];
export const resetD1Counts = (): void => (counts.clear(), void (trail.length = 0));

const bump = (place: string, sql = "") => {
  counts.set(place, (counts.get(place) ?? 0) + 1);
  trail.push(`${place}: ${sql.replace(/\s+/g, " ").slice(0, 90)}`);
  if (trail.length > 200) trail.shift();
};
const sqlOf = new WeakMap<object, string>();
const TRIPS = new Set(["run", "all", "first", "raw"]);
/** The real statement behind each counted one: batch() is handed the real ones. */
const real = new WeakMap<object, D1PreparedStatement>();

function countedStatement(s: D1PreparedStatement, place: string, sql: string): D1PreparedStatement {
  const p = new Proxy(s, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      if (prop === "bind") return (...args: unknown[]) => countedStatement((v as (...a: unknown[]) => D1PreparedStatement).apply(target, args), place, sql);
      if (TRIPS.has(String(prop))) return (...args: unknown[]) => (bump(place, sql), (v as (...a: unknown[]) => unknown).apply(target, args));
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  real.set(p, s);
  sqlOf.set(p, sql);
  return p;
}

/** `db` with every round trip counted under `place`. */
export function countedD1<T extends D1Database | D1DatabaseSession>(db: T, place: string): T {
  return new Proxy(db, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      const fn = v as (...a: unknown[]) => unknown;
      if (prop === "prepare") return (sql: string) => countedStatement(fn.call(target, sql) as D1PreparedStatement, place, sql);
      if (prop === "batch") return (sts: D1PreparedStatement[]) => (bump(place, `batch of ${sts.length}: ${sts.map((x) => (sqlOf.get(x) ?? "?").trim().split(/\s+/).slice(0, 3).join(" ")).join(" | ")}`), fn.call(target, sts.map((x) => real.get(x) ?? x)));
      if (prop === "exec") return (sql: string) => (bump(place, sql), fn.call(target, sql));
      if (prop === "withSession") return (...args: unknown[]) => countedD1(fn.apply(target, args) as D1DatabaseSession, place);
      return fn.bind(target);
    },
  });
}

/** The env an entry point or object works with: in bench mode, its D1 (the control database here,
 *  each tenant's shard when tenancy/tenant-env.ts resolves it) counted under `place`. */
export function benchEnv<E extends { CONTROL: D1Database }>(env: E, place: string): E {
  return (env as { BENCH?: string }).BENCH === "1" ? { ...env, CONTROL: countedD1(env.CONTROL, place), D1_PLACE: place } : env;
}
