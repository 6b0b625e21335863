// Contact history for agents: a contact with its interactions, full-text search, merging.
import * as z from "zod";
import { getContact, mergeContacts } from "../../ucs/contacts.ts";
import { contactHistory } from "../../ucs/interactions.ts";
import { search } from "../../ucs/search.ts";
import { route } from "../api.ts";

export const contactRoutes = [
  route({
    method: "get", path: "/api/v1/contacts/:id", access: "agent", tags: ["contacts"], summary: "A contact, its identifiers and its latest interactions",
    handler: async ({ env, caller, params }) => {
      const c = await getContact(env.DB, caller.tenant, params.id!);
      return { ...c, interactions: await contactHistory(env.DB, caller.tenant, c.mergedInto ?? c.id) };
    },
  }),
  route({
    method: "post", path: "/api/v1/contacts/:id/merge", access: "agent", tags: ["contacts"], summary: "Merge another contact into this one",
    body: z.object({ from: z.string().min(1).max(100) }).strict(),
    handler: async ({ env, caller, params, body }) => mergeContacts(env.DB, caller.tenant, params.id!, body.from, caller.kind === "user" ? `agent:${caller.agentId}` : caller.kind),
  }),
  route({
    method: "get", path: "/api/v1/search", access: "agent", tags: ["contacts"], summary: "Full-text search over contacts and message text",
    query: z.object({ q: z.string().min(1).max(200), limit: z.coerce.number().int().min(1).max(100).default(25) }),
    handler: async ({ env, caller, query }) => ({ results: await search(env.DB, caller.tenant, query.q, query.limit) }),
  }),
];
