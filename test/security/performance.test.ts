// Attacks on what issue 17 added at the door: the X-D1-Bookmark header every API request reads (a
// client controls it fully), and the bench-only endpoints, which must not exist outside bench mode.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { makeTenant } from "../helpers.ts";

describe("X-D1-Bookmark", () => {
  it("a forged, far-future, oversized or hostile bookmark neither fails the request nor reaches D1 unchecked", async () => {
    const t = await makeTenant([{ id: "ana", capacity: { generic: 1 } }]);
    const w = await t.api("/api/v1/interactions", { method: "POST", json: { media: "generic", queue: "inbound", subject: "bm" } });
    const { id } = await w.json<{ id: string }>();
    const hostile = [
      "ffffffffffffffff-ffffffff-ffffffff-ffffffff-ffffffff", // well formed, a position the database never reached
      "00000000-00000000-00000000-00000000", // well formed, from the beginning of time
      `${"0".repeat(16)}${"-abc".repeat(2000)}`, // many groups: over the pattern's limit
      "a".repeat(8000),
      "1-2'; DROP TABLE interactions; --",
      "\u00ff\u00fe-00",
    ];
    for (const given of hostile) {
      for (const init of [{ headers: { "X-D1-Bookmark": given } }, { method: "POST", json: { media: "generic", queue: "inbound", subject: "bm2" }, headers: { "X-D1-Bookmark": given } }]) {
        const r = await t.api(init.method ? "/api/v1/interactions" : `/api/v1/interactions/${id}`, init);
        expect(r.status, `${init.method ?? "GET"} ${given.slice(0, 24)}`).toBeLessThan(500);
        expect(r.status).not.toBe(404);
        const echoed = r.headers.get("X-D1-Bookmark") ?? "";
        expect(echoed.length).toBeLessThan(200);
        expect(echoed).not.toContain("DROP");
      }
    }
    // The history is still there, and whole.
    expect((await t.api(`/api/v1/interactions/${id}`)).status).toBe(200);
  });
});

describe("bench endpoints", () => {
  it("do not exist unless the BENCH var is '1': no D1 trail or object call for anyone, with or without a key", async () => {
    const t = await makeTenant([{ id: "ana" }]);
    for (const path of ["/api/bench/ping?o=0", "/api/bench/d1", "/api/bench/d1?reset=1"]) {
      for (const auth of [undefined, `Bearer ${t.readKey}`, `Bearer ${t.key}`]) {
        const r = await exports.default.fetch(new Request(`http://parley.test${path}`, { headers: auth ? { Authorization: auth } : {} }));
        expect(r.status, `${path} ${auth ?? "anonymous"}`).toBe(404);
        expect(await r.text()).not.toContain("trail");
      }
    }
  });
});
