// Classifying with the tenant's active model: the version and thresholds come from D1 (checked at
// most every 2 s), the weights from R2, kept per isolate in a small least-recently-used cache, so a
// classification costs one pass over the text once the model is warm.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { deserialize, OUT_OF_SCOPE, predict, type Explanation, type Model } from "./model.ts";
import { thresholdsFrom, type CurvePoint } from "./report.ts";
import { modelKey } from "./keys.ts";
import type { ActionThresholds } from "./api-types.ts";

export type { ActionThresholds };
import { classifierSettings, modelWithReport, type ClassifierSettings } from "../ucs/classifier.ts";

export interface ClassifyResult {
  categories: { id: string; confidence: number }[];
  outOfScope: boolean;
  model: number;
  explanation: Explanation[];
}


export interface ActiveModel {
  version: number;
  model: Model;
  thresholds: ActionThresholds;
}

const SETTINGS_TTL_MS = 2000;
const MODEL_CACHE_BYTES = 48 << 20;
const SHOWN = 5;

const settingsCache = new Map<string, { at: number; settings: ClassifierSettings }>();
const models = new Map<string, { model: Model; curve: CurvePoint[]; bytes: number }>();

export function thresholdsOf(settings: ClassifierSettings, curve: readonly CurvePoint[]): ActionThresholds {
  const read = curve.length ? thresholdsFrom(curve, settings.autoPrecision) : { autoRespond: null, route: 0.5 };
  return {
    autoRespond: settings.autoRespondAt ?? read.autoRespond,
    route: settings.routeAt ?? read.route,
    suggest: settings.suggestAt,
    outOfScopeBelow: settings.outOfScopeBelow,
  };
}

async function settingsOf(db: D1Database, tenant: string): Promise<ClassifierSettings> {
  const hit = settingsCache.get(tenant);
  if (hit && Date.now() - hit.at < SETTINGS_TTL_MS) return hit.settings;
  const settings = await classifierSettings(db, tenant);
  if (settingsCache.size > 1000) settingsCache.clear();
  settingsCache.set(tenant, { at: Date.now(), settings });
  return settings;
}

/** After an admin's change: this isolate sees it at once (others within 2 s). */
export function forgetClassifierSettings(tenant: string): void {
  settingsCache.delete(tenant);
}

async function load(env: TenantEnv, tenant: string, version: number): Promise<{ model: Model; curve: CurvePoint[] } | null> {
  const key = `${tenant}/${version}`;
  const hit = models.get(key);
  if (hit) {
    models.delete(key); // re-inserted: most recently used last
    models.set(key, hit);
    return hit;
  }
  const [obj, row] = await Promise.all([env.BLOBS.get(modelKey(tenant, version)), modelWithReport(env.DB, tenant, version)]);
  if (!obj || !row) return null;
  const bytes = new Uint8Array(await obj.arrayBuffer());
  const entry = { model: deserialize(bytes), curve: (row.report as { curve?: CurvePoint[] } | null)?.curve ?? [], bytes: bytes.byteLength };
  let total = entry.bytes;
  for (const v of models.values()) total += v.bytes;
  for (const [k, v] of models) {
    if (total <= MODEL_CACHE_BYTES) break;
    models.delete(k);
    total -= v.bytes;
  }
  models.set(key, entry);
  return entry;
}

export async function activeModel(env: TenantEnv, tenant: string): Promise<ActiveModel | null> {
  const settings = await settingsOf(env.DB, tenant);
  if (settings.activeVersion === null) return null;
  const loaded = await load(env, tenant, settings.activeVersion);
  return loaded ? { version: settings.activeVersion, model: loaded.model, thresholds: thresholdsOf(settings, loaded.curve) } : null;
}

export function classifyWith(active: ActiveModel, text: string): ClassifyResult {
  const p = predict(active.model, text, 5);
  const top = p.ranked[0]!;
  const outOfScope = top.label === OUT_OF_SCOPE || top.confidence < active.thresholds.outOfScopeBelow;
  const floor = Math.max(active.thresholds.suggest, 0.01);
  const categories = p.ranked
    .filter((r) => r.label !== OUT_OF_SCOPE && r.confidence >= floor)
    .slice(0, SHOWN)
    .map((r) => ({ id: r.label, confidence: Math.round(r.confidence * 10_000) / 10_000 }));
  return { categories, outOfScope, model: active.version, explanation: p.explanation };
}
