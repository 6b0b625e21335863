// The supervisor's live dashboard: the Dashboard object's WebSocket (snapshot, stats every 2 s,
// history samples every 15 s, nudges after supervisor actions), its access rules and its tenant.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { dashboardStub } from "../../durable-objects/names.ts";
import type { AgentStat, QueueStats } from "../../workers/stats/live.ts";
import type { Sample } from "../../workers/stats/frames.ts";
import { issueToken } from "../../workers/auth/tokens.ts";
import { tenv, makeTenant, submit, until, upgradeRefusal, type Tenant } from "../helpers.ts";

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Frame {
  type: string;
  at?: number;
  queues?: QueueStats[];
  agents?: AgentStat[];
  history?: Sample[];
  sample?: Sample;
  error?: { code: string; message: string };
}

class Socket {
  readonly frames: Frame[] = [];
  closed = false;
  readonly ws: WebSocket;
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      this.frames.push(JSON.parse(e.data as string) as Frame);
    });
    ws.addEventListener("close", () => {
      this.closed = true;
    });
    ws.accept();
  }
  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }
  next(pred: (f: Frame) => boolean, what: string, from = 0, ms?: number): Promise<Frame> {
    return until(async () => this.frames.slice(from).find(pred), what, ms);
  }
}

const open = (path: string) => exports.default.fetch(new Request(`http://parley.test${path}`, { headers: { Upgrade: "websocket" } }));

async function connect(t: Tenant, as = "sup"): Promise<Socket> {
  const res = await open(`/api/v1/supervisor/ws?token=${t.tokens[as]}`);
  expect(res.status).toBe(101);
  return new Socket(res.webSocket!);
}

const waiting = (f: Frame, queue: string) => f.queues?.find((q) => q.queue === queue)?.waiting;

