// Web callbacks inside workerd: held scheduled until the window opens, offered when due, outcomes
// with a reschedule, the customer's view and cancel, and refusals that store nothing.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { queueStub } from "../../durable-objects/names.ts";
import { tenv, makeTenant, me, offerFor, post, ready, stateIs, type AgentSpec, type Tenant } from "../helpers.ts";

const SHOP = "https://shop.example.com";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (msFromNow: number) => new Date(Date.now() + msFromNow).toISOString();
const HOUR = 3_600_000;

const tenant = (opts: { callbacks?: boolean; max?: number } = {}) =>
  makeTenant(
    [{ id: "a", skills: { callback: 5 }, capacity: { callback: 1 } as unknown as AgentSpec["capacity"] }, { id: "b", skills: {}, capacity: { callback: 1 } as unknown as AgentSpec["capacity"] }],
    [{ name: "callbacks", media: ["callback"], steps: [{ type: "route", targets: [{ skills: "callback >= 1" }] }] }],
    { skills: ["callback"], ...(opts.callbacks === false ? {} : { callbacks: { workflow: "main", allowedOrigins: [SHOP], maxDaysAhead: 7, rateLimit: { max: opts.max ?? 100, perSeconds: 600 } } }) },
  );

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(`http://parley.test${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { "CF-Connecting-IP": "203.0.113.9", ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
  }));
interface Created { interactionId: string; token: string; state: string; scheduledFor: string; duplicate: boolean }
const request = async (t: Tenant, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
  const res = await call("POST", "/api/v1/callbacks", { tenant: t.id, phone: "+1 415 555 0100", name: "Kim Lee", topic: "Billing", windowStart: at(HOUR), windowEnd: at(2 * HOUR), ...extra }, headers);
  return { status: res.status, body: (await res.json()) as Created & { error: { code: string; message: string } }, res };
};
const view = (t: Tenant, id: string, token: string) => call("GET", `/api/v1/callbacks/${id}?tenant=${t.id}&token=${encodeURIComponent(token)}`);
const cancel = (t: Tenant, id: string, token: string) => call("POST", `/api/v1/callbacks/${id}/cancel`, { tenant: t.id, token });
const outcome = (t: Tenant, agent: string, id: string, body: unknown) => t.api(`/api/v1/interactions/${id}/callback-outcome`, { method: "POST", as: agent, json: body });
const queued = async (t: Tenant) => (await queueStub(await tenv(t.id), t.id, "callbacks").list()).map((i) => ({ id: i.id, state: i.state }));
const count = async (t: Tenant) => (await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>())!.n;
const row = (t: Tenant, id: string) => env.SHARD_1.prepare("SELECT * FROM callbacks WHERE tenant_id = ? AND interaction_id = ?").bind(t.id, id).first<Record<string, unknown>>();
const errorOf = async (res: Response) => [res.status, ((await res.json()) as { error: { code: string } }).error.code];

/** Waits past `due`, then runs the queue's alarm (it may have fired already on its own). */
async function whenDue(t: Tenant, due: string) {
  await sleep(Math.max(0, Date.parse(due) - Date.now() + 50));
  await runDurableObjectAlarm(queueStub(await tenv(t.id), t.id, "callbacks"));
}

describe("web callbacks", () => {
  it("holds a callback scheduled until its window, offers it when due, reschedules on no answer, finishes when reached", async () => {
    const t = await tenant();
    await ready(t, "a");
    // Due in 2.5 s: time enough to look at it while it waits.
    const r = await request(t, { windowStart: at(2500), windowEnd: at(HOUR) }, { Origin: SHOP });
    expect(r.status).toBe(202);
    expect(r.res.headers.get("Access-Control-Allow-Origin")).toBe(SHOP);
    expect(r.body).toMatchObject({ state: "scheduled", duplicate: false, token: expect.stringMatching(/^[\w-]{43}$/) });
    const id = r.body.interactionId;
    const i = await stateIs(t, id, "scheduled");
    expect(i).toMatchObject({ media: "callback", channel: "web", subject: "Callback: Billing", queue: "callbacks" });
    expect(await queued(t)).toEqual([{ id, state: "scheduled" }]);
    expect((await me(t, "a")).offers).toEqual([]);
    const stored = await row(t, id);
    expect(stored).toMatchObject({ phone: "+14155550100", name: "Kim Lee", topic: "Billing", attempts: 0, outcome: null });
    expect(stored!.token_hash).not.toBe(r.body.token);
    expect(await (await view(t, id, r.body.token)).json()).toMatchObject({ interactionId: id, state: "scheduled", topic: "Billing", outcome: null, scheduledFor: r.body.scheduledFor });

    await whenDue(t, r.body.scheduledFor);
    await offerFor(t, "a", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "a");
    await stateIs(t, id, "handling");
    expect(await (await view(t, id, r.body.token)).json()).toMatchObject({ state: "in_progress" });
    expect(await errorOf(await cancel(t, id, r.body.token))).toEqual([409, "in_progress"]);
    expect(await errorOf(await outcome(t, "a", id, { outcome: "reached", rescheduleAt: at(HOUR) }))).toEqual([400, "invalid_request"]);
    expect(await errorOf(await outcome(t, "a", id, { outcome: "no_answer", rescheduleAt: at(-1000) }))).toEqual([400, "invalid_request"]);
    expect(await errorOf(await outcome(t, "a", id, { outcome: "no_answer", rescheduleAt: at(8 * 24 * HOUR) }))).toEqual([400, "invalid_request"]);
    expect(await errorOf(await outcome(t, "b", id, { outcome: "busy" }))).toEqual([404, "not_in_hand"]);

    const again = at(2500);
    const res = await outcome(t, "a", id, { outcome: "no_answer", note: "Voicemail, will try later", rescheduleAt: again });
    expect(await res.json()).toMatchObject({ outcome: "no_answer", attempts: 1, state: "scheduled", scheduledFor: again });
    await stateIs(t, id, "scheduled");
    expect(await queued(t)).toEqual([{ id, state: "scheduled" }]);
    expect((await me(t, "a")).work).toEqual([]);
    expect(await (await view(t, id, r.body.token)).json()).toMatchObject({ state: "scheduled", outcome: "no_answer", attempts: 1, scheduledFor: again });

    await whenDue(t, again);
    await offerFor(t, "a", id);
    await post(t, `/api/v1/interactions/${id}/accept`, "a");
    expect(await (await outcome(t, "a", id, { outcome: "reached" })).json()).toMatchObject({ outcome: "reached", attempts: 2, state: "done" });
    const done = await stateIs(t, id, "done");
    expect(done.history.map((e) => e.action)).toEqual(expect.arrayContaining(["created", "scheduled", "due", "offered", "accepted", "callback_outcome", "note", "rescheduled", "done"]));
    expect(done.history.filter((e) => e.action === "callback_outcome").map((e) => e.reason.outcome)).toEqual(["no_answer", "reached"]);
    expect(await row(t, id)).toMatchObject({ attempts: 2, outcome: "reached" });
    const full = await t.call<{ notes: { text: string; author: string }[] }>(`/api/v1/interactions/${id}`, { as: "a" });
    expect(full.notes).toMatchObject([{ text: "Voicemail, will try later", author: "agent:a" }]);
    expect(await (await view(t, id, r.body.token)).json()).toMatchObject({ state: "done", outcome: "reached", attempts: 2 });
    expect(await errorOf(await cancel(t, id, r.body.token))).toEqual([409, "already_closed"]);
  });

  it("routes at once when the window is already open", async () => {
    const t = await tenant();
    await ready(t, "a");
    const r = await request(t, { windowStart: at(-60_000), windowEnd: at(HOUR), topic: undefined });
    expect(r.body.state).toBe("queued");
    await offerFor(t, "a", r.body.interactionId);
    expect(await stateIs(t, r.body.interactionId, "offered")).toMatchObject({ subject: "Callback" });
  });

  it("lets the customer cancel with the token; a wrong token is an unknown callback", async () => {
    const t = await tenant();
    const r = await request(t);
    const id = r.body.interactionId;
    await stateIs(t, id, "scheduled");
    expect(await errorOf(await view(t, id, "wrong"))).toEqual([404, "unknown_callback"]);
    expect(await errorOf(await cancel(t, id, "wrong"))).toEqual([404, "unknown_callback"]);
    expect(await errorOf(await view(t, "i_nothing", r.body.token))).toEqual([404, "unknown_callback"]);
    const other = await tenant();
    expect(await errorOf(await view(other, id, r.body.token))).toEqual([404, "unknown_callback"]);

    expect(await (await cancel(t, id, r.body.token)).json()).toEqual({ interactionId: id, state: "cancelled", outcome: "cancelled" });
    const i = await stateIs(t, id, "stopped");
    expect(i.history.at(-1)).toMatchObject({ action: "stopped", actor: "customer", from: "scheduled", reason: { reason: "cancelled by the customer" } });
    expect(await queued(t)).toEqual([]);
    expect(await (await view(t, id, r.body.token)).json()).toMatchObject({ state: "cancelled", outcome: "cancelled" });
    expect(await errorOf(await cancel(t, id, r.body.token))).toEqual([409, "already_closed"]);
  });

  it("answers a retry with the same idempotencyKey with the same callback and token, and refuses the key with other details", async () => {
    const t = await tenant();
    // A client's retry repeats its request exactly, window included.
    const w = { windowStart: at(HOUR), windowEnd: at(2 * HOUR) };
    const a = await request(t, { idempotencyKey: "req-1", ...w });
    const b = await request(t, { idempotencyKey: "req-1", ...w });
    expect(b.body).toMatchObject({ interactionId: a.body.interactionId, token: a.body.token, duplicate: true, scheduledFor: a.body.scheduledFor });
    expect(await count(t)).toBe(1);
    expect((await view(t, a.body.interactionId, b.body.token)).status).toBe(200);
    // Someone who learns the key cannot get the customer's token by posting other details with it.
    const c = await request(t, { idempotencyKey: "req-1", topic: "Other", ...w });
    expect([c.status, c.body.error?.code]).toEqual([409, "idempotency_key_reused"]);
    expect(JSON.stringify(c.body)).not.toContain(a.body.token);
  });

  it("refuses bad phones and windows, other origins, too many requests and tenants without callbacks, storing nothing", async () => {
    // Six hits: four refused for their content (they count), two accepted.
    const t = await tenant({ max: 6 });
    const refused = async (extra: Record<string, unknown>, code: string, status = 400, headers: Record<string, string> = {}) => {
      const r = await request(t, extra, headers);
      expect([r.status, r.body.error?.code], JSON.stringify(r.body)).toEqual([status, code]);
      return r;
    };
    expect((await refused({ phone: "555-0100" }, "invalid_phone")).body.error.message).toMatch(/^phone: /);
    expect((await refused({ windowEnd: at(HOUR - 1000) }, "invalid_window")).body.error.message).toBe("windowEnd: must be after windowStart");
    await refused({ windowStart: at(-2 * HOUR), windowEnd: at(-HOUR) }, "invalid_window");
    expect((await refused({ windowStart: at(8 * 24 * HOUR), windowEnd: at(9 * 24 * HOUR) }, "invalid_window")).body.error.message).toBe("windowStart: at most 7 days ahead");
    await refused({ windowStart: "tomorrow" }, "invalid_request");
    await refused({}, "origin_not_allowed", 403, { Origin: "https://evil.example" });
    expect(await count(t)).toBe(0);
    await request(t);
    await request(t);
    const limited = await refused({}, "rate_limited", 429);
    expect(Number(limited.res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await count(t)).toBe(2);

    const none = await tenant({ callbacks: false });
    expect((await request(none)).body.error.code).toBe("no_callbacks");
    expect((await request(none, { tenant: "no-such-tenant" })).body.error.code).toBe("no_callbacks");
    expect(await count(none)).toBe(0);
  });

  it("answers preflights for allowed origins", async () => {
    const t = await tenant();
    const pre = await call("OPTIONS", `/api/v1/callbacks?tenant=${t.id}`, undefined, { Origin: SHOP, "Access-Control-Request-Method": "POST" });
    expect([pre.status, pre.headers.get("Access-Control-Allow-Origin"), pre.headers.get("Access-Control-Allow-Methods")]).toEqual([204, SHOP, "POST, OPTIONS"]);
    expect(await errorOf(await call("OPTIONS", `/api/v1/callbacks/x/cancel?tenant=${t.id}`, undefined, { Origin: "https://evil.example" }))).toEqual([403, "origin_not_allowed"]);
    expect((await call("OPTIONS", "/api/v1/callbacks/x", undefined, { Origin: SHOP })).status).toBe(204);
  });
});
