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

  // Review follow-up 4: npm start validated the demo config without DEV_OUTBOUND_HOST, and a config
  // naming a secret the loader did not provide loaded fine, to fail at the first webhook.
  const KEY = "5f0e9b3a7c21d48e6a90b1f3c7d25e84a6b9c0d1e2f3a4b5c6d7e8f90a1b2c3d";
  const KEYS = { ingest: "key", read: "read" };
  const withNumber = (secret: string) => ({ ...baseConfig("num", [{ id: "ana", capacity: { sms: 1 } }]), numbers: [{ number: "+14155550100", provider: "twilio", mode: "paging", workflow: "main", secret }] });

  it("refuses, naming the field and the secret, a config whose named secret was not provided", async () => {
    await expect(tenantSql(withNumber("twilio"), KEYS)).rejects.toThrow(/numbers\[0\]\.secret.*'twilio'/);
    await expect(tenantSql(withNumber("twilio"), KEYS, { secrets: { other: "x" }, secretsKey: KEY })).rejects.toThrow(/'twilio'/);
    const ok = await tenantSql(withNumber("twilio"), KEYS, { secrets: { twilio: "x" }, secretsKey: KEY });
    expect(ok.sql).toContain("INSERT INTO tenant_secrets");
  });

  it("validates the http transport's URL against the configured dev host, as wrangler dev will", async () => {
    const cfg = { ...baseConfig("dev", [{ id: "ana", capacity: { email: 1 } }]), email: { transport: { kind: "http", url: "http://mailpit.localhost:8025/send", secret: "mail" } } };
    const sealing = { secrets: { mail: "x" }, secretsKey: KEY };
    await expect(tenantSql(cfg, KEYS, sealing)).rejects.toThrow(/email\.transport\.url/);
    await expect(tenantSql(cfg, KEYS, sealing, { devOutboundHost: "mailpit.localhost:8025" })).resolves.toMatchObject({ tenantId: "dev" });
  });
});
