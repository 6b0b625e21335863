// Attacks on the Content Analyzer's doors: another tenant's models, examples and interactions,
// forged and wrong-kind credentials, and oversized input.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { issueToken } from "../../workers/auth/tokens.ts";
import { makeTenant } from "../helpers.ts";
import { CATEGORY_TREE, importExamples, trainAndActivate } from "../classifier-helpers.ts";

const staff = [{ id: "admin", role: "admin" as const }, { id: "a", capacity: { email: 1 } }];
const tenant = () => makeTenant(staff, undefined, { categories: CATEGORY_TREE });
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe("classifier isolation and credentials", () => {
  it("keeps one tenant's examples, versions and model from another", async () => {
    const a = await tenant();
    const b = await tenant();
    await importExamples(a);
    const v = await trainAndActivate(a);
    // B sees none of A's examples or versions, and has no model to classify with.
    expect((await b.call<{ examples: unknown[] }>("/api/v1/admin/classifier/examples", { as: "admin" })).examples).toEqual([]);
    expect((await b.call<{ versions: unknown[] }>("/api/v1/admin/classifier", { as: "admin" })).versions).toEqual([]);
    expect((await b.api(`/api/v1/admin/classifier/versions/${v}`, { as: "admin" })).status).toBe(404);
    const classify = await b.api("/api/v1/classify", { method: "POST", json: { text: "refund me" } });
    expect(classify.status).toBe(409);
    expect(await code(classify)).toBe("no_active_model");
    // B cannot activate A's version number as its own.
    expect((await b.api("/api/v1/admin/classifier/activate", { method: "POST", as: "admin", json: { version: v } })).status).toBe(409);
    // Nor delete A's examples.
    const one = (await a.call<{ examples: { hash: string; category: string }[] }>("/api/v1/admin/classifier/examples?limit=1", { as: "admin" })).examples[0]!;
    expect((await b.api(`/api/v1/admin/classifier/examples/${one.hash}/${one.category}`, { method: "DELETE", as: "admin" })).status).toBe(404);
    expect((await a.api(`/api/v1/admin/classifier/examples/${one.hash}/${one.category}`, { method: "DELETE", as: "admin" })).status).toBe(204);
    // The weights live under the tenant's own prefix.
    expect((await env.BLOBS.list({ prefix: `classifier/${a.id}/` })).objects.length).toBe(1);
    expect((await env.BLOBS.list({ prefix: `classifier/${b.id}/` })).objects.length).toBe(0);
  });

  it("does not show or change another tenant's interaction classification", async () => {
    const a = await tenant();
    const b = await tenant();
    const id = (await a.call<{ id: string }>("/api/v1/interactions", { method: "POST", json: { media: "email", queue: "inbound", subject: "Refund" } })).id;
    expect((await b.api(`/api/v1/interactions/${id}/classification`, { as: "a" })).status).toBe(404);
    expect((await b.api(`/api/v1/interactions/${id}/categories`, { method: "PUT", as: "admin", json: { categories: ["billing"] } })).status).toBe(404);
    expect((await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM classifier_examples WHERE tenant_id IN (?, ?)").bind(a.id, b.id).first<{ n: number }>())!.n).toBe(0);
  });

  it("refuses forged tokens, the read key, another tenant's key and no credentials", async () => {
    const a = await tenant();
    const b = await tenant();
    const forged = (await issueToken("not-the-secret", { tenant: a.id, agentId: "admin", role: "admin" }, 3600)).token;
    const post = (auth: string) => a.api("/api/v1/classify", { method: "POST", headers: { Authorization: auth }, json: { text: "hi" } });
    expect((await post(`Bearer ${forged}`)).status).toBe(401);
    expect((await post(`Bearer ${a.readKey}`)).status).toBe(403);
    expect((await post("")).status).toBe(401);
    // B's key reaches B's classifier only (which has no model).
    expect(await code(await post(`Bearer ${b.key}`))).toBe("no_active_model");
    const importForged = await a.api("/api/v1/admin/classifier/examples", { method: "POST", headers: { Authorization: `Bearer ${forged}`, "Content-Type": "application/x-ndjson" }, body: '{"text":"x","category":"billing"}' });
    expect(importForged.status).toBe(401);
    expect((await a.api("/api/v1/admin/classifier/train", { method: "POST", headers: { Authorization: `Bearer ${a.key}` } })).status).toBe(401);
  });

  it("refuses oversized and malformed classify requests with a clear 4xx", async () => {
    const a = await tenant();
    const big = await a.api("/api/v1/classify", { method: "POST", json: { text: "x".repeat(20_001) } });
    expect(big.status).toBe(400);
    const huge = await a.api("/api/v1/classify", { method: "POST", headers: { "Content-Type": "application/json" }, body: `{"text":"${"y".repeat(2 << 20)}"}` });
    expect(huge.status).toBe(413);
    const deep = await a.api("/api/v1/classify", { method: "POST", headers: { "Content-Type": "application/json" }, body: `${"[".repeat(5000)}${"]".repeat(5000)}` });
    expect(deep.status).toBe(400);
    const extra = await a.api("/api/v1/classify", { method: "POST", json: { text: "hi", model: 3 } });
    expect(extra.status).toBe(400);
    const thresholds = await a.api("/api/v1/admin/classifier/settings", { method: "PUT", as: "admin", json: { autoPrecision: 2, outOfScopeBelow: 0, autoRespondAt: null, routeAt: null, suggestAt: 0 } });
    expect(thresholds.status).toBe(400);
  });
});
