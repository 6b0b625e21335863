// After a supervisor's action the tenant's dashboards show it at once, not on the next 2 s tick.
// Fire and forget: the action is done either way, so a slow or failing dashboard neither delays
// nor fails the request.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { dashboardStub } from "../../durable-objects/names.ts";

export function nudgeDashboard(env: TenantEnv, exec: ExecutionContext, tenant: string): void {
  exec.waitUntil(
    (async () => {
      try {
        await dashboardStub(env, tenant).nudge();
      } catch (err) {
        console.warn(`dashboard ${tenant}: nudge`, err);
      }
    })(),
  );
}
