// Content Analyzer test helpers: a tenant with the fixture's categories, its examples imported
// through the API, and a model trained by running the Classifier's alarm until it is done.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { CATEGORIES, EXAMPLES } from "./fixtures/classifier/examples.ts";
import type { Tenant } from "./helpers.ts";

export const CATEGORY_TREE = CATEGORIES.map((id) => ({ id, name: id[0]!.toUpperCase() + id.slice(1) }));
export const jsonl = (rows: { text: string; category: string }[]) => rows.map((r) => JSON.stringify(r)).join("\n");

export async function importExamples(t: Tenant, admin = "admin", rows = EXAMPLES): Promise<Response> {
  return t.api("/api/v1/admin/classifier/examples", { method: "POST", as: admin, headers: { "Content-Type": "application/x-ndjson" }, body: jsonl(rows) });
}

/** Runs the tenant's Classifier alarm until the version is no longer training. */
export async function finishTraining(tenant: string, version: number, between?: (slice: number) => Promise<void>): Promise<{ state: string; report: Record<string, unknown> }> {
  const stub = env.CLASSIFIER.getByName(tenant);
  for (let slice = 0; slice < 500; slice++) {
    const row = await env.SHARD_1.prepare("SELECT state, report FROM classifier_models WHERE tenant_id = ? AND version = ?").bind(tenant, version).first<{ state: string; report: string | null }>();
    if (row && row.state !== "training") return { state: row.state, report: row.report ? (JSON.parse(row.report) as Record<string, unknown>) : {} };
    await runDurableObjectAlarm(stub);
    await between?.(slice);
  }
  throw new Error("training did not finish");
}

export async function trainAndActivate(t: Tenant, admin = "admin"): Promise<number> {
  const started = await t.call<{ version: number }>("/api/v1/admin/classifier/train", { method: "POST", as: admin, expect: 202 });
  const done = await finishTraining(t.id, started.version);
  if (done.state !== "ready") throw new Error(`training ended ${done.state}`);
  await t.call("/api/v1/admin/classifier/activate", { method: "POST", as: admin, json: { version: started.version } });
  return started.version;
}
