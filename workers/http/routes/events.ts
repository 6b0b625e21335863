// The event log for integrators (docs/events.md): pages after a sequence, the same events live over
// Server-Sent Events (resumed from Last-Event-ID), a large event's data by signed link, keys scoped to
// reading events, and the audit view for staff (newest first, filtered, read-only).
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import { badRequest, notFound } from "../../kernel/errors.ts";
import { newApiKey } from "../../config/tenants.ts";
import { addEventsKey, revokeEventsKeys } from "../../ucs/tenants.ts";
import { requireSignedLink, signPath } from "../../chat/signed-url.ts";
import { parseTypes, toCloudEvent, type CloudEvent } from "../../events/cloudevents.ts";
import { eventAt, readLog, type LogQuery } from "../../ucs/event-log.ts";
import { asUser, dropCachedKeys, Reply, route, type RouteDef } from "../api.ts";

const MAX_PAGE = 1000;
/** How often the stream looks for new events, and how long one connection lasts (the client resumes). */
const POLL_MS = 500;
const STREAM_MS = 5 * 60_000;
const KEEPALIVE_MS = 15_000;

/** `after` and `limit` as the query gives them: whole numbers in range, or a 400 naming the field. */
function cursor(url: URL, header?: string | null): { after: number; limit: number; types?: string[] } {
  const rawAfter = header ?? url.searchParams.get("after") ?? "0";
  if (!/^\d{1,15}$/.test(rawAfter)) throw badRequest("invalid_after", `after: a sequence number (a whole number ≥ 0), not '${rawAfter.slice(0, 40)}'`);
  const rawLimit = url.searchParams.get("limit") ?? "100";
  if (!/^\d{1,4}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > MAX_PAGE) throw badRequest("invalid_limit", `limit: 1 to ${MAX_PAGE}`);
  const types = parseTypes(url.searchParams.get("type"));
  if (types === null) throw badRequest("invalid_type", "type: event types like parley.interaction.accepted, or a family like parley.message.*, comma-separated (at most 20)");
  return { after: Number(rawAfter), limit: Number(rawLimit), ...(types ? { types } : {}) };
}

const dataPath = (tenant: string, seq: number) => `/api/v1/events/${encodeURIComponent(tenant)}/${seq}/data`;

async function page(env: TenantEnv, tenant: string, origin: string, q: LogQuery): Promise<CloudEvent[]> {
  const rows = await readLog(env.DB, tenant, q);
  const refs = new Map<number, string>();
  for (const r of rows) if ((r.data?.length ?? 0) > 16 * 1024) refs.set(r.seq, `${origin}${await signPath(env.AUTH_SECRET, dataPath(tenant, r.seq), Date.now(), 3600)}`);
  return rows.map((r) => toCloudEvent(tenant, r, origin, (seq) => refs.get(seq)!));
}

