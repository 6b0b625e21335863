// The one writer of interaction_events: literal rows, rows copied from the interaction, and guards.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../workers/kernel/ids.ts";
import { AS_IS, eventStatements } from "../../workers/ucs/events.ts";

const db = () => env.DB;
const tenant = () => newId("t");

async function interaction(t: string, id: string) {
  await db()
    .prepare(`INSERT INTO interactions (tenant_id, id, media, channel, direction, thread_id, state, queue, agent_id, priority, categories, attributes, created_at, updated_at)
              VALUES (?, ?, 'email', 'email', 'inbound', ?, 'handling', 'sales', 'ann', 0, '[]', '{}', 1, 1)`)
    .bind(t, id, id)
    .run();
}
const events = (t: string) =>
  db().prepare("SELECT interaction_id, actor, action, from_state, to_state, queue, agent_id, reason FROM interaction_events WHERE tenant_id = ? ORDER BY seq").bind(t).all().then((r) => r.results);

describe("eventStatements", () => {
  it("appends literal events in order, ten to a statement, with the reason as JSON", async () => {
    const t = tenant();
    const rows = Array.from({ length: 23 }, (_, i) => ({ tenant: t, interaction: `i${i}`, at: i, actor: "system", action: `a${i}`, to: "queued", queue: "q", reason: i === 0 ? { why: "first" } : undefined }));
    const st = eventStatements(db(), rows);
    expect(st).toHaveLength(3);
    await db().batch(st);
    const got = await events(t);
    expect(got.map((e) => e.action)).toEqual(rows.map((r) => r.action));
    expect(got[0]).toMatchObject({ from_state: null, to_state: "queued", queue: "q", agent_id: null, reason: '{"why":"first"}' });
    expect(got[1]!.reason).toBeNull();
  });

  it("copies AS_IS fields from the interaction's row and writes nothing for an unknown interaction", async () => {
    const t = tenant();
    await interaction(t, "i1");
    await db().batch(eventStatements(db(), [
      { tenant: t, interaction: "i1", at: 5, actor: "delivery", action: "sms_sent", from: AS_IS, to: AS_IS, queue: AS_IS, agent: AS_IS, reason: { smsId: "s1" } },
      { tenant: t, interaction: "nope", at: 5, actor: "delivery", action: "sms_sent", from: AS_IS, to: AS_IS },
    ]));
    expect(await events(t)).toEqual([{ interaction_id: "i1", actor: "delivery", action: "sms_sent", from_state: "handling", to_state: "handling", queue: "sales", agent_id: "ann", reason: '{"smsId":"s1"}' }]);
  });

  it("writes a guarded event only when the guard holds in the same statement", async () => {
    const t = tenant();
    await interaction(t, "i1");
    const guard = { sql: "NOT EXISTS (SELECT 1 FROM interaction_events WHERE tenant_id = ? AND action = 'once')", params: [t] };
    const once = () => eventStatements(db(), [{ tenant: t, interaction: "i1", at: 1, actor: "x", action: "once", to: "new" }], guard);
    const onceAsIs = () => eventStatements(db(), [{ tenant: t, interaction: "i1", at: 1, actor: "x", action: "once", to: AS_IS }], guard);
    await db().batch(once());
    await db().batch(once());
    await db().batch(onceAsIs());
    expect((await events(t)).map((e) => e.action)).toEqual(["once"]);
  });

  it("guards on changes() after an insert that did nothing", async () => {
    const t = tenant();
    await interaction(t, "i1");
    const dup = db().prepare("INSERT INTO interactions (tenant_id, id, media, channel, direction, thread_id, state, queue, priority, categories, attributes, created_at, updated_at) VALUES (?, 'i1', 'email', 'email', 'inbound', 'i1', 'new', 'q', 0, '[]', '{}', 1, 1) ON CONFLICT DO NOTHING").bind(t);
    await db().batch([dup, ...eventStatements(db(), [{ tenant: t, interaction: "i1", at: 1, actor: "x", action: "created", to: "new" }], { sql: "changes() = 1", params: [] })]);
    expect(await events(t)).toEqual([]);
  });
});
