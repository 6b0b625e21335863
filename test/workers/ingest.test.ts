// Generic ingest: idempotency, contacts, workflow entries and steps.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { interaction, makeTenant, stateIs, submit } from "../helpers.ts";

describe("generic ingest", () => {
  it("creates one interaction for a duplicate externalId, even when the copies race", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const body = { media: "email", queue: "inbound", externalId: "msg-42@example.com", subject: "Refund", text: "Please refund order 1234", contact: { email: "kim@example.com" } };
    const first = await t.api("/api/v1/interactions", { method: "POST", json: body });
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };
    const again = await t.api("/api/v1/interactions", { method: "POST", json: body });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id, duplicate: true });

    const racing = await Promise.all(Array.from({ length: 8 }, () => t.api("/api/v1/interactions", { method: "POST", json: { ...body, externalId: "race-1" } })));
    const ids = await Promise.all(racing.map(async (r) => ((await r.json()) as { id: string }).id));
    expect(new Set(ids).size).toBe(1);
    expect(racing.filter((r) => r.status === 201)).toHaveLength(1);
    const n = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interactions WHERE tenant_id = ?").bind(t.id).first<{ n: number }>();
    expect(n!.n).toBe(2);
    const events = await env.SHARD_1.prepare("SELECT COUNT(*) AS n FROM interaction_events WHERE tenant_id = ? AND action = 'created'").bind(t.id).first<{ n: number }>();
    expect(events!.n).toBe(2);
  });

  it("returns the interaction with state, queue, contact, thread and history", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const id = await submit(t, { subject: "Hi", text: "Body text", contact: { email: "Lee@Example.com", phone: "+1 415 555 0100", name: "Lee Park" }, attributes: { order: "A-1" } });
    const i = await stateIs(t, id, "queued");
    expect(i).toMatchObject({ queue: "inbound", threadId: id, agentId: null });
    const full = await t.call<{ contact: { firstName: string }; parts: { kind: string; content: string }[]; attributes: Record<string, string> }>(`/api/v1/interactions/${id}`);
    expect(full.contact.firstName).toBe("Lee");
    expect(full.parts).toMatchObject([{ kind: "text", content: "Body text" }]);
    expect(full.attributes).toEqual({ order: "A-1" });
  });

  it("identifies the contact by email first, then phone, then name, adding what it learns", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const a = await submit(t, { contact: { email: "ann@example.com", name: "Ann Lee" } });
    const b = await submit(t, { contact: { email: "ANN@example.com", phone: "+44 20 7946 0958" } });
    const c = await submit(t, { contact: { phone: "+442079460958" } });
    const d = await submit(t, { contact: { name: "ann  lee" } });
    const e = await submit(t, { contact: { email: "other@example.com", name: "Ann Lee" } });
    const contacts = await Promise.all([a, b, c, d, e].map(async (id) => (await interaction(t, id)).contactId));
    expect(new Set(contacts.slice(0, 4)).size).toBe(1);
    // The email outranks the name: a different email is a different person, whatever the name.
    expect(contacts[4]).toBe(contacts[0]);
  });

  it("enters through a workflow entry and runs the queue's steps", async () => {
    const t = await makeTenant(
      [{ id: "a" }],
      [
        { name: "entry", media: ["email"], steps: [{ type: "addCategory", category: "triage" }, { type: "setAttributes", attributes: { source: "web" } }, { type: "forward", queue: "work" }] },
        { name: "work", media: ["email"], steps: [{ type: "setPriority", priority: 6 }, { type: "route", targets: [{ skills: "*" }] }] },
        { name: "spam", media: ["email"], steps: [{ type: "stop", reason: "blocked sender" }] },
      ],
      { workflows: [{ name: "web", queue: "entry", priority: 2 }] },
    );
    const r = await t.call<{ id: string; queue: string }>("/api/v1/interactions", { method: "POST", json: { media: "email", workflow: "web" }, expect: 201 });
    expect(r.queue).toBe("work");
    const i = await stateIs(t, r.id, "queued");
    expect(i).toMatchObject({ queue: "work", priority: 6 });
    expect(i.history.map((e) => e.action)).toEqual(["created", "forwarded"]);
    const full = await t.call<{ categories: string[]; attributes: Record<string, string> }>(`/api/v1/interactions/${r.id}`);
    expect(full.categories).toEqual(["triage"]);
    expect(full.attributes).toEqual({ source: "web" });
    const s = await t.call<{ id: string; state: string }>("/api/v1/interactions", { method: "POST", json: { media: "email", queue: "spam" }, expect: 201 });
    expect(s.state).toBe("stopped");
    await stateIs(t, s.id, "stopped");
  });

  it("joins the parent's thread", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const parent = await submit(t, {});
    const child = await submit(t, { parentId: parent });
    expect((await interaction(t, child)).threadId).toBe(parent);
  });
});
