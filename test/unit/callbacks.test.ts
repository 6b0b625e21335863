// Web callbacks' pure parts: the customer's words for a state, and phone numbers read one way everywhere.
import { describe, expect, it } from "vitest";
import { customerState } from "../../workers/callbacks/customer.ts";
import { e164 } from "../../workers/kernel/phone.ts";
import { normalizePhone } from "../../workers/ucs/identifiers.ts";
import type { InteractionRow } from "../../workers/ucs/interactions.ts";

const row = (state: InteractionRow["state"], workbin: string | null = null) => ({ state, workbin }) as InteractionRow;

describe("a callback's state, as the customer reads it", () => {
  it("names each state the way a caller waiting for a call thinks of it", () => {
    expect(customerState(row("scheduled"), null)).toBe("scheduled");
    expect(customerState(row("new"), null)).toBe("waiting");
    expect(customerState(row("queued"), null)).toBe("waiting");
    expect(customerState(row("workbin", "queue:callbacks"), null)).toBe("waiting");
    expect(customerState(row("workbin", "agent:ana"), null)).toBe("in_progress");
    expect(customerState(row("handling"), null)).toBe("in_progress");
    expect(customerState(row("done"), "reached")).toBe("done");
    expect(customerState(row("stopped"), "cancelled")).toBe("cancelled");
    expect(customerState(row("stopped"), null)).toBe("closed");
  });
});

describe("phone numbers", () => {
  it("are E.164 when valid, whatever the formatting, and null otherwise", () => {
    expect(e164("+1 (415) 555-0100")).toBe("+14155550100");
    expect(e164("+44 20 7946 0958")).toBe("+442079460958");
    expect(e164("020 7946 0958", "GB")).toBe("+442079460958");
    for (const bad of ["12345", "", "not a number", "+1 555"]) expect(e164(bad)).toBeNull();
  });
  it("give contacts the same answer, and a named error for a bad one", () => {
    expect(normalizePhone("+1 415 555 0100")).toBe(e164("+1 415 555 0100"));
    expect(() => normalizePhone("12345")).toThrow(/contact\.phone/);
  });
});
