// A website chat is classified on the customer's first message: the chat is already waiting in its
// queue by then, so the result tags it (categories, suggestions for the agent) but does not move it.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { getConfig } from "../config/store.ts";
import { categoriesStatements } from "../ucs/interactions.ts";
import { classificationWrite, classifyStep } from "./step.ts";

export async function classifyChat(env: TenantEnv, tenant: string, interactionId: string, text: string): Promise<void> {
  const cfg = await getConfig(env.DB, tenant);
  const wf = cfg.raw.chat ? cfg.workflows.get(cfg.raw.chat.workflow) : undefined;
  if (!wf?.classify) return;
  const o = await classifyStep(env, tenant, cfg, wf, null, text);
  if (!o) return;
  const at = Date.now();
  await env.DB.batch([
    classificationWrite(env.DB, tenant, interactionId, o, at),
    ...(o.decision.categories.length ? categoriesStatements(env.DB, { tenant, id: interactionId, categories: o.decision.categories, actor: "workflow", at, reason: { classify: o.decision.trace } }) : []),
  ]);
}
