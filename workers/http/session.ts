// Reads through D1's Sessions API: each request works in a session, so a deployed Parley can serve
// reads from a nearby replica without losing read-your-writes. A client sends back the bookmark of its
// last answer (X-D1-Bookmark) and reads at least that fresh; a read without one may use any replica,
// a write starts on the primary. The answer carries the session's bookmark for the next request.

export const BOOKMARK_HEADER = "X-D1-Bookmark";
/** D1's bookmarks are hex groups joined by dashes; anything else is ignored, never passed to D1. */
const BOOKMARK = /^[0-9a-f]{1,16}(-[0-9a-f]{1,64}){1,8}$/i;

export interface Session {
  db: D1Database;
  bookmark(): string | null;
}

export function requestSession(db: D1Database, req: Request): Session {
  const given = req.headers.get(BOOKMARK_HEADER);
  const read = req.method === "GET" || req.method === "HEAD";
  const s = db.withSession(given && BOOKMARK.test(given) ? given : read ? "first-unconstrained" : "first-primary");
  const session: D1Database = {
    // (passed through, not a statement of its own: every SQL text stays in workers/ucs/)
    prepare: (q: string) => s["prepare"](q),
    batch: <T = unknown>(st: D1PreparedStatement[]) => s.batch<T>(st),
    exec: (q: string) => db.exec(q),
    dump: () => db.dump(),
    withSession: (c?: string) => db.withSession(c),
  } as D1Database;
  return { db: session, bookmark: () => s.getBookmark() };
}
