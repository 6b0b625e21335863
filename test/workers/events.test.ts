// The event log (issue 16): contiguous per-tenant sequences under concurrent transitions, paging with
// `after`, `limit` and `type`, the live stream resumed from Last-Event-ID, keys scoped to events, and
// the audit entries of configuration changes and logins.
import { env, exports } from "cloudflare:workers";
import { transitionBatch } from "../../workers/ucs/interactions.ts";
import { appendEvent } from "../../workers/ucs/event-log.ts";
import { describe, expect, it } from "vitest";
import { makeTenant, submit, until, type Tenant } from "../helpers.ts";

interface Ev {
  id: string;
  type: string;
  sequence: number;
  subject?: string;
  actor: string;
  data?: Record<string, unknown>;
}

const admins = () => makeTenant([{ id: "adm", role: "admin", capacity: {} }, { id: "sup", role: "supervisor", capacity: {} }, { id: "ana", capacity: { email: 2 } }]);

async function eventsKey(t: Tenant): Promise<string> {
  return (await t.call<{ key: string }>("/api/v1/admin/event-keys", { method: "POST", as: "adm", expect: 201 })).key;
}

const get = (path: string, key: string, headers: Record<string, string> = {}) => exports.default.fetch(new Request(`http://parley.test${path}`, { headers: { Authorization: `Bearer ${key}`, ...headers } }));

async function all(key: string): Promise<Ev[]> {
  const out: Ev[] = [];
  let after = 0;
  for (;;) {
    const r = await (await get(`/api/v1/events?after=${after}&limit=50`, key)).json<{ events: Ev[]; next: number }>();
    out.push(...r.events);
    if (r.events.length < 50) return out;
    after = r.next;
  }
}

