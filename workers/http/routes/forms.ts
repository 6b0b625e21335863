// Web forms (Web API Server): a page posts a form; it becomes an email-type interaction in the
// form's workflow queue. Public: guarded by the form's origin list, a per-IP rate limit, a
// honeypot and optionally Turnstile. Nothing is stored for a refused post.
import { tenantEnv, type TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import type { Form } from "../../config/schema.ts";
import { getConfig } from "../../config/store.ts";
import type { CompiledConfig } from "../../config/compiled.ts";
import { bytesSha256 } from "../../kernel/hash.ts";
import { bodyKind, MAX_FORM_BYTES, parseBody, type BodyKind } from "../../forms/body.ts";
import { readLimited } from "../../kernel/read-limited.ts";
import { clientIp, rateCheck } from "../../forms/limit.ts";
import { verifyTurnstile } from "../../forms/turnstile.ts";
import { describe, validateSubmission } from "../../forms/validate.ts";
import { routeNew, submitNew } from "../../interactions/ingest.ts";
import { contactLookup, type IdentifierRow } from "../../ucs/contacts.ts";
import { formThreadInsertFor } from "../../ucs/forms.ts";
import { externalIdStatement } from "../../ucs/interaction-reads.ts";
import { newId } from "../../kernel/ids.ts";
import { createInteraction, transitionBatch, type NewPart } from "../../ucs/interactions.ts";
import { screen } from "../../workflow/screen.ts";
import { acknowledgeForm } from "../../email/auto-reply.ts";
import { normalizeSubject } from "../../email/subject.ts";
import { tagCandidates } from "../../email/threading.ts";
import { classificationWrite, classifiedFields, classifyStep, queueTakes } from "../../analyzer/step.ts";
import { route, type RouteDef } from "../api.ts";
import { allowedOrigin } from "../cors.ts";
import { AppError, badRequest, notFound } from "../../kernel/errors.ts";

// Tenant and form names are [a-z0-9_-]: the first dot is the separator.
const FORM_ID = /^([a-z0-9][a-z0-9_-]{0,63})\.([a-z0-9][a-z0-9_-]{0,63})$/;
const Accepted = z.object({ interactionId: z.string(), duplicate: z.boolean() });

/** The tenant's config and the form; an unknown tenant answers like an unknown form. */
export async function findForm(env: TenantEnv, formId: string): Promise<{ tenant: string; form: Form; cfg: CompiledConfig }> {
  const m = FORM_ID.exec(formId);
  const unknown = notFound("unknown_form", `no form '${formId}'`);
  if (!m) throw unknown;
  const cfg = await getConfig(env.DB, m[1]!).catch((e: unknown) => {
    throw e instanceof AppError && e.status === 404 ? unknown : e;
  });
  const form = cfg.raw.forms.find((f) => f.name === m[2]);
  if (!form) throw unknown;
  return { tenant: m[1]!, form, cfg };
}

/** A plain HTML form post (the browser navigates) is redirected to the thank-you page; a script's fetch gets JSON. */
function wantsRedirect(req: Request, kind: BodyKind): boolean {
  if (kind === "json" || req.headers.get("Sec-Fetch-Mode")?.toLowerCase() === "cors") return false;
  const accept = req.headers.get("Accept") ?? "";
  return /text\/html/i.test(accept) && !/application\/json/i.test(accept);
}

async function submitForm(req: Request, env: TenantEnv, tenant: string, form: Form, cfg: CompiledConfig): Promise<Response> {
  const ip = clientIp(req);
  const contentType = req.headers.get("Content-Type");
  const kind = bodyKind(contentType);
  // Read and checked within its limits first, so that one round trip can count the post against the
  // rate, find a retry of it, find its sender and pick its thread tag.
  const sub = validateSubmission(form, parseBody(kind, contentType!, await readLimited(req, MAX_FORM_BYTES)));
  const answer = (interactionId: string, duplicate: boolean) =>
    form.thankYouUrl && wantsRedirect(req, kind) ? new Response(null, { status: 303, headers: { Location: form.thankYouUrl } }) : Response.json({ interactionId, duplicate }, { status: 202 });

  const key = req.headers.get("Idempotency-Key")?.trim() || sub.submissionKey;
  if (key !== undefined && (key.length > 200 || /[\u0000-\u001f]/.test(key))) throw badRequest("invalid_request", "Idempotency-Key: use at most 200 printable characters");
  const externalId = key === undefined ? undefined : `form:${form.name}:${key}`;
  const d = describe(form, sub);
  const hasContact = Object.values(d.contact).some((v) => v !== undefined);
  const rate = rateCheck(env.DB, `form:${tenant}.${form.name}:${ip}`, form.rateLimit);
  const tags = tagCandidates(env.DB, tenant);
  const who = hasContact ? contactLookup(env.DB, tenant, d.contact, { byName: false }) : null;
  const reads = await env.DB.batch<Record<string, unknown>>([rate.stmt, tags.stmt, ...(externalId ? [externalIdStatement(env.DB, tenant, externalId)] : []), ...(who?.stmt ? [who.stmt] : [])]);
  rate.enforce(reads[0]!);
  const tag = tags.pick(reads[1]!);
  // A retry answers the first post before Turnstile: its token is single-use and already spent.
  const prior = externalId ? (reads[2]!.results[0] as { id: string } | undefined) : undefined;
  if (prior) return answer(prior.id, true);
  if (form.turnstile) await verifyTurnstile(env.TURNSTILE_SECRET, sub.turnstileToken, ip);

  const wf = cfg.workflows.get(form.workflow);
  const queue = wf ? cfg.queues.get(wf.queue) : undefined;
  if (!wf || !queue) throw badRequest("unknown_workflow", `form '${form.name}': no workflow '${form.workflow}'`);
  if (!queue.config.media.includes("email")) throw badRequest("media_not_accepted", `form '${form.name}': queue '${wf.queue}' does not take email`);

  // Content-addressed: the same file twice is one object, and a retried post rewrites the same bytes.
  const parts: NewPart[] = await Promise.all(
    sub.files.map(async ({ file }) => {
      const sha256 = await bytesSha256(file.bytes);
      const r2Key = `${tenant}/att/${sha256}`;
      await env.BLOBS.put(r2Key, file.bytes, { httpMetadata: { contentType: file.contentType }, sha256 });
      return { kind: "attachment", r2Key, contentType: file.contentType, name: file.filename, size: file.bytes.byteLength, sha256 } satisfies NewPart;
    }),
  );
  const contact = who ? await who.resolve((reads[externalId ? 3 : 2]?.results ?? []) as unknown as IdentifierRow[]) : undefined;
  // The workflow's screening runs on form posts as on email: spam is kept but stopped, rules route and tag.
  const screened = screen(wf.screen.map((n) => cfg.rules.get(n)).filter((r) => r !== undefined), { subject: d.subject, body: d.text, from: d.contact.email ?? "", to: [], headers: [] });
  const classified = screened.spam === undefined ? await classifyStep(env, tenant, cfg, wf, d.subject, d.text) : null;
  const fields = classifiedFields(classified, { queue: wf.queue, priority: wf.priority, categories: screened.categories, attributes: { ...screened.attributes, form: form.name } }, queueTakes(cfg, "email"));
  const { attributes, categories } = fields;
  const target = screened.queue ?? fields.queue;
  const priority = screened.priority ?? fields.priority;
  const id = newId("i");
  const created = await createInteraction(env.DB, {
    id, tenant, externalId, media: "email", channel: "webform", direction: "inbound", subject: d.subject, text: d.text,
    contactId: contact?.id, queue: target, priority, categories, attributes, actor: "webform", parts, workflow: wf.name,
    // A thread tag, so that replies by email (ours and the customer's answers) stay with this post: in the same round trip.
    also: screened.spam === undefined ? [formThreadInsertFor(env.DB, { tenant, threadId: id, tag, contactId: contact?.id ?? null, subjectNorm: normalizeSubject(d.subject), at: Date.now() })] : [],
  });
  if (!created.created) {
    // Lost a race with the same key: the other post's interaction is the answer.
    if (created.state === "new") await submitNew(env, tenant, created.id, "resubmitted").catch((e: unknown) => console.error("resubmit", e));
    return answer(created.id, true);
  }
  if (classified) await classificationWrite(env.DB, tenant, created.id, classified, Date.now()).run();
  if (screened.spam !== undefined) {
    await env.DB.batch(transitionBatch(env.DB, [{ tenant, id: created.id, at: Date.now(), actor: "workflow", action: "stopped", from: "new", to: "stopped", queue: target, reason: { why: screened.spam, rules: screened.matched } }]));
    return answer(created.id, false);
  }
  const ackIds = [...new Set([...(wf.acknowledge ? [wf.acknowledge] : []), ...screened.autoRespond, ...(classified?.decision.autoRespond ? [classified.decision.autoRespond] : [])])];
  if (ackIds.length && d.contact.email) await acknowledgeForm(env, { cfg, tenant, wf, interactionId: created.id, contactId: contact?.id ?? null, to: d.contact.email, name: d.contact, subject: d.subject, tag, responseIds: ackIds });
  await routeNew(env, tenant, target, { id: created.id, media: "email", priority, subject: d.subject, contactId: contact?.id ?? null, categories, attributes }, "webform");
  return answer(created.id, false);
}

export const formRoutes: RouteDef[] = [
  route({
    method: "post", path: "/api/v1/forms/:formId", access: "public", tags: ["forms"],
    tenant: ({ params }) => FORM_ID.exec(params.formId!)?.[1] ?? null,
    unknownTenant: () => notFound("unknown_form", "no such form"),
    summary:
      "Submit a web form. formId is '<tenant>.<form>' (both are [a-z0-9_-], so the dot is unambiguous). Body: urlencoded, multipart (files) or JSON; " +
      "'Idempotency-Key' or a '_submission' field makes retries answer the first interaction. A plain HTML post is redirected (303) to the form's thankYouUrl.",
    responses: { 202: { description: "Accepted: an email-type interaction in the form's workflow queue", schema: Accepted }, 303: { description: "HTML post: to the thank-you page" } },
    // A preflight answers 204 for an origin on the form's list, else 403.
    cors: {
      origin: async ({ req, env, params }) => allowedOrigin(req, (await findForm(env, params.formId!)).form.allowedOrigins),
      allowList: async ({ env, params }) => (await findForm(await tenantEnv(env, FORM_ID.exec(params.formId!)?.[1] ?? ""), params.formId!)).form.allowedOrigins,
    },
    handler: async ({ req, env, params }) => {
      const { tenant, form, cfg } = await findForm(env, params.formId!);
      return submitForm(req, env, tenant, form, cfg);
    },
  }),
];
