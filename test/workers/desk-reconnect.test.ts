// Issue 12: an offer is never lost on the agent's desk, whatever the order in which the desktop
// socket's messages and a REST read of the whole state arrive, and across a socket that drops and
// comes back. Real agent sockets in workerd; the desk's own state logic (web/desk/live-state.ts).
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AgentStatus } from "../../web/shared/types.ts";
import type { DeskFrame } from "../../workers/protocol/desk.ts";
import { LiveState } from "../../web/desk/live-state.ts";
import { agentName } from "../../durable-objects/names.ts";
import { makeTenant, me, offerFor, ready, submit, until, type Tenant } from "../helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The desktop's socket: every message in order, each also fed to a desk's state. */
class DeskSocket {
  readonly got: DeskFrame[] = [];
  readonly closed: Promise<void>;
  readonly ws: WebSocket;
  constructor(ws: WebSocket, desk?: LiveState) {
    this.ws = ws;
    ws.addEventListener("message", (e) => {
      const m = JSON.parse(e.data as string) as DeskFrame;
      this.got.push(m);
      desk?.push(m);
    });
    this.closed = new Promise((r) => ws.addEventListener("close", () => r()));
    ws.accept();
  }

  static async open(t: Tenant, agent: string, desk?: LiveState): Promise<DeskSocket> {
    const res = await exports.default.fetch(new Request(`http://parley.test/api/v1/me/ws?token=${t.tokens[agent]}`, { headers: { Upgrade: "websocket" } }));
    expect(res.status).toBe(101);
    return new DeskSocket(res.webSocket!, desk);
  }

  hello(): Promise<AgentStatus> {
    return until(async () => {
      const h = this.got.find((m) => m.type === "hello");
      return h?.type === "hello" ? h.status : null;
    }, "the hello");
  }

  offerOf(id: string): Promise<DeskFrame> {
    return until(async () => this.got.find((m) => m.type === "offer" && m.offer.interactionId === id), `an offer of ${id} pushed`);
  }

  /** Closes from the desktop's side, and gives the object time to handle the close. */
  async drop(): Promise<void> {
    this.ws.close(1001, "network change");
    await Promise.race([this.closed, sleep(1500)]);
    await sleep(300);
  }
}

const offered = (s: AgentStatus | null) => (s?.offers ?? []).map((o) => o.interactionId);

describe("issue 12: an offer is never lost on the desk", () => {
  it("an offer pushed while a read of the whole state (GET /api/v1/me) is in flight stays on the desk", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const desk = new LiveState();
    const sock = await DeskSocket.open(t, "a", desk);
    await sock.hello();
    await ready(t, "a");
    // The desk re-reads the whole state after an action; the server answers before the offer...
    const apply = desk.read();
    const before = await t.call<AgentStatus>("/api/v1/me", { as: "a" });
    expect(before.offers).toEqual([]);
    // ...the offer is made and pushed, and the push overtakes the read's answer (a loaded server or network).
    const id = await submit(t, {});
    await until(async () => offered(desk.status).includes(id), "the offer on the desk");
    apply(before);
    expect(offered(desk.status)).toContain(id);
  });

  it("an offer pending when the desktop socket drops is in the hello of the socket that replaces it", async () => {
    const t = await makeTenant([{ id: "a" }, { id: "b" }]);
    const s1 = await DeskSocket.open(t, "a");
    await s1.hello();
    await ready(t, "a");
    await ready(t, "b"); // someone else the offer could go to, were it returned
    const id = await submit(t, {});
    await s1.offerOf(id);
    await s1.drop();
    const desk = new LiveState();
    const s2 = await DeskSocket.open(t, "a", desk);
    expect(offered(await s2.hello())).toContain(id);
    expect(offered(desk.status)).toContain(id);
    // Back within the grace: when its time comes, the offer stays.
    const stub = env.AGENT.getByName(agentName(t.id, "a"));
    await runDurableObjectAlarm(stub);
    expect((await me(t, "a")).offers.map((o) => o.interactionId)).toEqual([id]);
  });

  it("an offer made while no desktop socket is open is in the hello of the next one", async () => {
    const t = await makeTenant([{ id: "a" }]);
    const s1 = await DeskSocket.open(t, "a");
    await s1.hello();
    await ready(t, "a");
    await s1.drop();
    const id = await submit(t, {});
    await offerFor(t, "a", id);
    const s2 = await DeskSocket.open(t, "a");
    expect(offered(await s2.hello())).toContain(id);
  });
});
