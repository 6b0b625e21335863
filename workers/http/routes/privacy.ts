// A contact's data for data-protection requests (docs/privacy.md): exported as one archive behind a
// signed link, erased everywhere with a signed receipt. Admins only; both are in the audit log.
import * as z from "zod";
import { notFound } from "../../kernel/errors.ts";
import { requireSignedLink, signPath } from "../../chat/signed-url.ts";
import { appendEvent } from "../../ucs/event-log.ts";
import { exportById } from "../../ucs/export-reads.ts";
import { erasureById } from "../../ucs/privacy.ts";
import { eraseContact } from "../../privacy/erase.ts";
import { exportContact, EXPORT_TTL_S } from "../../privacy/export.ts";
import { verifyReceipt, type Receipt } from "../../privacy/receipt.ts";
import { asUser, Reply, route, type RouteDef } from "../api.ts";

const exportPath = (tenant: string, id: string) => `/api/v1/exports/${encodeURIComponent(tenant)}/${encodeURIComponent(id)}`;

export const privacyRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/admin/contacts/:id/export", access: "admin", tags: ["privacy", "admin"],
    summary: "Exports a contact's data (the contact, identifiers, interactions, messages, notes, categories and files) as one zip archive; answers a signed link valid 24 hours",
    responses: { 201: { description: "The archive's signed link" } },
    handler: async ({ req, env, caller, params }) => {
      const u = asUser(caller);
      const actor = `agent:${u.agentId}`;
      const r = await exportContact(env, u.tenant, params.id!, actor);
      await appendEvent(env.DB, { tenant: u.tenant, type: "parley.contact.exported", subject: params.id!, at: Date.now(), actor, origin: req.headers.get("CF-Connecting-IP"), data: { export: r.export, size: r.size, files: r.files, interactions: r.interactions } }).run();
      const url = `${new URL(req.url).origin}${await signPath(env.AUTH_SECRET, exportPath(u.tenant, r.export), Date.now(), EXPORT_TTL_S)}`;
      return new Reply(201, { export: r.export, url, size: r.size, files: r.files, interactions: r.interactions, expiresAt: new Date(r.expiresAt).toISOString() });
    },
  }),
  route({
    method: "get", path: "/api/v1/exports/:tenant/:id", access: "public", tags: ["privacy"],
    tenant: ({ params }) => params.tenant!,
    summary: "An export's archive, by the signed link its export answered",
    handler: async ({ req, env, params }) => {
      await requireSignedLink(env.AUTH_SECRET, req, "this link", "export the contact again");
      const row = await exportById(env.DB, params.tenant!, params.id!);
      const obj = row && row.expires_at > Date.now() ? await env.BLOBS.get(row.r2_key) : null;
      if (!obj) throw notFound("no_export", "no such export (it may have expired or its contact been erased)");
      return new Response(obj.body, { headers: { "Content-Type": "application/zip", "Content-Disposition": `attachment; filename="${row!.contact_id}.zip"`, "Content-Length": String(obj.size), "Cache-Control": "private, no-store" } });
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/contacts/:id/erase", access: "admin", tags: ["privacy", "admin"],
    summary: "Erases a contact's identifiers and words from every store; idempotent and resumable. 200 with a signed receipt when done; 202 while running or waiting for its open work to finish (the sweep carries it on)",
    responses: { 202: { description: "Still running, or waiting for open interactions" } },
    handler: async ({ req, env, caller, params }) => {
      const u = asUser(caller);
      const s = await eraseContact(env, u.tenant, params.id!, { by: `agent:${u.agentId}`, origin: req.headers.get("CF-Connecting-IP") });
      return s.state === "done" ? s : new Reply(202, s);
    },
  }),
  route({
    method: "get", path: "/api/v1/admin/erasures/:id", access: "admin", tags: ["privacy", "admin"],
    summary: "An erasure's progress, and its signed receipt once done",
    handler: async ({ env, caller, params }) => {
      const u = asUser(caller);
      const e = await erasureById(env.DB, u.tenant, params.id!);
      if (!e) throw notFound("unknown_erasure", `no erasure '${params.id!}'`);
      return { erasure: e.id, contact: e.contact_id, state: e.state, removed: JSON.parse(e.removed) as unknown, ...(e.receipt ? { receipt: JSON.parse(e.receipt) as unknown } : {}) };
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/erasures/verify", access: "admin", tags: ["privacy", "admin"],
    summary: "Checks that an erasure receipt is one Parley issued, unchanged",
    body: z.object({ receipt: z.object({ kind: z.literal("parley.erasure-receipt/1"), signature: z.string().max(200) }).passthrough() }).strict(),
    handler: async ({ env, body }) => ({ valid: await verifyReceipt(env.AUTH_SECRET, body.receipt as unknown as Receipt) }),
  }),
];
