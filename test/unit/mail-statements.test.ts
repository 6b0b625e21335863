// The mail statements in workers/ucs/mail and the guarded create in ucs/interactions, checked on the
// SQL and values they prepare (a recording stand-in for D1): the conditions that make a send, a
// review or a redelivery safe are in the statements themselves.
import { describe, expect, it } from "vitest";
import { statusUpdate } from "../../workers/ucs/mail/drafts.ts";
import { emailRowGuard } from "../../workers/ucs/mail/emails.ts";
import { refStatement } from "../../workers/ucs/mail/threads.ts";
import { guardedInteractionStatements, type NewInteraction } from "../../workers/ucs/interactions.ts";

type Recorded = { sql: string; values: unknown[] };
const recorder = () =>
  ({
    prepare: (sql: string) => ({ bind: (...values: unknown[]) => ({ sql, values }) }),
  }) as unknown as D1Database;
const rec = (s: D1PreparedStatement) => s as unknown as Recorded;

describe("an email's status moves", () => {
  it("only from the status it expects, with updated_at only when given", () => {
    const claim = rec(statusUpdate(recorder(), "t", "e1", "claimed", { from: "draft", at: 5 }));
    expect(claim.sql).toBe("UPDATE emails SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = ?");
    expect(claim.values).toEqual(["claimed", 5, "t", "e1", "draft"]);
    const back = rec(statusUpdate(recorder(), "t", "e1", "draft", { from: "claimed" }));
    expect(back.sql).toBe("UPDATE emails SET status = ? WHERE tenant_id = ? AND id = ? AND status = ?");
    expect(back.values).toEqual(["draft", "t", "e1", "claimed"]);
    const any = rec(statusUpdate(recorder(), "t", "e1", "claimed"));
    expect(any.sql).toBe("UPDATE emails SET status = ? WHERE tenant_id = ? AND id = ?");
    expect(any.values).toEqual(["claimed", "t", "e1"]);
  });
});

describe("a Message-ID recorded for its thread", () => {
  const r = { tenant: "t", messageId: "<m@x>", threadId: "th", contactId: null, interactionId: "i1", at: 7 };
  it("is a plain insert-or-ignore when sent, and conditional on the message's row when received", () => {
    const sent = rec(refStatement(recorder(), r));
    expect(sent.sql).toMatch(/^INSERT OR IGNORE INTO email_refs .* VALUES \(\?, \?, \?, \?, \?, \?\)$/);
    expect(sent.values).toEqual(["t", "<m@x>", "th", null, "i1", 7]);
    const received = rec(refStatement(recorder(), r, emailRowGuard("t", "e1")));
    expect(received.sql).toMatch(/SELECT \?, \?, \?, \?, \?, \? WHERE EXISTS \(SELECT 1 FROM emails WHERE tenant_id = \? AND id = \?\)$/);
    expect(received.values).toEqual(["t", "<m@x>", "th", null, "i1", 7, "t", "e1"]);
  });
});

describe("a new interaction in the caller's guarded batch", () => {
  const n: NewInteraction = {
    tenant: "t", externalId: "email:<m@x>", media: "email", channel: "email", direction: "inbound", subject: "Hi", threadId: "th", queue: "q", priority: 3,
    categories: ["c"], attributes: { a: "1" }, actor: "email:http", workflow: "wf",
  };
  const guard = emailRowGuard("t", "e1");

  it("writes the row and its created event, each only under the guard", () => {
    const st = guardedInteractionStatements(recorder(), n, { id: "i1", at: 9, guard, reason: { why: "x" } }).map(rec);
    expect(st).toHaveLength(2);
    for (const s of st) {
      expect(s.sql).toContain(guard.sql);
      expect(s.values.slice(-2)).toEqual(["t", "e1"]);
    }
    expect(st[0]!.values).toEqual(["t", "i1", "email:<m@x>", "email", "email", "inbound", "Hi", "th", null, null, "new", "q", 3, '["c"]', '{"a":"1"}', 9, 9, null, "wf", "t", "e1"]);
    expect(st[1]!.sql).toContain("INSERT INTO interaction_events");
    expect(st[1]!.values).toEqual(["t", "i1", 9, "email:http", "created", null, "new", "q", null, '{"why":"x"}', "t", "e1"]);
  });

  it("creates it stopped and done when asked, its 'stopped' event after 'created'", () => {
    const st = guardedInteractionStatements(recorder(), n, { id: "i1", at: 9, guard, stopped: { actor: "workflow", reason: { why: "spam" } } }).map(rec);
    expect(st).toHaveLength(3);
    expect(st[0]!.values[10]).toBe("stopped");
    expect(st[0]!.values[17]).toBe(9);
    expect(st[2]!.values).toEqual(["t", "i1", 9, "workflow", "stopped", "new", "stopped", "q", null, '{"why":"spam"}', "t", "e1"]);
  });
});
