import type { TenantEnv } from "../workers/tenancy/tenant-env.ts";
// Object names: one InteractionQueue per (tenant, queue), one Agent per (tenant, agent), one
// ChatSession per (tenant, interaction): a caller can only reach the chats of its own tenant. One
// Dashboard per tenant, named by the bare tenant id.
// Tenant, queue and agent ids are [a-z0-9_-], so '/' separates them without ambiguity.
export const queueName = (tenant: string, queue: string) => `${tenant}/${queue}`;
export const agentName = (tenant: string, agent: string) => `${tenant}/${agent}`;

export function splitName(name: string | undefined): [string, string] {
  const at = name?.indexOf("/") ?? -1;
  if (!name || at <= 0) throw new Error(`object created without a 'tenant/name' name: ${name}`);
  return [name.slice(0, at), name.slice(at + 1)];
}

// Stubs come only from a tenant's env (tenancy/tenant-env.ts): its namespaces are scoped to the
// tenant's jurisdiction, so an EU tenant's objects are created, and found, in the EU.
export const queueStub = (env: TenantEnv, tenant: string, queue: string) => env.QUEUE.getByName(queueName(tenant, queue));
export const agentStub = (env: TenantEnv, tenant: string, agent: string) => env.AGENT.getByName(agentName(tenant, agent));
export const chatName = (tenant: string, interactionId: string) => `${tenant}/${interactionId}`;
export const chatStub = (env: TenantEnv, tenant: string, interactionId: string) => env.CHAT.getByName(chatName(tenant, interactionId));
export const dashboardStub = (env: TenantEnv, tenant: string) => env.DASHBOARD.getByName(tenant);
export const classifierStub = (env: TenantEnv, tenant: string) => env.CLASSIFIER.getByName(tenant);
export const eventPumpStub = (env: TenantEnv, tenant: string) => env.EVENT_PUMP.getByName(tenant);
