// Attacks on access that should have ended: an old token after its login's password, role or
// existence changed; sockets (desktop, dashboard, staff chat) held open past revocation or expiry; a
// token without an expiry; and agents reading each other's drafts.
// Expiry is driven by a fake clock (only Date is faked) and the objects' alarms are run explicitly,
// so nothing here races the wall clock on a loaded machine.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { agentStub, chatStub, dashboardStub } from "../../durable-objects/names.ts";
import { issueToken } from "../../workers/auth/tokens.ts";
import { agentTakes, chatTenant, client, startChat } from "../chat-helpers.ts";
import { mail, mailTenant } from "../email-helpers.ts";
import { tenv, makeTenant, offerFor, post, ready, until, type Tenant } from "../helpers.ts";

const STRONG = "Tr0mbone-Orchard-Velvet-42";

interface Agent {
  id: string;
  role: string;
  password?: string;
}

/** The admin saves the tenant's config with `edit` applied to its agents (as the admin console does). */
async function adminSave(t: Tenant, edit: (agents: Agent[]) => Agent[] | void): Promise<void> {
  const cur = await t.call<{ config: { agents: Agent[] } }>("/api/v1/admin/config", { as: "adm" });
  const agents = edit(cur.config.agents) ?? cur.config.agents;
  await t.call("/api/v1/admin/config", { method: "PUT", as: "adm", json: { ...cur.config, agents } });
}

const people = () => makeTenant([{ id: "ana" }, { id: "ben" }, { id: "sup", role: "supervisor", capacity: {} }, { id: "adm", role: "admin", capacity: {} }]);

/** A WebSocket as the browser holds it: its frames, and whether and how it closed. */
class Sock {
  readonly frames: { type: string; error?: { code: string; message: string } }[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly ws: WebSocket;
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.addEventListener("message", (e) => this.frames.push(JSON.parse(e.data as string) as Sock["frames"][number]));
    ws.addEventListener("close", (e) => {
      this.closed = { code: e.code, reason: e.reason };
    });
    ws.accept();
  }
}

async function openWs(path: string, token: string): Promise<Sock> {
  const res = await exports.default.fetch(new Request(`http://parley.test${path}?token=${encodeURIComponent(token)}`, { headers: { Upgrade: "websocket" } }));
  expect(res.status).toBe(101);
  return new Sock(res.webSocket!);
}

