// Content Analyzer API: the admin's training objects (examples, training, versions, thresholds,
// activation), classification for integrators, and the agent's view and feedback per interaction.
import type { TenantEnv } from "../../tenancy/tenant-env.ts";
import * as z from "zod";
import { getConfig } from "../../config/store.ts";
import { classifierStub } from "../../../durable-objects/names.ts";
import { OUT_OF_SCOPE } from "../../analyzer/model.ts";
import { activeModel, classifyWith, forgetClassifierSettings, thresholdsOf } from "../../analyzer/serve.ts";
import { classifiedText, MAX_TEXT_CHARS } from "../../analyzer/text.ts";
import { exampleText, importFormat, ImportError, MAX_IMPORT_BYTES, parseImport } from "../../analyzer/import.ts";
import { sha256Hex } from "../../kernel/ids.ts";
import { readLimited } from "../../kernel/read-limited.ts";
import { AppError, badRequest, conflict, forbidden, notFound } from "../../kernel/errors.ts";
import {
  activateModel, addExamples, deactivateModel, agentExampleStatements, classificationOf, classifierSettings, confirmStatement, deleteExample, exampleCount, exampleCounts,
  interactionSearchText, listExamples, listModels, modelWithReport, previousActive, saveThresholds,
} from "../../ucs/classifier.ts";
import { categoriesStatements, getInteractionRow } from "../../ucs/interactions.ts";
import { asUser, Reply, route, type RouteDef } from "../api.ts";
import { unwrap } from "../../../durable-objects/result.ts";

/** A tenant keeps at most this many examples: enough for thousands of categories. */
export const MAX_TENANT_EXAMPLES = 200_000;

const Version = z.object({ version: z.number().int().positive() }).strict();
const Threshold = z.number().min(0).max(1);
const Categorised = z.object({ id: z.string(), confidence: z.number() });
const ClassifyAnswer = z.object({
  categories: z.array(Categorised), outOfScope: z.boolean(), model: z.number(), explanation: z.array(z.object({ feature: z.string(), weight: z.number() })),
});

const versionParam = (params: Record<string, string>) => {
  const v = Number(params.version);
  if (!Number.isInteger(v) || v <= 0) throw badRequest("invalid_version", "version: a positive whole number");
  return v;
};

async function categoryIds(env: TenantEnv, tenant: string): Promise<Set<string>> {
  return new Set((await getConfig(env.DB, tenant)).raw.categories.map((c) => c.id));
}

