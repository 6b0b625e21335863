// Erasure (docs/privacy.md): a contact's identifiers and words removed from every store, in slices a
// crash can interrupt and a second request or the sweep resumes. Per slice, the objects first (so none
// writes about the interactions after their rows are gone), then the rows in one batch that also
// records the R2 keys to delete, then the bytes. The retention policy erases or anonymises through the
// same slice.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { agentStub, chatStub, queueStub } from "../../durable-objects/names.ts";
import { newId } from "../kernel/ids.ts";
import { appendEvent } from "../ucs/event-log.ts";
import { notFound } from "../kernel/errors.ts";
import {
  blobsDone, blobsOf, contactScope, contactStatements, erasureDone, erasureFor, erasureProgress, LIVE_STATES, nextContactSlice, objectsTouched, optimizeSearch, pendingBlobs, sliceStatements, startErasure,
  type ErasureRow, type Mode, type SliceItem, type Step,
} from "../ucs/privacy.ts";
import { signReceipt, type Receipt } from "./receipt.ts";

const SLICE = 25;
/** How long one request (or one sweep pass) works on an erasure before leaving the rest for later. */
export const ERASE_BUDGET_MS = 20_000;
/** Media a ChatSession object carries (web chat, SMS sessions, social conversations). */
const CHAT_MEDIA = new Set(["chat", "sms", "mms"]);
const live = new Set<string>(LIVE_STATES);

export type Removed = Record<string, number>;
const add = (r: Removed, k: string, n: number) => n > 0 && (r[k] = (r[k] ?? 0) + n);

/** A removal batch's counts, per the receipt's names. */
function tally(removed: Removed, steps: Step[], results: D1Result[]): void {
  steps.forEach(([name, , how], i) => {
    if (!name) return;
    const r = results[i];
    add(removed, name, how === "rows" ? Number((r?.results[0] as { n?: number } | undefined)?.n ?? 0) : (r?.meta.changes ?? 0));
  });
}

export interface ErasureStatus {
  erasure: string;
  contact: string;
  state: "running" | "waiting" | "done";
  /** While waiting: the contact's interactions still being worked on (erased once they are finished). */
  waitingFor?: { id: string; state: string }[];
  removed: Removed;
  receipt?: Receipt;
}

/** Erases one slice of interactions everywhere; counts go into `removed`. */
export async function eraseSlice(env: TenantEnv, tenant: string, items: SliceItem[], mode: Mode, removed: Removed): Promise<void> {
  const ids = items.map((i) => i.id);
  const touched = await objectsTouched(env.DB, tenant, ids);
  for (const q of touched.queues) add(removed, "queue_objects", await queueStub(env, tenant, q).forget(ids));
  for (const a of touched.agents) add(removed, "agent_objects", await agentStub(env, tenant, a).forget(ids));
  const files: string[] = [];
  for (const c of items.filter((i) => CHAT_MEDIA.has(i.media))) {
    const r = await chatStub(env, tenant, c.id).erase();
    add(removed, "chat_objects", r.messages);
    files.push(...r.files);
    // Chat files and social media live under the conversation's prefix, whatever row names them.
    let cursor: string | undefined;
    do {
      const page = await env.BLOBS.list({ prefix: `${tenant}/chat/${c.id}/`, ...(cursor ? { cursor } : {}) });
      files.push(...page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  const blobs = [...new Set([...(await blobsOf(env.DB, tenant, ids)), ...files])];
  const st = sliceStatements(env.DB, tenant, ids, blobs, mode, Date.now());
  tally(removed, st, await env.DB.batch(st.map(([, s]) => s)));
  await drainBlobs(env, tenant, removed);
}

/** Deletes the R2 objects whose rows are gone (a content-addressed one still named elsewhere stays). */
export async function drainBlobs(env: TenantEnv, tenant: string, removed: Removed): Promise<void> {
  for (;;) {
    const batch = await pendingBlobs(env.DB, tenant, 500);
    if (!batch.length) return;
    const gone = batch.filter((b) => !b.shared).map((b) => b.key);
    if (gone.length) await env.BLOBS.delete(gone);
    add(removed, "r2_objects", gone.length);
    await blobsDone(env.DB, tenant, batch.map((b) => b.key)).run();
  }
}

/** Starts or resumes the erasure of a contact and works on it for up to `budgetMs`. Idempotent: a
 *  finished one answers its receipt again. */
export async function eraseContact(env: TenantEnv, tenant: string, contactId: string, who: { by: string; origin?: string | null }, budgetMs = ERASE_BUDGET_MS): Promise<ErasureStatus> {
  let job = await erasureFor(env.DB, tenant, contactId);
  if (!job) {
    const contacts = await contactScope(env.DB, tenant, contactId);
    if (!contacts) throw notFound("unknown_contact", `no contact '${contactId}'`);
    job = await startErasure(env.DB, tenant, { id: newId("er"), contact: contactId, contacts, by: who.by, at: Date.now() });
  }
  return runErasure(env, tenant, job, budgetMs, who.origin ?? null);
}

async function runErasure(env: TenantEnv, tenant: string, job: ErasureRow, budgetMs: number, origin: string | null): Promise<ErasureStatus> {
  const removed = JSON.parse(job.removed) as Removed;
  const status = (state: ErasureStatus["state"], extra: Partial<ErasureStatus> = {}): ErasureStatus => ({ erasure: job.id, contact: job.contact_id, state, removed, ...extra });
  if (job.state === "done") return status("done", { receipt: JSON.parse(job.receipt!) as Receipt });
  const contacts = JSON.parse(job.contacts) as string[];
  const end = Date.now() + budgetMs;
  await drainBlobs(env, tenant, removed);
  for (;;) {
    const slice = await nextContactSlice(env.DB, tenant, contacts, SLICE);
    if (!slice.length) break;
    // A slice with open work waits whole: erasing an original before its open reply or forward would
    // leave that one out of reach (it is found only through its original).
    const busy = slice.filter((i) => live.has(i.state));
    if (busy.length) {
      await erasureProgress(env.DB, tenant, job.id, removed, Date.now()).run();
      return status("waiting", { waitingFor: busy.map((b) => ({ id: b.id, state: b.state })) });
    }
    await eraseSlice(env, tenant, slice, "erase", removed);
    await erasureProgress(env.DB, tenant, job.id, removed, Date.now()).run();
    if (Date.now() > end) return status("running");
  }
  const now = Date.now();
  const st = contactStatements(env.DB, tenant, contacts, now);
  tally(removed, st, await env.DB.batch(st.map(([, s]) => s)));
  // Deleted words leave FTS5's segments only when they are merged.
  await optimizeSearch(env.DB).run();
  await drainBlobs(env, tenant, removed);
  const receipt = await signReceipt(env.AUTH_SECRET, {
    erasure: job.id, tenant, contact: job.contact_id, contacts, requestedBy: job.requested_by,
    startedAt: new Date(job.started_at).toISOString(), finishedAt: new Date(now).toISOString(), removed,
  });
  // The audit log keeps that it happened, who asked and how much went: never what it was.
  await env.DB.batch([
    erasureDone(env.DB, tenant, job.id, removed, JSON.stringify(receipt), now),
    appendEvent(env.DB, { tenant, type: "parley.contact.erased", subject: job.contact_id, at: now, actor: job.requested_by, origin, data: { erasure: job.id, removed } }),
  ]);
  return status("done", { receipt });
}
