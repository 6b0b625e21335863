// The supervisor's live dashboard: a WebSocket to the tenant's Dashboard object, which pushes the
// real-time statistics (durable-objects/dashboard.ts has the protocol).
import { dashboardStub } from "../../../durable-objects/names.ts";
import { heldHeaders } from "../../auth/revocation.ts";
import { asUser, route } from "../api.ts";

export const supervisorRoutes = [
  route({
    method: "get", path: "/api/v1/supervisor/ws", access: "supervisor", tags: ["supervisor"],
    summary: "WebSocket (token in ?token=): a snapshot of queues, agents and the last hour's samples, then live stats every 2 s and a sample every 15 s",
    upgrade: "websocket",
    handler: async ({ env, caller }) => {
      // The object is named by the caller's own tenant, from the token: it cannot be pointed at
      // another one. Only the upgrade goes on, not the token: who it is, its token version and until
      // when, so the object can drop the socket when the token lapses or is revoked, or the login
      // loses its supervisor role.
      const u = asUser(caller);
      return dashboardStub(env, u.tenant).fetch(new Request("https://dashboard/ws", { headers: { Upgrade: "websocket", ...heldHeaders(u) } }));
    },
  }),
];