export const classifierRoutes: RouteDef[] = [
  route({
    method: "get", path: "/api/v1/admin/classifier", access: "admin", tags: ["classifier"],
    summary: "The training objects and models: examples per category, versions with their state and progress, the active version and the thresholds in force",
    handler: async ({ env, caller }) => {
      const [counts, versions, settings, cfg, active] = await Promise.all([
        exampleCounts(env.DB, caller.tenant), listModels(env.DB, caller.tenant), classifierSettings(env.DB, caller.tenant), getConfig(env.DB, caller.tenant),
        activeModel(env, caller.tenant).catch(() => null),
      ]);
      const responses = new Map<string, number>();
      for (const r of cfg.raw.standardResponses) if (r.category) responses.set(r.category, (responses.get(r.category) ?? 0) + 1);
      const tree = [...cfg.raw.categories.map((c) => c.id), OUT_OF_SCOPE];
      const byId = new Map(counts.map((c) => [c.category, c]));
      return {
        categories: tree.map((id) => ({ id, name: cfg.raw.categories.find((c) => c.id === id)?.name ?? "None of these", parent: cfg.raw.categories.find((c) => c.id === id)?.parent ?? null, imported: byId.get(id)?.imported ?? 0, agent: byId.get(id)?.agent ?? 0, responses: responses.get(id) ?? 0 })),
        /** Examples filed under a category no longer in the tree: kept, not trained on. */
        orphaned: counts.filter((c) => !tree.includes(c.category)),
        versions, settings,
        thresholds: active?.thresholds ?? null,
      };
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/classifier/examples", access: "admin", tags: ["classifier"],
    summary: `Import training examples: JSON Lines (application/x-ndjson; {"text","category"} per line) or CSV (text/csv; a text,category header). At most ${MAX_IMPORT_BYTES} bytes; idempotent on text and category; a bad line refuses the whole file, naming the line. Category '${OUT_OF_SCOPE}': none of them.`,
    responses: { 200: { description: "How many lines were read, how many examples were new", schema: z.object({ received: z.number(), added: z.number(), duplicates: z.number() }) } },
    handler: async ({ env, caller, req }) => {
      const format = importFormat(req.headers.get("Content-Type"));
      if (!format) throw new AppError(415, "unsupported_media_type", "send JSON Lines (application/x-ndjson) or CSV (text/csv)");
      const bytes = await readLimited(req, MAX_IMPORT_BYTES);
      let rows;
      try {
        rows = parseImport(bytes, format, await categoryIds(env, caller.tenant));
      } catch (err) {
        if (err instanceof ImportError) throw err.code === "payload_too_large" ? new AppError(413, err.code, err.message) : badRequest(err.code, err.message, err.line === null ? undefined : { line: err.line });
        throw err;
      }
      const unique = new Map<string, { hash: string; text: string; category: string }>();
      for (const r of rows) {
        const hash = await sha256Hex(r.text);
        unique.set(`${hash}/${r.category}`, { hash, text: r.text, category: r.category });
      }
      if ((await exampleCount(env.DB, caller.tenant)) + unique.size > MAX_TENANT_EXAMPLES) throw conflict("too_many_examples", `a tenant keeps at most ${MAX_TENANT_EXAMPLES} examples: delete some first`);
      const added = await addExamples(env.DB, caller.tenant, [...unique.values()], "import", Date.now());
      return { received: rows.length, added, duplicates: rows.length - added };
    },
  }),
  route({
    method: "get", path: "/api/v1/admin/classifier/examples", access: "admin", tags: ["classifier"],
    summary: "Browse examples, newest first, optionally of one category; `next` continues",
    query: z.object({ category: z.string().max(100).optional(), before: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }).strict(),
    handler: async ({ env, caller, query }) => {
      const [at, hash] = query.before ? query.before.split(".") : [];
      const before = query.before ? { at: Number(at), hash: hash ?? "" } : undefined;
      if (before && !Number.isFinite(before.at)) throw badRequest("invalid_query", "before: the `next` of the previous page");
      const examples = await listExamples(env.DB, caller.tenant, { category: query.category, before, limit: query.limit });
      const last = examples[examples.length - 1];
      return { examples, next: examples.length === query.limit && last ? `${last.createdAt}.${last.hash}` : null };
    },
  }),
  route({
    method: "delete", path: "/api/v1/admin/classifier/examples/:hash/:category", access: "admin", tags: ["classifier"], summary: "Delete one example",
    responses: { 204: { description: "Deleted" } },
    handler: async ({ env, caller, params }) => {
      if (!(await deleteExample(env.DB, caller.tenant, params.hash ?? "", params.category ?? ""))) throw notFound("unknown_example", "no such example");
      return new Response(null, { status: 204 });
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/classifier/train", access: "admin", tags: ["classifier"],
    summary: "Train a new model version in the background from the training objects; 10% of each category is held out for its test report. 409 while one is training.",
    responses: { 202: { description: "Training started", schema: z.object({ version: z.number(), examples: z.number(), heldOut: z.number(), labels: z.array(z.string()), skipped: z.number() }) } },
    handler: async ({ env, caller }) => new Reply(202, unwrap(await classifierStub(env, caller.tenant).train({ by: asUser(caller).agentId }))),
  }),
  route({
    method: "get", path: "/api/v1/admin/classifier/versions/:version", access: "admin", tags: ["classifier"],
    summary: "One version: its state, size and test report (per-category precision, recall and F1, the precision/recall curve, top-3 accuracy, confused pairs, out-of-scope recall)",
    handler: async ({ env, caller, params }) => (await modelWithReport(env.DB, caller.tenant, versionParam(params))) ?? fail404(),
  }),
  route({
    method: "post", path: "/api/v1/admin/classifier/activate", access: "admin", tags: ["classifier"], summary: "Make a tested (ready) version the active one",
    body: Version,
    handler: async ({ env, caller, body }) => {
      if (!(await activateModel(env.DB, caller.tenant, body.version, Date.now()))) throw conflict("not_ready", `version ${body.version} is not a tested model (it is unknown, training or failed)`);
      forgetClassifierSettings(caller.tenant);
      return { active: body.version };
    },
  }),
  route({
    method: "post", path: "/api/v1/admin/classifier/rollback", access: "admin", tags: ["classifier"], summary: "Go back to the version that was active before the current one",
    handler: async ({ env, caller }) => {
      const { activeVersion } = await classifierSettings(env.DB, caller.tenant);
      const previous = activeVersion === null ? null : await previousActive(env.DB, caller.tenant, activeVersion);
      if (previous === null) throw conflict("nothing_to_roll_back", "no version was active before this one");
      await activateModel(env.DB, caller.tenant, previous, Date.now());
      forgetClassifierSettings(caller.tenant);
      return { active: previous };
    },
  }),
  route({
    method: "delete", path: "/api/v1/admin/classifier/active", access: "admin", tags: ["classifier"], summary: "Switch the classifier off: new work goes unclassified until a version is activated again",
    responses: { 204: { description: "Off" } },
    handler: async ({ env, caller }) => {
      await deactivateModel(env.DB, caller.tenant, Date.now());
      forgetClassifierSettings(caller.tenant);
      return new Response(null, { status: 204 });
    },
  }),
  route({
    method: "put", path: "/api/v1/admin/classifier/settings", access: "admin", tags: ["classifier"],
    summary: "Thresholds per action: the precision automatic replies need (default 0.85), the confidence below which the answer is 'none of these', and optional fixed thresholds for automatic replies and routing (null: read off the active version's curve)",
    body: z.object({ autoPrecision: Threshold, outOfScopeBelow: Threshold, autoRespondAt: Threshold.nullable(), routeAt: Threshold.nullable(), suggestAt: Threshold }).strict(),
    handler: async ({ env, caller, body }) => {
      await saveThresholds(env.DB, caller.tenant, body, Date.now());
      forgetClassifierSettings(caller.tenant);
      const active = await activeModel(env, caller.tenant);
      return { settings: await classifierSettings(env.DB, caller.tenant), thresholds: active?.thresholds ?? thresholdsOf({ ...body, activeVersion: null }, []) };
    },
  }),
  route({
    method: "post", path: "/api/v1/classify", access: "ingest_or_agent", tags: ["classifier"],
    summary: "Classify a text with the tenant's active model (quoted replies and signatures are left out). 409 no_active_model before one is activated.",
    body: z.object({ text: z.string().min(1).max(MAX_TEXT_CHARS), subject: z.string().max(998).optional() }).strict(),
    responses: { 200: { description: "Categories, most likely first, with their confidence", schema: ClassifyAnswer } },
    handler: async ({ env, caller, body }) => {
      const active = await activeModel(env, caller.tenant);
      if (!active) throw conflict("no_active_model", "this tenant has no active classifier model: train one and activate it (POST /api/v1/admin/classifier/train)");
      const t0 = performance.now();
      const result = classifyWith(active, classifiedText(body.subject, body.text));
      // The bench's CPU figure: local workerd's clock runs while code does (the deployed one's does
      // not), so only there, and only with BENCH=1, is the classification's own time worth a header.
      if ((env as { BENCH?: string }).BENCH !== "1") return result;
      return Response.json(result, { headers: { "Server-Timing": `classify;dur=${(performance.now() - t0).toFixed(3)}` } });
    },
  }),
  route({
    method: "get", path: "/api/v1/interactions/:id/classification", access: "agent", tags: ["classifier", "agent"],
    summary: "The interaction's classification: categories with confidence, why, the suggested standard responses (best first) and what an agent confirmed",
    handler: async ({ env, caller, params }) => {
      const row = await getInteractionRow(env.DB, caller.tenant, params.id!);
      const [c, cfg, active] = await Promise.all([classificationOf(env.DB, caller.tenant, row.id), getConfig(env.DB, caller.tenant), activeModel(env, caller.tenant).catch(() => null)]);
      const shown = c?.categories ?? [];
      const suggestions = shown.flatMap((x) => cfg.raw.standardResponses.filter((r) => r.category === x.id).map((r) => ({ id: r.id, name: r.name, category: x.id, confidence: x.confidence })));
      return {
        interactionId: row.id, model: c?.modelVersion ?? null, categories: shown, outOfScope: c?.outOfScope ?? false, explanation: c?.explanation ?? [],
        suggestions, confirmed: c?.confirmed ?? null, current: row.categories, thresholds: active?.thresholds ?? null,
        tree: cfg.raw.categories.map((x) => ({ id: x.id, name: x.name, parent: x.parent ?? null })),
      };
    },
  }),
  route({
    method: "put", path: "/api/v1/interactions/:id/categories", access: "agent", tags: ["classifier", "agent"],
    summary: "The agent confirms or corrects the interaction's categories (the handling agent, or a supervisor); the answer becomes training data",
    body: z.object({ categories: z.array(z.string().min(1).max(64)).max(20) }).strict(),
    handler: async ({ env, caller, params, body }) => {
      const u = asUser(caller);
      const row = await getInteractionRow(env.DB, u.tenant, params.id!);
      if (row.agentId !== u.agentId && u.role === "agent") throw forbidden("only the agent who handles this interaction (or a supervisor) sets its categories");
      const known = await categoryIds(env, u.tenant);
      const categories = [...new Set(body.categories)];
      const unknown = categories.find((c) => !known.has(c));
      if (unknown !== undefined) throw badRequest("unknown_category", `unknown category '${unknown}'`);
      const c = await classificationOf(env.DB, u.tenant, row.id);
      const text = exampleText(c?.text ?? (await interactionSearchText(env.DB, u.tenant, row.id)) ?? classifiedText(row.subject, ""));
      const at = Date.now();
      const rows = text ? await Promise.all(categories.map(async (category) => ({ hash: await sha256Hex(text), category, text }))) : [];
      await env.DB.batch([
        ...categoriesStatements(env.DB, { tenant: u.tenant, id: row.id, categories, actor: `agent:${u.agentId}`, at, reason: { suggested: c?.categories.map((x) => x.id) ?? [] } }),
        ...(c ? [confirmStatement(env.DB, u.tenant, row.id, categories, u.agentId, at)] : []),
        ...agentExampleStatements(env.DB, u.tenant, row.id, u.agentId, rows, at),
      ]);
      return { categories, examples: rows.length };
    },
  }),
];

function fail404(): never {
  throw notFound("unknown_version", "no such model version");
}
