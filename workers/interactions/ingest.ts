// The one way work enters Parley: record it in the contact history, then hand it to its queue.
// Every channel (generic API, email, forms, chat, SMS) calls this. Durable before acknowledged:
// the interaction is in D1 before the queue sees it, and a crash in between is healed by the sweep.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import * as z from "zod";
import { getConfig } from "../config/store.ts";
import { Attributes, Media } from "../config/schema.ts";
import { badRequest } from "../kernel/errors.ts";
import { callbackWindowStart } from "../ucs/callbacks.ts";
import { identifyContact } from "../ucs/contacts.ts";
import { createInteraction, getInteractionRow, type InteractionState } from "../ucs/interactions.ts";
import { queueStub } from "../../durable-objects/names.ts";
import { unwrap } from "../../durable-objects/result.ts";
import type { QueueItem } from "../../durable-objects/types.ts";

const QueueRef = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a queue or workflow name");

export const ContactInput = z
  .object({
    email: z.string().max(320).optional(),
    phone: z.string().max(40).optional(),
    firstName: z.string().max(100).optional(),
    lastName: z.string().max(100).optional(),
    name: z.string().max(200).optional(),
  })
  .strict();

export const IngestBody = z
  .object({
    media: Media,
    channel: z.string().regex(/^[a-z0-9_-]{1,40}$/).default("api"),
    direction: z.enum(["inbound", "outbound"]).default("inbound"),
    externalId: z.string().min(1).max(300).optional().describe("The sender's own id: a repeat with the same id returns the first interaction"),
    contact: ContactInput.optional(),
    subject: z.string().max(998).optional(),
    text: z.string().max(256 * 1024).optional(),
    queue: QueueRef.optional(),
    workflow: QueueRef.optional(),
    priority: z.number().int().min(-1000).max(1000).optional(),
    attributes: Attributes.optional(),
    parentId: z.string().max(100).optional().describe("The interaction this one replies to; it joins that thread"),
  })
  .strict()
  .refine((b) => (b.queue === undefined) !== (b.workflow === undefined), { message: "give exactly one of queue or workflow", path: ["queue"] });
export type IngestBody = z.infer<typeof IngestBody>;

export interface IngestResult {
  id: string;
  created: boolean;
  state: InteractionState;
  queue: string;
}

export async function ingest(env: TenantEnv, tenant: string, b: IngestBody, actor: string): Promise<IngestResult> {
  const cfg = await getConfig(env.DB, tenant);
  let queue: string;
  let priority = b.priority ?? 0;
  if (b.workflow !== undefined) {
    const wf = cfg.workflows.get(b.workflow);
    if (!wf) throw badRequest("unknown_workflow", `workflow: no workflow '${b.workflow}'`);
    queue = wf.queue;
    priority = b.priority ?? wf.priority;
  } else {
    queue = b.queue!;
  }
  const q = cfg.queues.get(queue);
  if (!q) throw badRequest("unknown_queue", `queue: no queue '${queue}'`);
  if (!q.config.media.includes(b.media)) throw badRequest("media_not_accepted", `media: queue '${queue}' takes ${q.config.media.join(", ")}, not ${b.media}`);

  // No separate look-up of externalId: the insert below is idempotent and reports the first
  // interaction on a repeat, so the common case costs one D1 round trip.
  let threadId: string | undefined;
  if (b.parentId !== undefined) threadId = (await getInteractionRow(env.DB, tenant, b.parentId)).threadId;
  const contact = b.contact ? await identifyContact(env.DB, tenant, b.contact) : undefined;
  const created = await createInteraction(env.DB, {
    tenant, externalId: b.externalId, media: b.media, channel: b.channel, direction: b.direction, subject: b.subject, text: b.text,
    threadId, parentId: b.parentId, contactId: contact?.id, queue, priority, categories: [], attributes: b.attributes ?? {}, actor, workflow: b.workflow,
  });
  if (!created.created) {
    // A retry of a request whose submit failed: try the queue again now rather than wait for the sweep.
    if (created.state === "new") await submitNew(env, tenant, created.id, "resubmitted").catch((e: unknown) => console.error("resubmit", e));
    return { id: created.id, created: false, state: created.state, queue: created.queue };
  }
  const item: QueueItem = { id: created.id, media: b.media, priority, subject: b.subject ?? null, contactId: contact?.id ?? null, categories: [], attributes: b.attributes ?? {} };
  const r = await routeNew(env, tenant, queue, item, actor);
  return { id: created.id, created: true, state: r.state, queue: r.queue };
}

/** Hands an interaction already recorded in D1 (state 'new') to its queue. A failure leaves it for
 *  the scheduled sweep, which resubmits it, so the caller still answers with its id. */
export async function routeNew(env: TenantEnv, tenant: string, queue: string, item: QueueItem, actor: string): Promise<{ state: InteractionState; queue: string }> {
  try {
    const r = unwrap(await queueStub(env, tenant, queue).submit(item, { actor }));
    return { state: r.status === "stopped" ? "stopped" : item.dueAt ? "scheduled" : "queued", queue: r.queue };
  } catch (err) {
    console.error(`submit of ${item.id} to ${queue} failed; the sweep will retry`, err);
    return { state: "new", queue };
  }
}

/** (Re)submits an interaction D1 holds in state 'new' or 'queued' to its queue, from D1's copy. */
export async function submitNew(env: TenantEnv, tenant: string, id: string, action: string): Promise<void> {
  const row = await getInteractionRow(env.DB, tenant, id);
  if (!row.queue) return;
  const item: QueueItem = { id, media: row.media, priority: row.priority, subject: row.subject, contactId: row.contactId, categories: row.categories, attributes: row.attributes };
  if (row.media === "callback") {
    // A callback not yet due goes back to waiting for its window.
    const windowStart = await callbackWindowStart(env.DB, tenant, id);
    if (windowStart !== null && windowStart > Date.now()) item.dueAt = windowStart;
  }
  unwrap(await queueStub(env, tenant, row.queue).submit(item, { actor: "system", action }));
}