// Nobody ready, so submitted work waits; two queues for moves.
const tenant = (prefix = "") =>
  makeTenant([{ id: `${prefix}ana` }, { id: `${prefix}sup`, role: "supervisor", capacity: {} }], [
    { name: `${prefix}inbound`, media: ["email", "generic"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
    { name: `${prefix}sales`, media: ["email", "generic"], steps: [{ type: "route", targets: [{ skills: "*" }] }] },
  ]);

describe("supervisor dashboard", () => {
  it("opens with a snapshot of queues, agents and history, then pushes stats that show new work waiting", async () => {
    const t = await tenant();
    const s = await connect(t);
    const snap = await s.next((f) => f.type === "snapshot", "the snapshot");
    expect(s.frames[0]!.type).toBe("snapshot");
    expect(snap.queues!.map((q) => q.queue)).toEqual(["inbound", "sales"]);
    expect(snap.queues![0]).toMatchObject({ waiting: 0, offered: 0, entered: 0, serviceLevelPct: null });
    expect(snap.agents!.map((a) => [a.id, a.state])).toEqual([["ana", "logged_out"], ["sup", "logged_out"]]);
    expect(snap.at).toEqual(expect.any(Number));
    expect(snap.history).toEqual([]);
    const from = s.frames.length;
    await submit(t, {});
    const after = await s.next((f) => f.type === "stats" && waiting(f, "inbound") === 1, "a stats frame with one waiting", from);
    expect(after.agents!.map((a) => a.id)).toEqual(["ana", "sup"]);
    expect(after.at!).toBeGreaterThan(snap.at!);
    s.ws.close(1000, "done");
  });

  it("shows a supervisor's move at once, through a nudge, without waiting for the tick", async () => {
    const t = await tenant();
    const id = await submit(t, {});
    const s = await connect(t);
    const snap = await s.next((f) => f.type === "snapshot", "the snapshot");
    expect(waiting(snap, "inbound")).toBe(1);
    // Stop the 2 s loop, so only a nudge can push a frame now.
    const stub = dashboardStub(await tenv(t.id), t.id);
    for (let i = 0; i < 2; i++) {
      await runInDurableObject(stub, (_o, state) => state.storage.deleteAlarm());
      await sleep(150); // a tick that was running has re-armed by now: delete again
    }
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).toBeNull();
    const from = s.frames.length;
    await t.call(`/api/v1/interactions/${id}/move`, { method: "POST", as: "sup", json: { queue: "sales" } });
    const moved = await s.next((f) => f.type === "stats" && waiting(f, "sales") === 1, "the move pushed", from, 2000);
    expect(waiting(moved, "inbound")).toBe(0);
    // nudge() answers how many sockets it reached.
    expect(await stub.nudge()).toBe(1);
    s.ws.close(1000, "done");
    await until(async () => (await stub.nudge()) === 0, "the socket closed");
  });

  it("records a sample every 15 s, pushes it, keeps the last hour and sends it in the snapshot", async () => {
    const t = await tenant();
    await submit(t, {});
    const s = await connect(t);
    await s.next((f) => f.type === "snapshot", "the snapshot");
    const stub = dashboardStub(await tenv(t.id), t.id);
    const now = Date.now();
    // An old sample (two hours) and a recent one (20 minutes); nothing in the last 15 s, so one is due.
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("DELETE FROM samples");
      state.storage.sql.exec("INSERT INTO samples (at, queues) VALUES (?, '{}'), (?, '{}')", now - 2 * HOUR, now - 20 * 60_000);
    });
    const from = s.frames.length;
    await runDurableObjectAlarm(stub);
    const pushed = await s.next((f) => f.type === "sample", "a sample pushed", from);
    expect(pushed.sample!.at).toBeGreaterThanOrEqual(now);
    expect(pushed.sample!.queues).toEqual({
      inbound: { waiting: 1, oldestWaitMs: expect.any(Number), serviceLevelPct: null, avgHandleMs: null },
      sales: { waiting: 0, oldestWaitMs: 0, serviceLevelPct: null, avgHandleMs: null },
    });
    const rows = () => runInDurableObject(stub, (_o, state) => state.storage.sql.exec<{ at: number }>("SELECT at FROM samples ORDER BY at").toArray().map((r) => r.at));
    const kept = await rows();
    expect(kept[0]).toBe(now - 20 * 60_000); // the two-hour-old one is pruned
    expect(kept).toContain(pushed.sample!.at);
    // A supervisor who comes in now gets the hour in the snapshot, oldest first.
    const s2 = await connect(t);
    const snap = await s2.next((f) => f.type === "snapshot", "the second snapshot");
    expect(snap.history!.map((h) => h.at)).toEqual(kept);
    expect(snap.history!.at(-1)).toEqual(pushed.sample);
    s.ws.close(1000, "done");
    s2.ws.close(1000, "done");
  });

  it("goes on sampling without pushes for an hour after the last socket closes, then stops its alarm", async () => {
    const t = await tenant();
    const s = await connect(t);
    await s.next((f) => f.type === "snapshot", "the snapshot");
    const stub = dashboardStub(await tenv(t.id), t.id);
    s.ws.close(1000, "lunch");
    const linger = await until(
      () => runInDurableObject(stub, (_o, state) => state.storage.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'linger_until'").toArray()[0]?.v),
      "the close to be seen",
    );
    expect(Number(linger)).toBeGreaterThan(Date.now() + HOUR - 60_000);
    // No samples yet stored, so the next alarm takes one, with no socket to push it to.
    await runInDurableObject(stub, (_o, state) => state.storage.sql.exec("DELETE FROM samples"));
    await evictDurableObject(stub);
    await runDurableObjectAlarm(stub);
    const count = () => runInDurableObject(stub, (_o, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM samples").one().n);
    expect(await count()).toBe(1);
    const next = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    expect(next).toBeGreaterThan(Date.now() + 10_000); // the next sample, 15 s on, not the 2 s tick
    // The hour is over: the alarm runs once more and stops, taking no sample.
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("UPDATE kv SET v = ? WHERE k = 'linger_until'", String(Date.now() - 2 * HOUR));
      state.storage.sql.exec("UPDATE samples SET at = at - 60000");
    });
    await evictDurableObject(stub);
    await runDurableObjectAlarm(stub);
    expect(await count()).toBe(1);
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).toBeNull();
    // A supervisor coming back starts the loop again.
    const back = await connect(t);
    await back.next((f) => f.type === "snapshot", "the snapshot");
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).not.toBeNull();
    back.ws.close(1000, "done");
  });

  it("answers ping with pong and refresh with stats; a bad frame gets an error and the socket stays open", async () => {
    const t = await tenant();
    const s = await connect(t);
    await s.next((f) => f.type === "snapshot", "the snapshot");
    let from = s.frames.length;
    s.send({ type: "ping" });
    const pong = await s.next((f) => f.type === "pong", "pong", from);
    expect(pong.at).toEqual(expect.any(Number));
    for (const [bad, code] of [["not json", "malformed_frame"], ["[1]", "malformed_frame"], [{ type: "move" }, "unknown_frame"], ["x".repeat(2000), "frame_too_large"]] as const) {
      from = s.frames.length;
      s.send(bad);
      const err = await s.next((f) => f.type === "error", `an error for ${String(bad).slice(0, 20)}`, from);
      expect(err.error).toMatchObject({ code, message: expect.any(String) });
    }
    expect(s.closed).toBe(false);
    from = s.frames.length;
    s.send({ type: "refresh" });
    const fresh = await s.next((f) => f.type === "stats", "stats on refresh", from, 1500);
    expect(fresh.queues!.map((q) => q.queue)).toEqual(["inbound", "sales"]);
    s.send({ type: "ping" });
    await s.next((f) => f.type === "pong", "still answering", from);
    expect(s.closed).toBe(false);
    s.ws.close(1000, "done");
  });

  it("survives stats that cannot be gathered: the loop goes on, refresh says so, and pushes resume", async () => {
    const t = await tenant();
    const s = await connect(t);
    await s.next((f) => f.type === "snapshot", "the snapshot");
    const stub = dashboardStub(await tenv(t.id), t.id);
    const saved = await env.SHARD_1.prepare("SELECT config FROM tenants WHERE id = ?").bind(t.id).first<{ config: string }>();
    // An unreadable config: every gathering fails (once the 2 s config cache notices).
    await env.SHARD_1.prepare("UPDATE tenants SET config = 'not json', config_version = config_version + 1 WHERE id = ?").bind(t.id).run();
    let from = s.frames.length;
    await until(async () => {
      s.send({ type: "refresh" });
      await sleep(100);
      return s.frames.slice(from).find((f) => f.type === "error" && f.error?.code === "stats_unavailable");
    }, "refresh to report the failure");
    await runDurableObjectAlarm(stub); // a failing tick, run now
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).not.toBeNull();
    expect(s.closed).toBe(false);
    await env.SHARD_1.prepare("UPDATE tenants SET config = ?, config_version = config_version + 1 WHERE id = ?").bind(saved!.config, t.id).run();
    from = s.frames.length;
    await s.next((f) => f.type === "stats", "stats again from the loop", from);
    s.ws.close(1000, "done");
  });

  it("drops a socket whose login stops being a supervisor, or whose token lapses, while it is open", async () => {
    const t = await tenant();
    const s = await connect(t);
    await s.next((f) => f.type === "snapshot", "the snapshot");
    // The supervisor is made an agent: the next tick (once the 2 s config cache notices) says so and closes.
    const row = await env.SHARD_1.prepare("SELECT config FROM tenants WHERE id = ?").bind(t.id).first<{ config: string }>();
    const cfg = JSON.parse(row!.config) as { agents: { id: string; role: string }[] };
    cfg.agents.find((a) => a.id === "sup")!.role = "agent";
    await env.SHARD_1.prepare("UPDATE tenants SET config = ?, config_version = config_version + 1 WHERE id = ?").bind(JSON.stringify(cfg), t.id).run();
    const err = await s.next((f) => f.type === "error" && f.error?.code === "unauthorized", "the socket told it is no longer a supervisor's", 0, 10_000);
    expect(err.error!.message).toContain("no longer a supervisor");
    await until(async () => s.closed, "the socket closed");

    // A token that lapses while its socket is open. It is good for 10 minutes, so a slow machine cannot
    // let it lapse before the socket opens; then only Date is moved past its expiry (timers and I/O
    // stay real) and the object's tick is run at once, not waited for.
    const t2 = await tenant();
    const short = (await issueToken(env.AUTH_SECRET, { tenant: t2.id, agentId: "sup", role: "supervisor" }, 600)).token;
    const res = await open(`/api/v1/supervisor/ws?token=${short}`);
    expect(res.status).toBe(101);
    const s2 = new Socket(res.webSocket!);
    await s2.next((f) => f.type === "snapshot", "the snapshot");
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 601_000);
      await runDurableObjectAlarm(dashboardStub(await tenv(t2.id), t2.id));
    } finally {
      vi.useRealTimers();
    }
    const lapsed = await s2.next((f) => f.type === "error" && f.error?.code === "unauthorized", "the lapsed token noticed");
    expect(lapsed.error!.message).toContain("expired");
    await until(async () => s2.closed, "the second socket closed");
  });

  it("lets in supervisors only: no token 401, an agent 403, a plain GET 426; and is in the OpenAPI", async () => {
    const t = await tenant();
    // Refused upgrades come as a socket that sends the error frame and closes with 4000 + the status.
    expect(await upgradeRefusal(await open("/api/v1/supervisor/ws"))).toMatchObject({ status: 401, error: { code: "unauthorized" } });
    expect(await upgradeRefusal(await open(`/api/v1/supervisor/ws?token=${t.tokens.ana}`))).toMatchObject({ status: 403, error: { code: "forbidden" } });
    expect((await upgradeRefusal(await open(`/api/v1/supervisor/ws?token=${t.key}`))).status).toBe(401);
    const plain = await t.api("/api/v1/supervisor/ws", { as: "sup" });
    expect(plain.status).toBe(426);
    expect(await plain.json()).toMatchObject({ error: { code: "upgrade_required" } });
    const doc = (await (await exports.default.fetch(new Request("http://parley.test/api/openapi.json"))).json()) as { paths: Record<string, { get?: { tags?: string[] } }> };
    expect(doc.paths["/api/v1/supervisor/ws"]?.get?.tags).toContain("supervisor");
  });

  it("shows each tenant only its own queues and agents", async () => {
    const a = await tenant();
    const b = await tenant("b");
    const sa = await connect(a);
    const sb = await connect(b, "bsup");
    const [snapA, snapB] = await Promise.all([sa.next((f) => f.type === "snapshot", "A's snapshot"), sb.next((f) => f.type === "snapshot", "B's snapshot")]);
    expect(snapA.queues!.map((q) => q.queue)).toEqual(["inbound", "sales"]);
    expect(snapB.queues!.map((q) => q.queue)).toEqual(["binbound", "bsales"]);
    expect(snapB.agents!.map((x) => x.id)).toEqual(["bana", "bsup"]);
    const fromB = sb.frames.length;
    await submit(a, {});
    await sa.next((f) => f.type === "stats" && waiting(f, "inbound") === 1, "A's work waiting");
    const laterB = await sb.next((f) => f.type === "stats", "B's next stats", fromB);
    for (const f of sb.frames) {
      expect(f.queues?.map((q) => q.queue) ?? ["binbound", "bsales"]).toEqual(["binbound", "bsales"]);
      expect((f.queues ?? []).every((q) => q.waiting === 0)).toBe(true);
    }
    expect(laterB.agents!.map((x) => x.id)).toEqual(["bana", "bsup"]);
    sa.ws.close(1000, "done");
    sb.ws.close(1000, "done");
  });
});