export const eventRoutes: RouteDef[] = [
  route({
    method: "get", path: "/api/v1/events", access: "events", tags: ["events"],
    summary: "The tenant's events after a sequence, oldest first, as CloudEvents 1.0 (?after=0&limit=100&type=parley.interaction.*); `next` is the `after` of the next page",
    handler: async ({ req, env, caller }) => {
      const url = new URL(req.url);
      const q = cursor(url);
      const events = await page(env, caller.tenant, url.origin, q);
      return { events, next: events.at(-1)?.sequence ?? q.after };
    },
  }),
  route({
    method: "get", path: "/api/v1/events/stream", access: "events", tags: ["events"],
    summary: "The same events live, as Server-Sent Events (id: the sequence, event: the type, data: the CloudEvent); resumes after Last-Event-ID or ?after=",
    handler: async ({ req, env, caller }) => {
      const url = new URL(req.url);
      const q = cursor(url, req.headers.get("Last-Event-ID"));
      const tenant = caller.tenant;
      const enc = new TextEncoder();
      let after = q.after;
      let stop = false;
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const w = writable.getWriter();
      const run = async () => {
        const end = Date.now() + STREAM_MS;
        let quietSince = Date.now();
        // The client's reconnect delay, and where it resumes.
        await w.write(enc.encode(`retry: 2000\n: events after ${after}\n\n`));
        while (!stop && Date.now() < end) {
          const events = await page(env, tenant, url.origin, { ...q, after, limit: 200 });
          for (const e of events) await w.write(enc.encode(`id: ${e.sequence}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
          if (events.length) {
            after = events.at(-1)!.sequence;
            quietSince = Date.now();
            if (events.length === 200) continue;
          } else if (Date.now() - quietSince > KEEPALIVE_MS) {
            await w.write(enc.encode(": keep-alive\n\n"));
            quietSince = Date.now();
          }
          await new Promise((r) => setTimeout(r, POLL_MS));
        }
      };
      // A client that goes away makes the next write fail, which ends the loop; an abort ends it sooner.
      run()
        .catch(() => {})
        .finally(() => void w.close().catch(() => {}));
      req.signal?.addEventListener("abort", () => (stop = true));
      return new Response(readable, {
        headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
      });
    },
  }),
  route({
    method: "get", path: "/api/v1/events/:tenant/:seq/data", access: "public", tags: ["events"],
    tenant: ({ params }) => params.tenant!,
    summary: "A large event's data, by the signed link in its `dataref` (valid an hour)",
    handler: async ({ req, env, params }) => {
      await requireSignedLink(env.AUTH_SECRET, req, "this link", "read the event again for a fresh one");
      const seq = Number(params.seq);
      const row = Number.isSafeInteger(seq) ? await eventAt(env.DB, params.tenant!, seq) : null;
      if (!row || row.data === null) throw notFound("no_event_data", "no such event data");
      return new Response(row.data, { headers: { "Content-Type": "application/json", "Cache-Control": "private, max-age=300" } });
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/event-keys", access: "admin", tags: ["events", "admin"],
    summary: "A new API key that reads this tenant's events and nothing else; shown once",
    responses: { 201: { description: "The key (shown only now)" } },
    handler: async ({ env, caller }) => {
      const u = asUser(caller);
      const key = newApiKey("events");
      await addEventsKey(env.DB, u.tenant, key);
      return new Reply(201, { key, kind: "events" });
    },
  }),
  route({
    method: "delete", path: "/api/v1/admin/event-keys", access: "admin", tags: ["events", "admin"],
    summary: "Revokes every key of this tenant scoped to reading events (refused everywhere within 30 seconds)",
    handler: async ({ env, caller }) => {
      const u = asUser(caller);
      const revoked = await revokeEventsKeys(env.DB, u.tenant);
      dropCachedKeys();
      return { revoked };
    },
  }),
  route({
    method: "get", path: "/api/v1/audit", access: "supervisor", tags: ["events", "supervisor"],
    summary: "The audit view of the event log: who did what, when and from where, newest first (?actor=&type=&subject=&before=&limit=); read-only for everyone",
    query: z.object({ actor: z.string().max(200).optional(), subject: z.string().max(200).optional(), type: z.string().max(500).optional(), before: z.coerce.number().int().positive().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }).strict(),
    handler: async ({ req, env, caller, query }) => {
      const u = asUser(caller);
      const types = parseTypes(query.type ?? null);
      if (types === null) throw badRequest("invalid_type", "type: event types like parley.interaction.accepted, or a family like parley.config.*");
      const events = await page(env, u.tenant, new URL(req.url).origin, { after: 0, desc: true, limit: query.limit, ...(query.before ? { before: query.before } : {}), ...(types ? { types } : {}), ...(query.actor ? { actor: query.actor } : {}), ...(query.subject ? { subject: query.subject } : {}) });
      return { events, next: events.at(-1)?.sequence ?? null };
    },
  }),
];
