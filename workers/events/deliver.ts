// One webhook delivery: the event as CloudEvents JSON, signed to Standard Webhooks with the endpoint's
// secret (and the previous one during a rotation's overlap), posted, and its outcome: delivered on a
// 2xx; disabled on a 410; retried on the schedule (a 429's or 503's Retry-After honoured); failed when
// the schedule is spent; and an endpoint failing for five days disabled, the tenant's admins told
// through the audit log. The webhook-id is the event's, so a replay carries the same id.
import { outboundUrlProblem } from "../outbound/url-policy.ts";
import { tenantSecret } from "../secrets/store.ts";
import { appendEvent, type LogRow } from "../ucs/event-log.ts";
import { deliveryResult, endpointUpdate, type EndpointRow } from "../ucs/webhooks.ts";
import { toCloudEvent } from "./cloudevents.ts";
import { DISABLE_AFTER_MS, nextAttempt, signWebhook } from "./standard-webhooks.ts";

const TIMEOUT_MS = 10_000;

export const secretName = (endpointId: string) => `webhook-${endpointId}`;
export const previousSecretName = (endpointId: string) => `webhook-${endpointId}-previous`;

export interface Attempted {
  ok: boolean;
  status: number | null;
  disabled?: string;
}

export async function deliver(env: Env, tenant: string, ep: EndpointRow, row: LogRow, attemptsBefore: number, origin: string): Promise<Attempted> {
  const now = Date.now();
  const record = (r: Parameters<typeof deliveryResult>[4]) => deliveryResult(env.DB, tenant, ep.id, row.seq, r, Date.now()).run();
  const problem = outboundUrlProblem(ep.url, { devHost: env.DEV_OUTBOUND_HOST });
  if (problem) {
    await record({ state: "failed", status: null, error: `the URL is refused: ${problem}`, latencyMs: null, nextAt: null });
    return { ok: false, status: null };
  }
  const secret = await tenantSecret(env, tenant, secretName(ep.id));
  if (!secret) {
    await record({ state: "failed", status: null, error: "the endpoint's secret is missing", latencyMs: null, nextAt: null });
    return { ok: false, status: null };
  }
  const id = `${tenant}:${row.seq}`;
  const ts = Math.floor(now / 1000);
  const body = JSON.stringify(toCloudEvent(tenant, row, origin));
  const sigs = [await signWebhook(secret, id, ts, body)];
  if (ep.previous_until !== null && ep.previous_until > now) {
    const old = await tenantSecret(env, tenant, previousSecretName(ep.id));
    if (old) sigs.push(await signWebhook(old, id, ts, body));
  }
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
  if (status !== null && status >= 200 && status < 300) {
    await record({ state: "delivered", status, error: null, latencyMs, nextAt: null });
    if (ep.failing_since !== null) await endpointUpdate(env.DB, tenant, ep.id, { failing_since: null }, Date.now()).run();
    return { ok: true, status };
  }
  if (status === 410) {
    await record({ state: "failed", status, error: "410 Gone: the endpoint is disabled", latencyMs, nextAt: null });
    await disable(env, tenant, ep, "the receiver answered 410 Gone");
    return { ok: false, status, disabled: "410" };
  }
  const next = nextAttempt(attemptsBefore + 1, Date.now(), status === 429 || status === 503 ? retryAfter : null);
  await record({ state: next === null ? "failed" : "retrying", status, error: error ?? `the receiver answered ${status}`, latencyMs, nextAt: next });
  const since = ep.failing_since ?? now;
  if (ep.failing_since === null) await endpointUpdate(env.DB, tenant, ep.id, { failing_since: now }, Date.now()).run();
  else if (now - since > DISABLE_AFTER_MS) {
    await disable(env, tenant, ep, "it has failed for five days");
    return { ok: false, status, disabled: "failing" };
  }
  return { ok: false, status };
}

async function disable(env: Env, tenant: string, ep: EndpointRow, why: string): Promise<void> {
  const now = Date.now();
  await env.DB.batch([
    endpointUpdate(env.DB, tenant, ep.id, { state: "disabled", disabled_reason: why }, now),
    // The tenant's admins read it in the audit view (and an integrator in the log).
    appendEvent(env.DB, { tenant, type: "parley.webhook.disabled", subject: `webhook:${ep.id}`, at: now, actor: "system", data: { endpoint: ep.id, url: ep.url, why } }),
  ]);
}
