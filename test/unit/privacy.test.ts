// The pure parts of data protection: the erasure receipt's signature (canonical, so key order does not
// matter; any change breaks it) and the retention policy's validation with the tenant config.
import { describe, expect, it } from "vitest";
import { TenantConfig } from "../../workers/config/schema.ts";
import { signReceipt, verifyReceipt } from "../../workers/privacy/receipt.ts";
import { baseConfig } from "../helpers.ts";

const body = { erasure: "er_1", tenant: "acme", contact: "c_1", contacts: ["c_1", "c_0"], requestedBy: "agent:adm", startedAt: "2026-12-05T10:00:00.000Z", finishedAt: "2026-12-05T10:00:02.000Z", removed: { contacts: 2, interactions: 7, r2_objects: 3 } };

describe("erasure receipts", () => {
  it("verify as issued, whatever the order of their keys, and not once anything changed or under another secret", async () => {
    const r = await signReceipt("secret-a", body);
    expect(r.signature).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(await verifyReceipt("secret-a", r)).toBe(true);
    const { removed: _, ...rest } = body;
    const reordered = JSON.parse(JSON.stringify({ signature: r.signature, removed: { r2_objects: 3, interactions: 7, contacts: 2 }, kind: r.kind, ...rest })) as typeof r;
    expect(await verifyReceipt("secret-a", reordered)).toBe(true);
    expect(await verifyReceipt("secret-b", r)).toBe(false);
    expect(await verifyReceipt("secret-a", { ...r, removed: { ...r.removed, interactions: 6 } })).toBe(false);
    expect(await verifyReceipt("secret-a", { ...r, contacts: ["c_1"] })).toBe(false);
  });
});

describe("the retention policy", () => {
  it("takes days from 1 to 100 years, anonymises by default, and refuses anything else", () => {
    const cfg = (retention: unknown) => TenantConfig.safeParse({ ...baseConfig("t1", [{ id: "a" }]), retention });
    expect(cfg({ days: 365 }).data?.retention).toEqual({ days: 365, mode: "anonymise" });
    expect(cfg({ days: 30, mode: "erase" }).success).toBe(true);
    for (const bad of [{ days: 0 }, { days: 36_501 }, { days: 1.5 }, { days: 30, mode: "delete" }, { days: 30, extra: 1 }]) expect(cfg(bad).success, JSON.stringify(bad)).toBe(false);
  });
});
