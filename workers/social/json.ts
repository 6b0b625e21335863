// Reading a provider's JSON without trusting its shape: each reader answers the value or undefined,
// and `Malformed` names the first field that is not what the envelope must have. Pure.
import { badRequest } from "../kernel/errors.ts";

export type Json = Record<string, unknown>;

export const obj = (v: unknown): Json | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
export const arr = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
export const str = (v: unknown, max = 10_000): string | undefined => (typeof v === "string" && v.length <= max ? v : undefined);
/** A provider id: a string of digits (or a number, as Telegram sends them). */
export const idOf = (v: unknown): string | undefined => (typeof v === "string" && /^-?\d{1,30}$/.test(v) ? v : typeof v === "number" && Number.isSafeInteger(v) ? String(v) : undefined);
export const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && /^\d{1,16}(\.\d+)?$/.test(v) ? Number(v) : undefined);

/** The most events one webhook may carry: providers batch, but not thousands. */
export const MAX_EVENTS = 1000;

export function malformed(path: string, what: string): never {
  throw badRequest("malformed_envelope", `${path}: ${what}`);
}

/** Parses the (already authenticated) body; deep nesting or bad UTF-8 is a 400, never a 500. */
export function parseBody(raw: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(raw));
  } catch {
    throw badRequest("invalid_json", "the body is not UTF-8 JSON");
  }
}

/** A map link for a shared location. */
export const mapLink = (lat: number, lon: number) => `https://www.openstreetmap.org/?mlat=${lat.toFixed(6)}&mlon=${lon.toFixed(6)}#map=16/${lat.toFixed(6)}/${lon.toFixed(6)}`;
