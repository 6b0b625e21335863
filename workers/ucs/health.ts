// Whether D1 answers at all: the health check's one statement.

/** True when D1 runs a trivial query; false on any error. */
export function d1Reachable(db: D1Database): Promise<boolean> {
  return db.prepare("SELECT 1 AS one").first<{ one: number }>().then((r) => r?.one === 1, () => false);
}
