// Is this interaction in the agent's hands? D1 says so a moment after the agent's object does (its
// history reaches D1 through the object's outbox), so a "no" from D1 is asked of the object, the
// authority: a reply or a stop right after accepting, or after taking work from a workbin, is not
// refused for the lag. The common case costs no call.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { agentStub } from "../../durable-objects/names.ts";
import type { InteractionRow } from "../ucs/interactions.ts";

export async function inHands(env: TenantEnv, tenant: string, agentId: string, row: InteractionRow): Promise<boolean> {
  if (row.agentId === agentId && row.state !== "workbin") return true;
  return agentStub(env, tenant, agentId).handles(row.id);
}