describe("the event log", () => {
  it("numbers a tenant's events 1, 2, 3… with no gap or repeat under concurrent transitions", async () => {
    const t = await admins();
    const key = await eventsKey(t);
    await Promise.all(Array.from({ length: 30 }, (_, i) => submit(t, { subject: `concurrent ${i}`, externalId: `c-${i}` })));
    // The queue's own writes reach D1 through its outbox, a moment later.
    const events = await until(async () => {
      const l = await all(key);
      return l.filter((e) => e.type === "parley.interaction.queued").length === 30 ? l : null;
    }, "every queued event");
    const seqs = events.map((e) => e.sequence);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === "parley.interaction.created")).toHaveLength(30);
    expect(events.filter((e) => e.type === "parley.interaction.queued")).toHaveLength(30);
    expect(events[0]).toMatchObject({ id: `${t.id}:1`, sequence: 1 });
    expect(events[0]).toHaveProperty("specversion", "1.0");
  });

  it("pages after a sequence, filters by type, and refuses bad cursors, filters and keys with a clear error", async () => {
    const t = await admins();
    const key = await eventsKey(t);
    for (let i = 0; i < 3; i++) await submit(t, { subject: `one ${i}` });
    const first = await (await get("/api/v1/events?after=0&limit=2", key)).json<{ events: Ev[]; next: number }>();
    expect(first.events.map((e) => e.sequence)).toEqual([1, 2]);
    const rest = await (await get(`/api/v1/events?after=${first.next}&limit=100`, key)).json<{ events: Ev[] }>();
    expect(rest.events[0]!.sequence).toBe(3);
    const created = await (await get("/api/v1/events?type=parley.interaction.created", key)).json<{ events: Ev[] }>();
    expect(created.events.map((e) => e.type)).toEqual(["parley.interaction.created", "parley.interaction.created", "parley.interaction.created"]);
    const family = await (await get("/api/v1/events?type=parley.interaction.*&limit=1000", key)).json<{ events: Ev[] }>();
    expect(family.events.length).toBeGreaterThanOrEqual(6);
    for (const q of ["after=-1", "after=abc", "limit=0", "limit=1001", "type=interaction.created", "type=parley.Interaction"]) {
      const r = await get(`/api/v1/events?${q}`, key);
      expect(r.status, q).toBe(400);
    }
    // The ingest and read keys read no events; nor does another tenant's events key.
    expect((await get("/api/v1/events", t.key)).status).toBe(403);
    expect((await get("/api/v1/events", t.readKey)).status).toBe(403);
    const other = await admins();
    const theirs = await (await get("/api/v1/events", await eventsKey(other))).json<{ events: Ev[] }>();
    expect(theirs.events.every((e) => e.id.startsWith(`${other.id}:`))).toBe(true);
  });

  it("streams the events live over Server-Sent Events and resumes after Last-Event-ID", async () => {
    const t = await admins();
    const key = await eventsKey(t);
    await submit(t, { subject: "before the stream" });
    const read = async (headers: Record<string, string>, want: number): Promise<{ id: number; type: string }[]> => {
      const res = await get("/api/v1/events/stream", key, headers);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = "";
      const got: { id: number; type: string }[] = [];
      while (got.length < want) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          const type = /^event: (.+)$/m.exec(block)?.[1];
          if (id && type) got.push({ id: Number(id), type });
        }
      }
      await reader.cancel();
      return got;
    };
    const live = read({}, 4);
    // Written while the stream is open: it comes through.
    await new Promise((r) => setTimeout(r, 100));
    await submit(t, { subject: "during the stream" });
    const first = await live;
    expect(first.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    const resumed = await read({ "Last-Event-ID": "2" }, 2);
    expect(resumed.map((e) => e.id)).toEqual([3, 4]);
    expect((await get("/api/v1/events/stream", key, { "Last-Event-ID": "x" })).status).toBe(400);
  });

  it("records configuration changes and logins, failed ones too, for the audit view", async () => {
    const t = await admins();
    const cfg = await t.call<{ config: Record<string, unknown> }>("/api/v1/admin/config", { as: "adm" });
    const put = await t.api("/api/v1/admin/config", { method: "PUT", as: "adm", json: { ...cfg.config, skills: ["billing", "tech", "spanish", "vip", "french"] }, headers: { "CF-Connecting-IP": "203.0.113.7" } });
    expect(put.status).toBe(200);
    const login = (password: string) => exports.default.fetch(new Request("http://parley.test/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.9" }, body: JSON.stringify({ tenant: t.id, login: "ana", password }) }));
    expect((await login("not-her-password")).status).toBe(401);
    const audit = await t.call<{ events: Ev[] }>("/api/v1/audit?type=parley.config.*,parley.auth.*", { as: "sup" });
    expect(audit.events.map((e) => e.type)).toEqual(["parley.auth.login_failed", "parley.config.changed"]);
    expect(audit.events[1]).toMatchObject({ actor: "agent:adm", origin: "203.0.113.7", data: { sections: ["skills"] } });
    expect(audit.events[0]).toMatchObject({ actor: "anonymous", origin: "198.51.100.9", subject: "login:ana", data: { login: "ana", known: true } });
    expect(JSON.stringify(audit.events[0])).not.toContain("not-her-password");
    // Agents do not read the audit log; nobody writes it through the API.
    expect((await t.api("/api/v1/audit", { as: "ana" })).status).toBe(403);
    const byActor = await t.call<{ events: Ev[] }>("/api/v1/audit?actor=agent:adm", { as: "adm" });
    expect(byActor.events.every((e) => e.actor === "agent:adm")).toBe(true);
  });

  it("logs contacts made and merged, without their names", async () => {
    const t = await admins();
    const a = await submit(t, { subject: "first", contact: { email: "mira.sol@example.net", name: "Mira Sol" } });
    const b = await submit(t, { subject: "second", contact: { email: "m.sol@example.net", name: "M. Sol" } });
    const ca = (await t.call<{ contactId: string }>(`/api/v1/interactions/${a}`)).contactId;
    const cb = (await t.call<{ contactId: string }>(`/api/v1/interactions/${b}`)).contactId;
    await t.call(`/api/v1/contacts/${ca}/merge`, { method: "POST", as: "ana", json: { from: cb } });
    const audit = await t.call<{ events: Ev[] }>("/api/v1/audit?type=parley.contact.*", { as: "sup" });
    expect(audit.events.map((e) => e.type)).toEqual(["parley.contact.merged", "parley.contact.created", "parley.contact.created"]);
    expect(audit.events[0]).toMatchObject({ subject: ca, actor: "agent:ana", data: { merged: cb } });
    expect(audit.events[2]).toMatchObject({ subject: ca, data: { identifiers: ["email", "name"] } });
    expect(JSON.stringify(audit.events)).not.toMatch(/Mira|mira\.sol/);
  });

  it("logs an agent's state changes: logged in, not ready with a reason, logged out", async () => {
    const t = await admins();
    await t.call("/api/v1/me/login", { method: "POST", as: "ana", json: { ready: true } });
    await t.call("/api/v1/me/ready", { method: "POST", as: "ana", json: { ready: false, reason: "break" } });
    await t.call("/api/v1/me/logout", { method: "POST", as: "ana" });
    const states = await until(async () => {
      const r = await t.call<{ events: Ev[] }>("/api/v1/audit?type=parley.agent.state_changed", { as: "sup" });
      return r.events.length >= 3 ? r.events : null;
    }, "three state changes");
    expect(states.every((e) => e.subject === "agent:ana" && e.actor === "agent:ana")).toBe(true);
    expect(states.map((e) => (e.data as { loggedIn: boolean }).loggedIn)).toEqual([false, true, true]);
    expect(Object.values((states[1]!.data as { reasons: Record<string, string> }).reasons)).toContain("break");
  });

  it("writes an outbox's flush once, however often a crash makes the object replay it", async () => {
    const t = await admins();
    const id = await submit(t, { subject: "replayed" });
    const count = async () => (await env.SHARD_1.prepare("SELECT (SELECT COUNT(*) FROM interaction_events WHERE tenant_id = ?1 AND action = 'replayed') AS h, (SELECT COUNT(*) FROM event_log WHERE tenant_id = ?1 AND type IN ('parley.interaction.replayed', 'parley.test.replayed')) AS l").bind(t.id).first<{ h: number; l: number }>())!;
    const flush = () => env.SHARD_1.batch([
      ...transitionBatch(env.SHARD_1, Array.from({ length: 12 }, (_, i) => ({ tenant: t.id, id, at: Date.now(), actor: "router", action: "replayed", to: "queued" as const, ref: `epoch-1:${i}` }))),
      appendEvent(env.SHARD_1, { tenant: t.id, type: "parley.test.replayed", subject: id, at: Date.now(), actor: "agent:ana", ref: "epoch-1:12" }),
    ]);
    await flush();
    await flush();
    await flush();
    expect(await count()).toEqual({ h: 12, l: 13 });
    const seqs = (await env.SHARD_1.prepare("SELECT seq FROM event_log WHERE tenant_id = ? ORDER BY seq").bind(t.id).all<{ seq: number }>()).results.map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });
});