/** Waits for `pred` by counting turns, not reading the clock (the clock may be faked). */
async function settle(pred: () => unknown, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const closedBy = (s: Sock, what: string) => settle(() => s.closed, what);

/** Moves the clock past a token's expiry (Date only: timers and I/O stay real). */
function lapse(ms: number): void {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("item 7: access is revoked when the login changes", () => {
  it("refuses an old token on REST after its login's password changed", async () => {
    const t = await people();
    expect((await t.api("/api/v1/me", { as: "ana" })).status).toBe(200);
    await adminSave(t, (agents) => {
      agents.find((a) => a.id === "ana")!.password = STRONG;
    });
    const res = await t.api("/api/v1/me", { as: "ana" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "token_revoked" } });
    // Others' tokens are untouched; a fresh login works.
    expect((await t.api("/api/v1/me", { as: "ben" })).status).toBe(200);
    const login = await exports.default.fetch(new Request("http://parley.test/api/v1/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ tenant: t.id, login: "ana", password: STRONG }) }));
    const fresh = ((await login.json()) as { token: string }).token;
    expect((await exports.default.fetch(new Request("http://parley.test/api/v1/me", { headers: { Authorization: `Bearer ${fresh}` } }))).status).toBe(200);
  });

  it("refuses an old token on REST after its login's role changed", async () => {
    const t = await people();
    await adminSave(t, (agents) => {
      agents.find((a) => a.id === "sup")!.role = "agent";
    });
    const res = await t.api("/api/v1/me", { as: "sup" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "token_revoked" } });
  });

  it("refuses an old token after its login was removed, even once a login of the same id is created again", async () => {
    const t = await people();
    let ana: Agent | undefined;
    await adminSave(t, (agents) => {
      ana = agents.find((a) => a.id === "ana");
      return agents.filter((a) => a.id !== "ana");
    });
    expect((await t.api("/api/v1/me", { as: "ana" })).status).toBe(401);
    await adminSave(t, (agents) => [...agents, { ...ana!, password: STRONG }]);
    const res = await t.api("/api/v1/me", { as: "ana" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "token_revoked" } });
  });

  it("refuses a validly signed token that carries no expiry", async () => {
    const t = await people();
    const forever = await new SignJWT({ tid: t.id, role: "agent", ver: 1 })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("ana")
      .setIssuer("parley")
      .setIssuedAt()
      .sign(new TextEncoder().encode(env.AUTH_SECRET));
    const res = await t.api("/api/v1/me", { headers: { Authorization: `Bearer ${forever}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_token" } });
  });

  it("closes the desktop socket when its login is removed or its password changes", async () => {
    const t = await people();
    const ana = await openWs("/api/v1/me/ws", t.tokens.ana!);
    const ben = await openWs("/api/v1/me/ws", t.tokens.ben!);
    await until(async () => ana.frames.find((f) => f.type === "hello") && ben.frames.find((f) => f.type === "hello"), "the hellos");
    await adminSave(t, (agents) => agents.filter((a) => a.id !== "ana"));
    await adminSave(t, (agents) => {
      agents.find((a) => a.id === "ben")!.password = STRONG;
    });
    // The objects' periodic check, run now rather than waited for.
    await runDurableObjectAlarm(agentStub(await tenv(t.id), t.id, "ana"));
    await runDurableObjectAlarm(agentStub(await tenv(t.id), t.id, "ben"));
    await closedBy(ana, "ana's socket closed");
    await closedBy(ben, "ben's socket closed");
    expect(ana.closed!.code).toBe(4001);
    expect(ben.closed!.code).toBe(4001);
  });

  it("closes the desktop socket when its token expires: on its next frame, and on the alarm", async () => {
    const t = await people();
    const token = (await issueToken(env.AUTH_SECRET, { tenant: t.id, agentId: "ana", role: "agent" }, 600)).token;
    const byFrame = await openWs("/api/v1/me/ws", token);
    const byAlarm = await openWs("/api/v1/me/ws", token);
    await until(async () => byFrame.frames.find((f) => f.type === "hello") && byAlarm.frames.find((f) => f.type === "hello"), "the hellos");
    lapse(601_000);
    byFrame.ws.send(JSON.stringify({ type: "status" }));
    await closedBy(byFrame, "the socket closed on its frame");
    expect(byFrame.frames.some((f) => f.type === "status")).toBe(false);
    await runDurableObjectAlarm(agentStub(await tenv(t.id), t.id, "ana"));
    await closedBy(byAlarm, "the socket closed at expiry");
    expect(byAlarm.closed!.code).toBe(4001);
    expect(byAlarm.frames.at(-1)).toMatchObject({ type: "error", error: { code: "token_expired" } });
  });

  it("closes the dashboard socket when its supervisor's password changes, and when the token expires", async () => {
    const t = await people();
    const s = await openWs("/api/v1/supervisor/ws", t.tokens.sup!);
    await until(async () => s.frames.find((f) => f.type === "snapshot"), "the snapshot");
    await adminSave(t, (agents) => {
      agents.find((a) => a.id === "sup")!.password = STRONG;
    });
    await runDurableObjectAlarm(dashboardStub(await tenv(t.id), t.id));
    await closedBy(s, "the dashboard socket closed on revocation");
    expect(s.closed!.code).toBe(4001);

    const t2 = await people();
    const token = (await issueToken(env.AUTH_SECRET, { tenant: t2.id, agentId: "sup", role: "supervisor" }, 600)).token;
    const s2 = await openWs("/api/v1/supervisor/ws", token);
    await until(async () => s2.frames.find((f) => f.type === "snapshot"), "the snapshot");
    lapse(601_000);
    await runDurableObjectAlarm(dashboardStub(await tenv(t2.id), t2.id));
    await closedBy(s2, "the dashboard socket closed at expiry");
    expect(s2.closed!.code).toBe(4001);
  });

  it("closes a staff chat socket when its login's password changes", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 3 } }, { id: "adm", role: "admin", capacity: {} }]);
    await ready(t, "ana");
    const c = await startChat(t);
    await agentTakes(t, "ana", c.interactionId, true);
    const staff = await client(c.interactionId, t.tokens.ana!);
    await until(async () => staff.frames.find((f) => f.type === "hello"), "the hello");
    await adminSave(t, (agents) => {
      agents.find((a) => a.id === "ana")!.password = STRONG;
    });
    await runDurableObjectAlarm(chatStub(await tenv(t.id), t.id, c.interactionId));
    await until(async () => staff.closed, "the staff socket closed on revocation");
  });

  it("closes a staff chat socket when its token expires, on the alarm", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 3 } }]);
    await ready(t, "ana");
    const c = await startChat(t);
    await agentTakes(t, "ana", c.interactionId, true);
    const token = (await issueToken(env.AUTH_SECRET, { tenant: t.id, agentId: "ana", role: "agent" }, 600)).token;
    const staff = await client(c.interactionId, token);
    await until(async () => staff.frames.find((f) => f.type === "hello"), "the hello");
    lapse(601_000);
    await runDurableObjectAlarm(chatStub(await tenv(t.id), t.id, c.interactionId));
    await settle(() => staff.closed, "the staff socket closed at expiry");
  });

  it("refuses a staff chat frame sent after the token lapsed, before any alarm", async () => {
    const t = await chatTenant([{ id: "ana", capacity: { chat: 3 } }]);
    await ready(t, "ana");
    const c = await startChat(t);
    await agentTakes(t, "ana", c.interactionId, true);
    const token = (await issueToken(env.AUTH_SECRET, { tenant: t.id, agentId: "ana", role: "agent" }, 600)).token;
    const staff = await client(c.interactionId, token);
    await until(async () => staff.frames.find((f) => f.type === "hello"), "the hello");
    lapse(601_000);
    staff.send({ type: "msg", clientId: "late-1", text: "still here?" });
    await settle(() => staff.closed, "the staff socket closed on its frame");
    vi.useRealTimers();
    const seen = await t.call<{ messages: { clientId: string | null }[] }>(`/api/v1/chat/sessions/${c.interactionId}/messages?after=0`, { as: "ana" });
    expect(seen.messages.map((m) => m.clientId)).not.toContain("late-1");
  });
});

describe("item 10: drafts are their author's", () => {
  it("does not show an agent's draft to another agent through /interactions/{id}, /messages or its attachment; a supervisor sees it", async () => {
    const t = await mailTenant([{ id: "a1", capacity: { email: 5 } }, { id: "a2", capacity: { email: 5 } }, { id: "sup", role: "supervisor", capacity: {} }]);
    await ready(t, "a1");
    const first = await t.receive(mail({ subject: "Secret plans" }));
    await offerFor(t, "a1", first.interactionId);
    await post(t, `/api/v1/interactions/${first.interactionId}/accept`, "a1");
    const d = await t.call<{ id: string; emailId: string }>(`/api/v1/interactions/${first.interactionId}/replies`, { method: "POST", as: "a1", expect: 201, json: { text: "DRAFT-ONLY-WORDS" } });
    const att = await t.call<{ partId: string }>(`/api/v1/replies/${d.id}/attachments?name=plan.pdf`, { method: "POST", as: "a1", headers: { "Content-Type": "application/pdf" }, body: new Uint8Array([37, 80, 68, 70]), expect: 201 });

    // The other agent: /replies?author= refused, and so is every other way in.
    expect((await t.api("/api/v1/replies?author=a1", { as: "a2" })).status).toBe(403);
    expect((await t.api(`/api/v1/interactions/${d.id}`, { as: "a2" })).status).toBe(404);
    const thread = await t.call<{ messages: { id: string; text: string }[] }>(`/api/v1/interactions/${first.interactionId}/messages`, { as: "a2" });
    expect(thread.messages.map((m) => m.id)).not.toContain(d.emailId);
    expect(JSON.stringify(thread)).not.toContain("DRAFT-ONLY-WORDS");
    expect((await t.api(`/api/v1/interactions/${d.id}/messages`, { as: "a2" })).status).toBe(404);
    expect((await t.api(`/api/v1/interactions/${d.id}/parts/${att.partId}/content`, { as: "a2" })).status).toBe(404);

    // Its author and a supervisor see it, as /replies lets them.
    for (const who of ["a1", "sup"]) {
      const mine = await t.call<{ messages: { id: string }[] }>(`/api/v1/interactions/${first.interactionId}/messages`, { as: who });
      expect(mine.messages.map((m) => m.id)).toContain(d.emailId);
      expect((await t.api(`/api/v1/interactions/${d.id}`, { as: who })).status).toBe(200);
      const bytes = await t.api(`/api/v1/interactions/${d.id}/parts/${att.partId}/content`, { as: who });
      expect(bytes.status).toBe(200);
      await bytes.body?.cancel();
    }
    expect((await t.api("/api/v1/replies?author=a1", { as: "sup" })).status).toBe(200);
  });
});
