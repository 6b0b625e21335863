// Was each acknowledged input stored, and how many times? Emails by Message-ID, interactions by their
// external id, SMS/MMS by the provider's id: counted in the local D1 (wrangler dev stopped: one writer
// at a time) with one query per kind. Chat messages by clientId through the chat's own API (they live
// in the chat's Durable Object until the chat ends), while wrangler dev still runs.
import { queryD1, type Workdir } from "./dev.ts";
import { ORIGIN, send, TENANT } from "./doors.ts";

/** An email's `alt`: the Message-ID Parley gives a mail whose own it cannot read (`sha256.<hex>@parley`). */
export type StoredKey = { kind: "email"; id: string; alt?: string } | { kind: "external"; id: string } | { kind: "sms"; id: string };

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Stored copies of each key (0: lost, 1: once, 2+: doubled), by `${kind}:${id}`; `byAlt`: emails found
 *  only under their `alt` id (stored, but without their Message-ID). */
export function countStored(w: Workdir, keys: StoredKey[]): { counts: Map<string, number>; byAlt: Set<string>; error?: string } {
  const counts = new Map<string, number>();
  const byAlt = new Set<string>();
  for (const k of keys) counts.set(`${k.kind}:${k.id}`, 0);
  const alts = new Map<string, string>();
  for (const k of keys) if (k.kind === "email" && k.alt) alts.set(k.alt, k.id);
  const by = (kind: StoredKey["kind"]) => [...new Set(keys.filter((k) => k.kind === kind).flatMap((k) => (k.kind === "email" && k.alt ? [k.id, k.alt] : [k.id])))];
  const queries: [StoredKey["kind"], string, string[]][] = [
    ["email", "SELECT 'email' AS kind, message_id AS id, COUNT(*) AS n FROM emails WHERE tenant_id = ? AND direction = 'inbound' AND message_id IN (…) GROUP BY message_id", by("email")],
    ["external", "SELECT 'external' AS kind, external_id AS id, COUNT(*) AS n FROM interactions WHERE tenant_id = ? AND external_id IN (…) GROUP BY external_id", by("external")],
    ["sms", "SELECT 'sms' AS kind, provider_id AS id, COUNT(*) AS n FROM sms_messages WHERE tenant_id = ? AND direction = 'inbound' AND provider_id IN (…) GROUP BY provider_id", by("sms")],
  ];
  // One select of at most 300 ids per wrangler d1 execute (each takes a second or two): D1 refuses a
  // compound SELECT of more than a few terms, and a statement of 100,000 bytes.
  const commands: string[] = [];
  for (const [, q, ids] of queries)
    for (let i = 0; i < ids.length; i += 300) commands.push(q.replace("?", sql(TENANT)).replace("…", ids.slice(i, i + 300).map(sql).join(", ")));
  try {
    for (const command of commands) {
      const rows = queryD1<{ kind: StoredKey["kind"]; id: string; n: number }>(w, command);
      for (const r of rows) {
        const own = r.kind === "email" ? alts.get(r.id) : undefined;
        if (own !== undefined) byAlt.add(`email:${own}`);
        const key = `${r.kind}:${own ?? r.id}`;
        counts.set(key, (counts.get(key) ?? 0) + r.n);
      }
    }
  } catch (err) {
    const m = err instanceof Error ? err.message : String(err);
    // The command leads the message; the reason is at its end.
    return { counts, byAlt, error: m.length > 800 ? `${m.slice(0, 200)} … ${m.slice(-600)}` : m };
  }
  return { counts, byAlt };
}

/** Copies of each clientId among the chat's messages (read with the customer's token), paging through. */
export async function chatMessageCounts(base: string, chatId: string, token: string, timeoutMs = 30_000): Promise<{ counts: Map<string, number>; error?: string }> {
  const counts = new Map<string, number>();
  let after = 0;
  for (let page = 0; page < 200; page++) {
    const a = await send(`${base}/api/v1/chat/sessions/${chatId}/messages?after=${after}`, { headers: { authorization: `Bearer ${token}`, origin: ORIGIN }, timeoutMs, maxBodyBytes: 64 * 1024 * 1024 });
    if (a.status !== 200) return { counts, error: `${a.status} ${a.error ?? a.body.slice(0, 200)}` };
    const r = JSON.parse(a.body) as { messages: { clientId: string | null }[]; last: number; more: boolean };
    for (const m of r.messages) if (m.clientId) counts.set(m.clientId, (counts.get(m.clientId) ?? 0) + 1);
    if (!r.more || r.last <= after) break;
    after = r.last;
  }
  return { counts };
}
