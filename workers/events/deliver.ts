// One webhook delivery: the event as CloudEvents JSON, signed to Standard Webhooks with the endpoint's
// secret (and the previous one during a rotation's overlap), posted, and its outcome: delivered on a
// 2xx; disabled on a 410; retried on the schedule (a 429's or 503's Retry-After honoured); failed when
// the schedule is spent; and an endpoint failing for five days disabled, the tenant's admins told
// through the audit log. The webhook-id is the event's, so a replay carries the same id.
import type { TenantEnv } from "../tenancy/tenant-env.ts";
import { outboundUrlProblem } from "../outbound/url-policy.ts";
import { tenantSecret } from "../secrets/store.ts";
import { appendEvent, type LogRow } from "../ucs/event-log.ts";
import { deliveryResult, endpointUpdate, type DeliveryResult, type EndpointRow } from "../ucs/webhooks.ts";
import { toCloudEvent } from "./cloudevents.ts";
import { DISABLE_AFTER_MS, nextAttempt, signWebhook } from "./standard-webhooks.ts";

const TIMEOUT_MS = 10_000;

export const secretName = (endpointId: string) => `webhook-${endpointId}`;
export const previousSecretName = (endpointId: string) => `webhook-${endpointId}-previous`;

/** An endpoint's secrets for one pass of deliveries (read once, not per event). */
export interface Keys {
  current: string | undefined;
  previous: string | undefined;
}

export async function keysOf(env: TenantEnv, tenant: string, ep: EndpointRow): Promise<Keys> {
  return {
    current: await tenantSecret(env, tenant, secretName(ep.id)),
    previous: ep.previous_until !== null && ep.previous_until > Date.now() ? await tenantSecret(env, tenant, previousSecretName(ep.id)) : undefined,
  };
}

/** The outcome to record: the pump writes a pass's outcomes in one batch. */
export interface Attempted {
  seq: number;
  ok: boolean;
  status: number | null;
  result: DeliveryResult;
  disabled?: string;
}

export async function deliver(env: TenantEnv, tenant: string, ep: EndpointRow, keys: Keys, row: LogRow, attemptsBefore: number, origin: string): Promise<Attempted> {
  const now = Date.now();
  const done = (ok: boolean, status: number | null, result: Attempted["result"], disabled?: string): Attempted => ({ seq: row.seq, ok, status, result, ...(disabled ? { disabled } : {}) });
  const problem = outboundUrlProblem(ep.url, { devHost: env.DEV_OUTBOUND_HOST });
  if (problem) return done(false, null, { state: "failed", status: null, error: `the URL is refused: ${problem}`, latencyMs: null, nextAt: null });
  if (!keys.current) return done(false, null, { state: "failed", status: null, error: "the endpoint's secret is missing", latencyMs: null, nextAt: null });
  const id = `${tenant}:${row.seq}`;
  const ts = Math.floor(now / 1000);
  const body = JSON.stringify(toCloudEvent(tenant, row, origin));
  const sigs = [await signWebhook(keys.current, id, ts, body)];
  if (keys.previous) sigs.push(await signWebhook(keys.previous, id, ts, body));
  const t0 = Date.now();
  let status: number | null = null;
  let error: string | null = null;
  let retryAfter: string | null = null;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), TIMEOUT_MS);
  try {
    const res = await fetch(ep.url, { method: "POST", headers: { "Content-Type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sigs.join(" "), "User-Agent": "Parley-Webhooks/1" }, body, signal: stop.signal, redirect: "manual" });
    status = res.status;
    retryAfter = res.headers.get("Retry-After");
    await res.body?.cancel().catch(() => {});
  } catch (err) {
    error = stop.signal.aborted ? `no answer within ${TIMEOUT_MS / 1000} s` : String(err instanceof Error ? err.message : err).slice(0, 300);
  } finally {
    clearTimeout(timer);
  }
  const latencyMs = Date.now() - t0;
  if (status !== null && status >= 200 && status < 300) return done(true, status, { state: "delivered", status, error: null, latencyMs, nextAt: null });
  if (status === 410) return done(false, status, { state: "failed", status, error: "410 Gone: the endpoint is disabled", latencyMs, nextAt: null }, "the receiver answered 410 Gone");
  const next = nextAttempt(attemptsBefore + 1, Date.now(), status === 429 || status === 503 ? retryAfter : null);
  const failing = ep.failing_since !== null && now - ep.failing_since > DISABLE_AFTER_MS;
  return done(false, status, { state: next === null ? "failed" : "retrying", status, error: error ?? `the receiver answered ${status}`, latencyMs, nextAt: next }, failing ? "it has failed for five days" : undefined);
}

/** A pass's outcomes for one endpoint, in one batch: each delivery's row, the endpoint's failing clock, and a disabling. */
export async function recordPass(env: TenantEnv, tenant: string, ep: EndpointRow, outcomes: Attempted[], cursor: number | null, also: D1PreparedStatement[] = []): Promise<void> {
  if (!outcomes.length && cursor === null && !also.length) return;
  const now = Date.now();
  const st = [...outcomes.map((o) => deliveryResult(env.DB, tenant, ep.id, o.seq, o.result, now)), ...also];
  const anyOk = outcomes.some((o) => o.ok);
  const anyFailed = outcomes.some((o) => !o.ok);
  const set: Parameters<typeof endpointUpdate>[3] = {};
  if (cursor !== null && cursor > ep.cursor) set.cursor = cursor;
  if (anyOk && !anyFailed && ep.failing_since !== null) set.failing_since = null;
  if (anyFailed && !anyOk && ep.failing_since === null) set.failing_since = now;
  if (Object.keys(set).length) st.push(endpointUpdate(env.DB, tenant, ep.id, set, now));
  if (st.length) await env.DB.batch(st);
  const off = outcomes.find((o) => o.disabled)?.disabled;
  if (off) await disable(env, tenant, ep, off);
}

async function disable(env: TenantEnv, tenant: string, ep: EndpointRow, why: string): Promise<void> {
  const now = Date.now();
  await env.DB.batch([
    endpointUpdate(env.DB, tenant, ep.id, { state: "disabled", disabled_reason: why }, now),
    // The tenant's admins read it in the audit view (and an integrator in the log).
    appendEvent(env.DB, { tenant, type: "parley.webhook.disabled", subject: `webhook:${ep.id}`, at: now, actor: "system", data: { endpoint: ep.id, url: ep.url, why } }),
  ]);
}
