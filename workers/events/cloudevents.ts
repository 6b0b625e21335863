// A log row as a CloudEvents 1.0 JSON event (https://github.com/cloudevents/spec): `sequence` is the
// tenant's contiguous number, `subject` the interaction, contact, agent or config it is about. Data
// over MAX_INLINE_BYTES is referenced, not embedded: `dataref` is a signed URL to it. Pure.
import type { LogRow } from "../ucs/event-log.ts";

export const MAX_INLINE_BYTES = 16 * 1024;

export interface CloudEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time: string;
  subject?: string;
  sequence: number;
  datacontenttype: "application/json";
  data?: unknown;
  dataref?: string;
  /** Parley's extensions: who did it, and from where (the audit log's columns). */
  actor: string;
  origin?: string;
  erased?: true;
}

/** `dataref` for a row whose data is too big to inline: a signed URL, made by the caller (it holds the key). */
export function toCloudEvent(tenant: string, row: LogRow, origin: string, dataref?: (seq: number) => string): CloudEvent {
  const ev: CloudEvent = {
    specversion: "1.0",
    id: `${tenant}:${row.seq}`,
    source: `${origin}/tenants/${tenant}`,
    type: row.type,
    time: new Date(row.at).toISOString(),
    ...(row.subject ? { subject: row.subject } : {}),
    sequence: row.seq,
    datacontenttype: "application/json",
    actor: row.actor,
    ...(row.origin ? { origin: row.origin } : {}),
  };
  if (row.erased_at !== null) return { ...ev, erased: true };
  if (row.data === null) return ev;
  if (row.data.length > MAX_INLINE_BYTES && dataref) return { ...ev, dataref: dataref(row.seq) };
  return { ...ev, data: JSON.parse(row.data) as unknown };
}

/** A `type` filter: exact names, or a family as "parley.interaction.*". Null when one is malformed. */
export function parseTypes(raw: string | null): string[] | null | undefined {
  if (raw === null || raw === "") return undefined;
  const parts = raw.split(",").map((t) => t.trim());
  if (parts.length > 20 || parts.some((t) => !/^parley(\.[a-z_]{1,40}){1,2}(\.\*)?$|^parley\.\*$/.test(t))) return null;
  return parts.map((t) => (t.endsWith(".*") ? t.slice(0, -1) : t));
}
