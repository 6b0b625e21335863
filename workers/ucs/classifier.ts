// The Content Analyzer's rows in D1: training examples, model versions and their reports, the
// tenant's thresholds and active version, and each interaction's classification.
import type { EventGuard } from "./events.ts";
import type { ClassifierSettings, ModelRow, ModelState } from "../analyzer/api-types.ts";

export type { ClassifierSettings, ModelRow, ModelState };

export type ExampleSource = "import" | "agent";

export interface ExampleRow {
  hash: string;
  category: string;
  text: string;
}

/** JSON handed to one statement (D1 binds a string of up to about 1 MB; rows are cut below that). */
const CHUNK_CHARS = 400_000;

function chunks(rows: readonly ExampleRow[]): ExampleRow[][] {
  const out: ExampleRow[][] = [];
  let cur: ExampleRow[] = [];
  let size = 0;
  for (const r of rows) {
    const n = r.text.length * 2 + r.category.length + 80;
    if (cur.length && size + n > CHUNK_CHARS) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(r);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

const insertExamples = (db: D1Database, tenant: string, rows: ExampleRow[], source: ExampleSource, at: number, who: { interaction?: string; agent?: string } = {}) =>
  db
    .prepare(
      `INSERT OR IGNORE INTO classifier_examples (tenant_id, text_hash, category, text, source, interaction_id, agent_id, created_at)
       SELECT ?, j.value ->> 'hash', j.value ->> 'category', j.value ->> 'text', ?, ?, ?, ? FROM json_each(?) j`,
    )
    .bind(tenant, source, who.interaction ?? null, who.agent ?? null, at, JSON.stringify(rows));

/** Adds examples; one already there (same text and category) is left as it is. Returns how many were new. */
export async function addExamples(db: D1Database, tenant: string, rows: readonly ExampleRow[], source: ExampleSource, at: number): Promise<number> {
  if (!rows.length) return 0;
  const res = await db.batch(chunks(rows).map((c) => insertExamples(db, tenant, c, source, at)));
  return res.reduce((n, r) => n + r.meta.changes, 0);
}

export async function exampleCount(db: D1Database, tenant: string): Promise<number> {
  return (await db.prepare("SELECT COUNT(*) AS n FROM classifier_examples WHERE tenant_id = ?").bind(tenant).first<{ n: number }>())?.n ?? 0;
}

export interface CategoryCount {
  category: string;
  imported: number;
  agent: number;
}

export async function exampleCounts(db: D1Database, tenant: string): Promise<CategoryCount[]> {
  const r = await db
    .prepare(
      `SELECT category, SUM(source = 'import') AS imported, SUM(source = 'agent') AS agent FROM classifier_examples
       WHERE tenant_id = ? GROUP BY category ORDER BY category`,
    )
    .bind(tenant)
    .all<CategoryCount>();
  return r.results;
}

export interface ListedExample extends ExampleRow {
  source: ExampleSource;
  interactionId: string | null;
  agentId: string | null;
  createdAt: number;
}

/** A page of examples, newest first; `before` is the createdAt/hash cursor of the previous page's last row. */
export async function listExamples(db: D1Database, tenant: string, q: { category?: string; before?: { at: number; hash: string }; limit: number }): Promise<ListedExample[]> {
  const r = await db
    .prepare(
      `SELECT text_hash, category, text, source, interaction_id, agent_id, created_at FROM classifier_examples
       WHERE tenant_id = ?1 AND (?2 IS NULL OR category = ?2) AND (?3 IS NULL OR created_at < ?3 OR (created_at = ?3 AND text_hash < ?4))
       ORDER BY created_at DESC, text_hash DESC LIMIT ?5`,
    )
    .bind(tenant, q.category ?? null, q.before?.at ?? null, q.before?.hash ?? "", q.limit)
    .all<{ text_hash: string; category: string; text: string; source: ExampleSource; interaction_id: string | null; agent_id: string | null; created_at: number }>();
  return r.results.map((x) => ({ hash: x.text_hash, category: x.category, text: x.text, source: x.source, interactionId: x.interaction_id, agentId: x.agent_id, createdAt: x.created_at }));
}

export async function deleteExample(db: D1Database, tenant: string, hash: string, category: string): Promise<boolean> {
  const r = await db.prepare("DELETE FROM classifier_examples WHERE tenant_id = ? AND text_hash = ? AND category = ?").bind(tenant, hash, category).run();
  return r.meta.changes > 0;
}

/** Every example of the tenant, for training (at most `limit`, the newest). */
export async function trainingExamples(db: D1Database, tenant: string, limit: number): Promise<{ text: string; category: string }[]> {
  const r = await db
    .prepare("SELECT text, category FROM classifier_examples WHERE tenant_id = ? ORDER BY created_at DESC, text_hash LIMIT ?")
    .bind(tenant, limit)
    .all<{ text: string; category: string }>();
  return r.results;
}

/** An agent's answer about one interaction replaces their earlier answer about it, as training data. */
export function agentExampleStatements(db: D1Database, tenant: string, interaction: string, agent: string, rows: ExampleRow[], at: number): D1PreparedStatement[] {
  return [
    db.prepare("DELETE FROM classifier_examples WHERE tenant_id = ? AND interaction_id = ? AND source = 'agent'").bind(tenant, interaction),
    ...(rows.length ? [insertExamples(db, tenant, rows, "agent", at, { interaction, agent })] : []),
  ];
}

// ---- model versions



interface ModelDbRow {
  version: number; state: ModelState; created_at: number; created_by: string | null; finished_at: number | null; activated_at: number | null;
  examples: number; held_out: number; labels: string; progress: number; train_ms: number | null; bytes: number | null; error: string | null; report?: string | null;
}

const modelOf = (r: ModelDbRow): ModelRow => ({
  version: r.version, state: r.state, createdAt: r.created_at, createdBy: r.created_by, finishedAt: r.finished_at, activatedAt: r.activated_at,
  examples: r.examples, heldOut: r.held_out, labels: JSON.parse(r.labels) as string[], progress: r.progress, trainMs: r.train_ms, bytes: r.bytes, error: r.error,
});

const MODEL_COLS = "version, state, created_at, created_by, finished_at, activated_at, examples, held_out, labels, progress, train_ms, bytes, error";

/** A new version, numbered after the tenant's last; refused (null) while another is still training. */
export async function newModelVersion(db: D1Database, tenant: string, m: { by: string | null; examples: number; heldOut: number; labels: string[]; at: number }): Promise<number | null> {
  const r = await db
    .prepare(
      `INSERT INTO classifier_models (tenant_id, version, state, created_at, created_by, examples, held_out, labels)
       SELECT ?1, COALESCE((SELECT MAX(version) FROM classifier_models WHERE tenant_id = ?1), 0) + 1, 'training', ?2, ?3, ?4, ?5, ?6
       WHERE NOT EXISTS (SELECT 1 FROM classifier_models WHERE tenant_id = ?1 AND state = 'training')
       RETURNING version`,
    )
    .bind(tenant, m.at, m.by, m.examples, m.heldOut, JSON.stringify(m.labels))
    .first<{ version: number }>();
  return r?.version ?? null;
}

export async function setModelProgress(db: D1Database, tenant: string, version: number, progress: number): Promise<void> {
  await db.prepare("UPDATE classifier_models SET progress = ? WHERE tenant_id = ? AND version = ? AND state = 'training'").bind(progress, tenant, version).run();
}

export async function finishModel(db: D1Database, tenant: string, version: number, m: { report: unknown; bytes: number; trainMs: number; at: number }): Promise<void> {
  await db
    .prepare("UPDATE classifier_models SET state = 'ready', progress = 1, report = ?, bytes = ?, train_ms = ?, finished_at = ? WHERE tenant_id = ? AND version = ? AND state = 'training'")
    .bind(JSON.stringify(m.report), m.bytes, m.trainMs, m.at, tenant, version)
    .run();
}

export async function failModel(db: D1Database, tenant: string, version: number, error: string, at: number): Promise<void> {
  await db.prepare("UPDATE classifier_models SET state = 'failed', error = ?, finished_at = ? WHERE tenant_id = ? AND version = ? AND state = 'training'").bind(error.slice(0, 1000), at, tenant, version).run();
}

/** Versions left "training" that no Classifier job will finish (it stopped between writing the row and its job). */
export async function failOrphanedTraining(db: D1Database, tenant: string, at: number): Promise<number> {
  const r = await db
    .prepare("UPDATE classifier_models SET state = 'failed', error = 'interrupted before training started; train again', finished_at = ? WHERE tenant_id = ? AND state = 'training'")
    .bind(at, tenant)
    .run();
  return r.meta.changes;
}

export async function listModels(db: D1Database, tenant: string): Promise<ModelRow[]> {
  const r = await db.prepare(`SELECT ${MODEL_COLS} FROM classifier_models WHERE tenant_id = ? ORDER BY version DESC LIMIT 50`).bind(tenant).all<ModelDbRow>();
  return r.results.map(modelOf);
}

export async function modelWithReport(db: D1Database, tenant: string, version: number): Promise<(ModelRow & { report: unknown }) | null> {
  const r = await db.prepare(`SELECT ${MODEL_COLS}, report FROM classifier_models WHERE tenant_id = ? AND version = ?`).bind(tenant, version).first<ModelDbRow>();
  return r ? { ...modelOf(r), report: r.report ? (JSON.parse(r.report) as unknown) : null } : null;
}

// ---- settings and activation


export const DEFAULT_SETTINGS: ClassifierSettings = { activeVersion: null, autoPrecision: 0.85, outOfScopeBelow: 0.1, autoRespondAt: null, routeAt: null, suggestAt: 0 };

export async function classifierSettings(db: D1Database, tenant: string): Promise<ClassifierSettings> {
  const r = await db
    .prepare("SELECT active_version, auto_precision, out_of_scope_below, auto_respond_at, route_at, suggest_at FROM classifier_settings WHERE tenant_id = ?")
    .bind(tenant)
    .first<{ active_version: number | null; auto_precision: number; out_of_scope_below: number; auto_respond_at: number | null; route_at: number | null; suggest_at: number }>();
  if (!r) return { ...DEFAULT_SETTINGS };
  return { activeVersion: r.active_version, autoPrecision: r.auto_precision, outOfScopeBelow: r.out_of_scope_below, autoRespondAt: r.auto_respond_at, routeAt: r.route_at, suggestAt: r.suggest_at };
}

export async function saveThresholds(db: D1Database, tenant: string, s: Omit<ClassifierSettings, "activeVersion">, at: number): Promise<void> {
  await db
    .prepare(
      `INSERT INTO classifier_settings (tenant_id, auto_precision, out_of_scope_below, auto_respond_at, route_at, suggest_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id) DO UPDATE SET auto_precision = excluded.auto_precision, out_of_scope_below = excluded.out_of_scope_below,
         auto_respond_at = excluded.auto_respond_at, route_at = excluded.route_at, suggest_at = excluded.suggest_at, updated_at = excluded.updated_at`,
    )
    .bind(tenant, s.autoPrecision, s.outOfScopeBelow, s.autoRespondAt, s.routeAt, s.suggestAt, at)
    .run();
}

/** Makes a tested version the active one. False when there is no such ready version. */
export async function activateModel(db: D1Database, tenant: string, version: number, at: number): Promise<boolean> {
  const [stamp] = await db.batch([
    db.prepare("UPDATE classifier_models SET activated_at = ? WHERE tenant_id = ? AND version = ? AND state = 'ready'").bind(at, tenant, version),
    db
      .prepare(
        `INSERT INTO classifier_settings (tenant_id, active_version, updated_at) SELECT ?1, ?2, ?3
         WHERE EXISTS (SELECT 1 FROM classifier_models WHERE tenant_id = ?1 AND version = ?2 AND state = 'ready')
         ON CONFLICT (tenant_id) DO UPDATE SET active_version = excluded.active_version, updated_at = excluded.updated_at`,
      )
      .bind(tenant, version, at),
  ]);
  return stamp!.meta.changes > 0;
}

/** No active version: new work goes unclassified until one is activated again. */
export async function deactivateModel(db: D1Database, tenant: string, at: number): Promise<void> {
  await db.prepare("UPDATE classifier_settings SET active_version = NULL, updated_at = ? WHERE tenant_id = ?").bind(at, tenant).run();
}

/** The version activated before the active one, for a rollback. */
export async function previousActive(db: D1Database, tenant: string, current: number): Promise<number | null> {
  const r = await db
    .prepare("SELECT version FROM classifier_models WHERE tenant_id = ? AND version != ? AND state = 'ready' AND activated_at IS NOT NULL ORDER BY activated_at DESC LIMIT 1")
    .bind(tenant, current)
    .first<{ version: number }>();
  return r?.version ?? null;
}

// ---- classifications

export interface Classification {
  modelVersion: number | null;
  categories: { id: string; confidence: number }[];
  outOfScope: boolean;
  explanation: { feature: string; weight: number }[];
  text: string;
  createdAt: number;
  confirmed: string[] | null;
  confirmedBy: string | null;
}

/** An interaction's classification, written with its creation (under its guard) or after it. */
export function classificationStatement(db: D1Database, tenant: string, interaction: string, c: Omit<Classification, "confirmed" | "confirmedBy">, guard?: EventGuard): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO interaction_classifications (tenant_id, interaction_id, model_version, categories, out_of_scope, explanation, text, created_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${guard ? guard.sql : "1"}
       ON CONFLICT (tenant_id, interaction_id) DO NOTHING`,
    )
    .bind(tenant, interaction, c.modelVersion, JSON.stringify(c.categories), c.outOfScope ? 1 : 0, JSON.stringify(c.explanation), c.text, c.createdAt, ...(guard?.params ?? []));
}

export async function classificationOf(db: D1Database, tenant: string, interaction: string): Promise<Classification | null> {
  const r = await db
    .prepare("SELECT model_version, categories, out_of_scope, explanation, text, created_at, confirmed, confirmed_by FROM interaction_classifications WHERE tenant_id = ? AND interaction_id = ?")
    .bind(tenant, interaction)
    .first<{ model_version: number | null; categories: string; out_of_scope: number; explanation: string; text: string; created_at: number; confirmed: string | null; confirmed_by: string | null }>();
  if (!r) return null;
  return {
    modelVersion: r.model_version, categories: JSON.parse(r.categories) as Classification["categories"], outOfScope: r.out_of_scope === 1,
    explanation: JSON.parse(r.explanation) as Classification["explanation"], text: r.text, createdAt: r.created_at,
    confirmed: r.confirmed ? (JSON.parse(r.confirmed) as string[]) : null, confirmedBy: r.confirmed_by,
  };
}

export const confirmStatement = (db: D1Database, tenant: string, interaction: string, categories: string[], agent: string, at: number): D1PreparedStatement =>
  db
    .prepare("UPDATE interaction_classifications SET confirmed = ?, confirmed_by = ?, confirmed_at = ? WHERE tenant_id = ? AND interaction_id = ?")
    .bind(JSON.stringify(categories), agent, at, tenant, interaction);

/** The text the search index holds for an interaction (subject and message), for feedback on work classified before a model existed. */
export async function interactionSearchText(db: D1Database, tenant: string, interaction: string): Promise<string | null> {
  const r = await db.prepare("SELECT body FROM search_index WHERE tenant_id = ? AND kind = 'message' AND ref = ? LIMIT 1").bind(tenant, interaction).first<{ body: string }>();
  return r ? r.body.slice(0, 4000) : null;
}
