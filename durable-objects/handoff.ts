// Handoffs between objects: the receiver stores the interaction first, then the sender forgets it.
// The sender notes where the interaction is going (and when) before it asks, so if it is restarted
// between the two steps it can find out whether the receiver got it, and neither lose the
// interaction nor keep a second copy.
import type { TenantEnv } from "../workers/tenancy/tenant-env.ts";
import { eventByOtherSince } from "../workers/ucs/event-reads.ts";
import { agentStub, queueStub } from "./names.ts";

export type HandoffTarget = `queue:${string}` | `agent:${string}`;

const key = (id: string) => `moving:${id}`;

export function noteHandoff(sql: SqlStorage, id: string, target: HandoffTarget): void {
  sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", key(id), `${target}|${Date.now()}`);
}

export function clearHandoff(sql: SqlStorage, id: string): void {
  sql.exec("DELETE FROM kv WHERE k = ?", key(id));
}

/** After a restart or a stalled handoff: did the receiver take the interaction? It did if it holds it
 *  now, or if the history shows anything done to it since the handoff began by anyone but the sender
 *  (the receiver may have forwarded it, routed it or finished it since). */
export async function receiverHolds(sql: SqlStorage, env: TenantEnv, tenant: string, id: string, senderActor: string): Promise<boolean> {
  const note = sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = ?", key(id)).toArray()[0]?.v;
  if (!note) return false;
  const [target = "", at = "0"] = note.split("|");
  const name = target.slice(target.indexOf(":") + 1);
  const holds = target.startsWith("queue:") ? await queueStub(env, tenant, name).holds(id) : await agentStub(env, tenant, name).holds(id);
  if (holds) return true;
  return eventByOtherSince(env.DB, tenant, id, Number(at), senderActor);
}
