// A tenant's env scopes its Durable Objects and its bucket to its jurisdiction (workerd itself can't
// show this: it doesn't implement jurisdictions, so this drives scopedEnv with fake namespaces).
import { describe, expect, it } from "vitest";
import { scopedEnv } from "../../workers/tenancy/tenant-env.ts";
import { checkShard, pickShard, shardList } from "../../workers/tenancy/shards.ts";

function fakeNamespace(name: string) {
  const scoped: Record<string, unknown> = {};
  return { name, scoped, jurisdiction: (j: string) => (scoped[j] ??= { name: `${name}@${j}` }) };
}

function fakeEnv(withGlobal = false) {
  const db = (name: string) => ({ name, prepare: () => null });
  const env: Record<string, unknown> = {
    SHARDS: withGlobal ? { SHARD_0: "eu", SHARD_1: "eu", SHARD_2: "global" } : { SHARD_0: "eu", SHARD_1: "eu" },
    SHARD_0: db("shard0"), SHARD_1: db("shard1"), SHARD_2: db("shard2"), CONTROL: db("control"),
    BLOBS: { bucket: "eu" },
  };
  if (withGlobal) env.BLOBS_GLOBAL = { bucket: "global" };
  for (const ns of ["QUEUE", "AGENT", "CHAT", "DASHBOARD", "CLASSIFIER", "EVENT_PUMP"]) env[ns] = fakeNamespace(ns);
  return env as unknown as Env;
}

describe("a tenant's env", () => {
  it("puts an EU tenant's objects in the EU jurisdiction, its bytes in the EU bucket, its rows on its shard", () => {
    const env = fakeEnv();
    const te = scopedEnv(env, { id: "acme", jurisdiction: "eu" }, "SHARD_1");
    for (const ns of ["QUEUE", "AGENT", "CHAT", "DASHBOARD", "CLASSIFIER", "EVENT_PUMP"] as const) expect(te[ns]).toEqual({ name: `${ns}@eu` });
    expect(te.BLOBS).toEqual({ bucket: "eu" });
    expect((te.DB as unknown as { name: string }).name).toBe("shard1");
    expect(te).toMatchObject({ TENANT: "acme", SHARD: "SHARD_1", JURISDICTION: "eu", SUSPENDED: false });
  });

  it("leaves a global tenant's objects unscoped and uses the global bucket", () => {
    const env = fakeEnv(true);
    const te = scopedEnv(env, { id: "g", jurisdiction: "global" }, "SHARD_2");
    expect(te.QUEUE).toBe((env as unknown as { QUEUE: unknown }).QUEUE);
    expect(te.BLOBS).toEqual({ bucket: "global" });
    expect(() => scopedEnv(fakeEnv(false), { id: "g", jurisdiction: "global" }, "SHARD_0")).toThrow(/BLOBS_GLOBAL/);
  });

  it("refuses a shard that isn't configured or is of another jurisdiction, and picks the least used", () => {
    const env = fakeEnv(true);
    expect(shardList(env).map((s) => s.binding)).toEqual(["SHARD_0", "SHARD_1", "SHARD_2"]);
    expect(() => checkShard(env, "SHARD_9", "eu")).toThrow(/no shard 'SHARD_9'/);
    expect(() => checkShard(env, "SHARD_2", "eu")).toThrow(/jurisdiction 'global'/);
    expect(pickShard(env, "eu", new Map([["SHARD_0", 5], ["SHARD_1", 2]])).binding).toBe("SHARD_1");
    expect(() => pickShard(fakeEnv(false), "global", new Map())).toThrow(/no shard/);
    expect(() => scopedEnv(env, { id: "x", jurisdiction: "eu" }, "SHARD_7")).toThrow(/no D1 binding/);
    expect(() => shardList({ SHARDS: { DB: "eu" } } as unknown as Env)).toThrow(/not a shard binding/);
  });
});
