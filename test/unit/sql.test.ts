// The demo/bench loader's SQL: every statement within D1's 100,000-byte limit, whatever the tenant's size.
import { describe, expect, it } from "vitest";
import { tenantSql } from "../../scripts/sql.ts";
import { baseConfig } from "../helpers.ts";

describe("tenant SQL for wrangler d1 execute", () => {
  it("splits a big config so no statement passes D1's limit, and quotes strings", async () => {
    const agents = Array.from({ length: 1200 }, (_, i) => ({ id: `agent-${i}`, skills: { billing: i % 10 }, capacity: { email: 5 } }));
    const cfg = baseConfig("big", agents);
    (cfg.tenant as { name: string }).name = "O'Brien & Sons";
    const t = await tenantSql(cfg, { ingest: "key", read: "read-key" });
    const lines = t.sql.split("\n");
    for (const line of lines) expect(new TextEncoder().encode(line).length).toBeLessThan(100_000);
    expect(lines.filter((l) => l.startsWith("UPDATE tenants SET config = config ||")).length).toBeGreaterThan(1);
    expect(t.sql).toContain("'O''Brien & Sons'");
    expect(t.configBytes).toBeGreaterThan(100_000);
  });
});
