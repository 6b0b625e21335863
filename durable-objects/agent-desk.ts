// The agent desktop's sockets on the Agent object: typed pushes, the token each socket holds
// (checked on every frame and by the alarm), and when the desktop went away.
import { CLOSE_REVOKED, checkHeld, heldOf } from "../workers/auth/revocation.ts";
import type { DeskFrame } from "../workers/protocol/desk.ts";

export class DeskSockets {
  /** When the desktop's last socket closed, while it has not come back (kv 'away'). */
  away: number | null;

  private readonly ctx: DurableObjectState;
  private readonly db: () => Promise<D1Database>;
  private readonly tenant: string;

  constructor(ctx: DurableObjectState, db: () => Promise<D1Database>, tenant: string) {
    this.ctx = ctx;
    this.db = db;
    this.tenant = tenant;
    const row = ctx.storage.sql.exec<{ v: string }>("SELECT v FROM kv WHERE k = 'away'").toArray()[0];
    this.away = row ? Number(row.v) : null;
  }

  push(frame: DeskFrame): void {
    const s = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(s);
      } catch {
        // A socket closing under us; its close handler deals with it.
      }
    }
  }

  open(except?: WebSocket): WebSocket[] {
    return this.ctx.getWebSockets().filter((s) => s !== except && s.readyState === WebSocket.OPEN);
  }

  /** Each open socket's token expiry, for the alarm. */
  expiries(): number[] {
    return this.open().map((ws) => heldOf(ws.deserializeAttachment())?.expiresAt ?? 0);
  }

  /** Notes when the desktop went away (its last socket closed), or that it is back (null). */
  setAway(at: number | null): void {
    if (at === null) this.ctx.storage.sql.exec("DELETE FROM kv WHERE k = 'away'");
    else this.ctx.storage.sql.exec("INSERT OR REPLACE INTO kv (k, v) VALUES ('away', ?)", String(at));
    this.away = at;
  }

  /** Closes the socket if its token has lapsed or been revoked; says whether it did. */
  async dropIfRevoked(ws: WebSocket, now: number): Promise<boolean> {
    const held = heldOf(ws.deserializeAttachment());
    const refused = held ? await checkHeld(await this.db(), this.tenant, held, now) : { code: "invalid_token", message: "this socket has no token; log in again" };
    if (!refused) return false;
    try {
      ws.send(JSON.stringify({ type: "error", error: { code: refused.code, message: refused.message } } satisfies DeskFrame));
      ws.close(CLOSE_REVOKED, refused.message);
    } catch {
      // already closing
    }
    return true;
  }

  /** The alarm's sweep of the open sockets: true when it closed every one (the desktop is gone). */
  async dropRevoked(now: number): Promise<boolean> {
    const open = this.open();
    if (open.length === 0) return false;
    let dropped = 0;
    for (const ws of open) if (await this.dropIfRevoked(ws, now)) dropped++;
    return dropped === open.length;
  }
}
