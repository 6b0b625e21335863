// Handoffs between objects: the receiver stores the interaction first, then the sender forgets it.
// The sender notes where the interaction is going before it asks, so if it is restarted between
// the two steps it can ask the receiver and neither lose the interaction nor keep a second copy.
import { agentStub, queueStub } from "./names.ts";

export type HandoffTarget = `queue:${string}` | `agent:${string}`;

const key = (id: string) => `moving:${id}`;

export function noteHandoff(sql: SqlStorage, id: string, target: HandoffTarget): void {
  sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", key(id), target);
}

export function clearHandoff(sql: SqlStorage, id: string): void {
  sql.exec("DELETE FROM kv WHERE k = ?", key(id));
}

/** After a restart: did the receiver of an interrupted handoff store the interaction? */
export async function receiverHolds(sql: SqlStorage, env: Env, tenant: string, id: string): Promise<boolean> {
  const target = sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = ?", key(id)).toArray()[0]?.v;
  if (!target) return false;
  const name = target.slice(target.indexOf(":") + 1);
  return target.startsWith("queue:") ? queueStub(env, tenant, name).holds(id) : agentStub(env, tenant, name).holdsInWorkbin(id);
}
