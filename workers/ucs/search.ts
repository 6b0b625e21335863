// Full-text search over contacts and message text (FTS5), tenant-scoped.
import type { EventGuard } from "./events.ts";

export interface SearchHit {
  kind: "contact" | "message";
  ref: string;
  contactId: string | null;
  snippet: string;
}

/** Each word becomes a quoted prefix term, so user input cannot inject FTS5 syntax. */
export function ftsQuery(q: string): string | null {
  const words = q.normalize("NFKC").match(/[\p{L}\p{N}@.+_-]+/gu) ?? [];
  const terms = words.slice(0, 12).map((w) => `"${w.replace(/"/g, "")}"*`);
  return terms.length ? terms.join(" ") : null;
}

export async function search(db: D1Database, tenant: string, q: string, limit = 25): Promise<SearchHit[]> {
  const match = ftsQuery(q);
  if (!match) return [];
  const r = await db
    .prepare(
      `SELECT kind, ref, contact_id, snippet(search_index, 4, '[', ']', '…', 12) AS snippet FROM search_index
       WHERE search_index MATCH ? AND tenant_id = ? ORDER BY rank LIMIT ?`,
    )
    .bind(match, tenant, limit)
    .all<{ kind: "contact" | "message"; ref: string; contact_id: string | null; snippet: string }>();
  return r.results.map((x) => ({ kind: x.kind, ref: x.ref, contactId: x.contact_id, snippet: x.snippet }));
}

/** A message's full-text entry (its subject and text), written under `guard`. */
export const searchEntry = (db: D1Database, e: { tenant: string; interactionId: string; contactId: string | null; body: string }, guard: EventGuard): D1PreparedStatement =>
  db.prepare(`INSERT INTO search_index (tenant_id, kind, ref, contact_id, body) SELECT ?, 'message', ?, ?, ? WHERE ${guard.sql}`).bind(e.tenant, e.interactionId, e.contactId, e.body, ...guard.params);
