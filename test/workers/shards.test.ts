// Contact history across two D1 shards (issue 18): migrations on every shard, tenants isolated
// across shards, and a tenant moved between shards while its ingest runs, losing and doubling nothing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { uniq, until } from "../helpers.ts";
import { call, platform, provision } from "../platform-helpers.ts";
import { abortMove, moveTenant } from "../../workers/tenancy/move.ts";
import { beginMove } from "../../workers/ucs/directory.ts";
import { sha256Hex } from "../../workers/kernel/ids.ts";
import { dropDirectoryCache } from "../../workers/tenancy/tenant-env.ts";
import { ensureFences, setFence, tenantTables } from "../../workers/ucs/shard-tables.ts";

const count = async (db: D1Database, table: string, tenant: string) => (await db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`).bind(tenant).first<{ n: number }>())!.n;
const ingest = (key: string, externalId: string) => call("/api/v1/interactions", key, { method: "POST", json: { media: "generic", queue: "inbound", externalId, subject: `Order ${externalId}`, text: "hi" } });

describe("migrations", () => {
  it("are applied to every shard, and the control database has its own", async () => {
    const names = async (db: D1Database) => (await db.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>()).results.map((r) => r.name);
    const [a, b, c] = await Promise.all([names(env.SHARD_0), names(env.SHARD_1), names(env.CONTROL)]);
    expect(a).toEqual(b);
    expect(a).toContain("0021_tenant_fences.sql");
    expect(c).toEqual(["0001_directory.sql"]);
    const tables = async (db: D1Database) => (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('interactions', 'tenant_fences', 'tenant_directory')").all<{ name: string }>()).results.map((r) => r.name).sort();
    expect(await tables(env.SHARD_0)).toEqual(["interactions", "tenant_fences"]);
    expect(await tables(env.SHARD_1)).toEqual(["interactions", "tenant_fences"]);
    expect(await tables(env.CONTROL)).toEqual(["tenant_directory"]);
  });
});

describe("isolation across shards", () => {
  it("keeps each tenant's keys, rows and reads on its own shard", async () => {
    const a = await provision({ id: uniq("ia"), name: "A", shard: "SHARD_0", admin: { login: "owner" } });
    const b = await provision({ id: uniq("ib"), name: "B", shard: "SHARD_1", admin: { login: "owner" } });
    const created = (await (await ingest(b.keys.ingest, "b-1")).json()) as { id: string };
    // A's read key can't see B's interaction; B's can.
    expect((await call(`/api/v1/interactions/${created.id}`, a.keys.read)).status).toBe(404);
    expect((await call(`/api/v1/interactions/${created.id}`, b.keys.read)).status).toBe(200);
    expect(await count(env.SHARD_0, "interactions", b.tenant.id)).toBe(0);
  });

  it("grants nothing for a row one shard holds about a tenant the directory places on the other", async () => {
    const a = await provision({ id: uniq("ga"), name: "A", shard: "SHARD_0", admin: { login: "owner" } });
    const b = await provision({ id: uniq("gb"), name: "B", shard: "SHARD_1", admin: { login: "owner" } });
    // A key for tenant B, planted on A's shard (a leftover, a bug, an attacker with one shard's access).
    const planted = `planted-key-${uniq("k")}`;
    await env.SHARD_0.prepare("INSERT INTO tenant_keys (key_hash, tenant_id, kind, created_at) VALUES (?, ?, 'read', ?)").bind(await sha256Hex(planted), b.tenant.id, Date.now()).run().catch(async () => {
      // tenant_keys refers to tenants: plant B's row too, as a copy would.
      await env.SHARD_0.prepare("INSERT INTO tenants (id, name, ingest_key_hash, config, config_version, created_at, updated_at) VALUES (?, 'B', 'x', '{}', 1, 0, 0)").bind(b.tenant.id).run();
      await env.SHARD_0.prepare("INSERT INTO tenant_keys (key_hash, tenant_id, kind, created_at) VALUES (?, ?, 'read', ?)").bind(await sha256Hex(planted), b.tenant.id, Date.now()).run();
    });
    expect((await call("/api/v1/outbox", planted)).status).toBe(401);
    expect((await call("/api/v1/outbox", a.keys.read)).status).toBe(200);
  });
});

describe("moving a tenant between shards", () => {
  it("copies, verifies and switches while ingest runs: every interaction once, on the new shard only", async () => {
    const made = await provision({ id: uniq("mv"), name: "Mover", shard: "SHARD_0", admin: { login: "owner" } });
    const id = made.tenant.id;
    for (let i = 0; i < 20; i++) expect((await ingest(made.keys.ingest, `before-${i}`)).status).toBe(201);
    // Ingest keeps running during the move; a client that is told to retry does, with the same id.
    const sent: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop || i < 30; i++) {
        const ext = `during-${i}`;
        sent.push(ext);
        for (let tries = 0; ; tries++) {
          const res = await ingest(made.keys.ingest, ext);
          if (res.status === 201 || res.status === 200) break;
          expect([503]).toContain(res.status);
          if (tries > 20) throw new Error(`${ext}: still ${res.status}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 30));
    const report = await moveTenant(env, id, "SHARD_1", "test", { settleMs: 0 });
    stop = true;
    await writer;
    expect(report).toMatchObject({ from: "SHARD_0", to: "SHARD_1" });
    expect(report.tables.interactions).toBeGreaterThanOrEqual(20);
    const total = 20 + sent.length;
    expect(await count(env.SHARD_1, "interactions", id)).toBe(total);
    expect(await count(env.SHARD_0, "interactions", id)).toBe(0);
    expect(await count(env.SHARD_0, "interaction_events", id)).toBe(0);
    const distinct = await env.SHARD_1.prepare("SELECT COUNT(DISTINCT external_id) AS n FROM interactions WHERE tenant_id = ?").bind(id).first<{ n: number }>();
    expect(distinct!.n).toBe(total);
    // Every interaction's creation is in its history and in the event log, once.
    await until(async () => (await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interaction_events WHERE tenant_id = ? AND action = 'created'").bind(id).first<{ n: number }>())!.n === total, "every creation in the history");
    const log = await env.SHARD_1.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d FROM event_log WHERE tenant_id = ? AND type = 'parley.interaction.created'").bind(id).first<{ n: number; d: number }>();
    expect(log).toEqual({ n: total, d: total });
    // The directory and the API follow the tenant; the old shard keeps a fence, no rows.
    const view = (await (await platform(`/api/platform/v1/tenants/${id}`)).json()) as { shard: string; moves: { state: string; rows: number }[] };
    expect(view.shard).toBe("SHARD_1");
    expect(view.moves[0]).toMatchObject({ state: "done" });
    expect((await ingest(made.keys.ingest, "after-1")).status).toBe(201);
    expect(await count(env.SHARD_1, "interactions", id)).toBe(total + 1);
    expect(await env.SHARD_0.prepare("SELECT state FROM tenant_fences WHERE tenant_id = ?").bind(id).first()).toEqual({ state: "gone" });
  });

  it("refuses a write a stale isolate sends to the old shard, and moves back and forth", async () => {
    const made = await provision({ id: uniq("mb"), name: "Bouncer", shard: "SHARD_1", admin: { login: "owner" } });
    const id = made.tenant.id;
    expect((await ingest(made.keys.ingest, "x-1")).status).toBe(201);
    await moveTenant(env, id, "SHARD_0", "test", { settleMs: 0 });
    // A writer still pointed at SHARD_1 is refused by the fence, not stored where nobody reads.
    await expect(env.SHARD_1.prepare("INSERT INTO notes (tenant_id, id, interaction_id, author, text, created_at) VALUES (?, 'n1', 'x', 'a', 't', 0)").bind(id).run()).rejects.toThrow(/parley_tenant_fenced/);
    await moveTenant(env, id, "SHARD_1", "test", { settleMs: 0 });
    dropDirectoryCache();
    expect(await count(env.SHARD_1, "interactions", id)).toBe(1);
    expect(await count(env.SHARD_0, "interactions", id)).toBe(0);
    expect((await ingest(made.keys.ingest, "x-2")).status).toBe(201);
    expect(await count(env.SHARD_1, "interactions", id)).toBe(2);
  });

  it("answers a write that meets a fence with 503 and stores nothing; the retry lands", async () => {
    const made = await provision({ id: uniq("mf"), name: "Fenced", shard: "SHARD_0", admin: { login: "owner" } });
    const id = made.tenant.id;
    // As a stale isolate would see it: the directory still says SHARD_0, the shard is frozen.
    await ensureFences(env.SHARD_0, await tenantTables(env.SHARD_0));
    await setFence(env.SHARD_0, id, "frozen");
    const refused = await ingest(made.keys.ingest, "f-1");
    expect(refused.status).toBe(503);
    expect(refused.headers.get("Retry-After")).toBeTruthy();
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("tenant_moving");
    expect(await count(env.SHARD_0, "interactions", id)).toBe(0);
    await setFence(env.SHARD_0, id, null);
    expect((await ingest(made.keys.ingest, "f-1")).status).toBe(201);
    expect(await count(env.SHARD_0, "interactions", id)).toBe(1);
  });

  it("lets an operator abort a move whose request died, and refuses to abort one still running", async () => {
    const made = await provision({ id: uniq("md"), name: "Dead mover", shard: "SHARD_0", admin: { login: "owner" } });
    const id = made.tenant.id;
    expect((await ingest(made.keys.ingest, "d-1")).status).toBe(201);
    // What a mover that died mid-copy leaves: announced, frozen, half a copy on the target.
    const moveId = await beginMove(env.CONTROL, id, "SHARD_0", "SHARD_1", "test", Date.now());
    expect(moveId).not.toBeNull();
    await ensureFences(env.SHARD_0, await tenantTables(env.SHARD_0));
    await setFence(env.SHARD_0, id, "frozen");
    await env.SHARD_1.prepare("INSERT INTO notes (tenant_id, id, interaction_id, author, text, created_at) VALUES (?, 'half', NULL, 'x', 'half a copy', 0)").bind(id).run();
    dropDirectoryCache(id);
    const early = await platform(`/api/platform/v1/tenants/${id}/move/abort`, { method: "POST" });
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe("move_running");
    const r = await abortMove(env, id, "test", Date.now() + 120_000);
    expect(r).toMatchObject({ tenant: id, shard: "SHARD_0" });
    expect(await count(env.SHARD_1, "notes", id)).toBe(0);
    expect((await ingest(made.keys.ingest, "d-2")).status).toBe(201);
    expect(await count(env.SHARD_0, "interactions", id)).toBe(2);
    const view = (await (await platform(`/api/platform/v1/tenants/${id}`)).json()) as { shard: string; movingTo: string | null; moves: { state: string; detail: string }[] };
    expect(view).toMatchObject({ shard: "SHARD_0", movingTo: null });
    expect(view.moves[0]).toMatchObject({ state: "failed", detail: expect.stringContaining("aborted") });
  });

  it("refuses a move to an unknown shard or the same one, through the API", async () => {
    const made = await provision({ id: uniq("mx"), name: "Stay", shard: "SHARD_0", admin: { login: "owner" } });
    const move = async (shard: string) => platform(`/api/platform/v1/tenants/${made.tenant.id}/move`, { method: "POST", json: { shard } });
    expect(((await (await move("SHARD_7")).json()) as { error: { code: string } }).error.code).toBe("unknown_shard");
    expect(((await (await move("SHARD_0")).json()) as { error: { code: string } }).error.code).toBe("same_shard");
  });
});
