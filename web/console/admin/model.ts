// The admin editor's working copy. Agents, skills and standard responses are edited with forms, so
// they stay objects; every other section is edited as JSON text, kept as typed (a half-written item
// must survive a tab switch), and parsed only when the whole config is assembled for saving.
// Types come from the server's schema (type-only: no zod reaches the bundle).
import type { AgentConfig, Media, Role, StandardResponse, TenantConfig } from "../../../workers/config/schema.ts";

export type { AgentConfig, Media, Role, StandardResponse, TenantConfig };

// Written as records so the compiler notices when the schema gains or loses a medium or a role.
const MEDIA_SET = { email: true, chat: true, sms: true, mms: true, webform: true, callback: true, generic: true } satisfies Record<Media, true>;
export const MEDIA = Object.keys(MEDIA_SET) as Media[];
const ROLE_SET = { agent: true, supervisor: true, admin: true } satisfies Record<Role, true>;
export const ROLES = Object.keys(ROLE_SET) as Role[];

/** Sections edited as a list of JSON items. */
export const LIST_SECTIONS = ["queues", "workflows", "screeningRules", "forms", "numbers", "mailboxes"] as const;
export type ListSection = (typeof LIST_SECTIONS)[number];
/** Sections edited as one JSON object; chat, callbacks and social channels are optional (empty text: none). */
export const OBJECT_SECTIONS = ["settings", "email", "chat", "callbacks", "social"] as const;
export type ObjectSection = (typeof OBJECT_SECTIONS)[number];
const OPTIONAL_OBJECTS: ReadonlySet<ObjectSection> = new Set(["chat", "callbacks", "social"]);
export const isOptionalObject = (s: ObjectSection): boolean => OPTIONAL_OBJECTS.has(s);

export type SectionId = "agents" | "skills" | "standardResponses" | ListSection | ObjectSection;

export const SECTIONS: { id: SectionId; label: string }[] = [
  { id: "agents", label: "Agents" },
  { id: "skills", label: "Skills" },
  { id: "queues", label: "Queues" },
  { id: "workflows", label: "Workflows" },
  { id: "standardResponses", label: "Standard responses" },
  { id: "screeningRules", label: "Screening rules" },
  { id: "forms", label: "Forms" },
  { id: "numbers", label: "Numbers" },
  { id: "mailboxes", label: "Mailboxes" },
  { id: "settings", label: "Settings" },
  { id: "email", label: "Email" },
  { id: "chat", label: "Chat" },
  { id: "callbacks", label: "Callbacks" },
  { id: "social", label: "Channels" },
];
export const sectionLabel = (id: SectionId): string => SECTIONS.find((s) => s.id === id)?.label ?? id;

export interface Draft {
  /** The loaded config: tenant and anything this editor does not know pass through unchanged. */
  base: TenantConfig;
  tenantName: string;
  skills: string[];
  agents: AgentConfig[];
  standardResponses: StandardResponse[];
  lists: Record<ListSection, string[]>;
  objects: Record<ObjectSection, string>;
}

export interface ParseError {
  section: SectionId;
  index: number | null;
  message: string;
}

export const jsonText = (v: unknown): string => (v === undefined ? "" : JSON.stringify(v, null, 2));

export function toDraft(cfg: TenantConfig): Draft {
  const lists = {} as Record<ListSection, string[]>;
  for (const s of LIST_SECTIONS) lists[s] = (cfg[s] as unknown[]).map(jsonText);
  const objects = {} as Record<ObjectSection, string>;
  for (const s of OBJECT_SECTIONS) objects[s] = jsonText(cfg[s]);
  return {
    base: cfg,
    tenantName: cfg.tenant.name,
    skills: [...cfg.skills],
    agents: cfg.agents.map((a) => ({ ...a, skills: { ...a.skills }, capacity: { ...a.capacity } })),
    standardResponses: cfg.standardResponses.map((r) => ({ ...r })),
    lists,
    objects,
  };
}

/** JSON.parse with the browser's message, which names the position. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** The whole config to PUT, and every JSON text that does not parse (which blocks saving). */
export function assemble(d: Draft): { config: Record<string, unknown>; parseErrors: ParseError[] } {
  const parseErrors: ParseError[] = [];
  const config: Record<string, unknown> = {
    ...d.base,
    tenant: { ...d.base.tenant, name: d.tenantName },
    skills: d.skills,
    agents: d.agents,
    standardResponses: d.standardResponses,
  };
  for (const s of LIST_SECTIONS) {
    config[s] = d.lists[s].map((text, index) => {
      const r = parseJson(text);
      if (!r.ok) parseErrors.push({ section: s, index, message: r.message });
      return r.ok ? r.value : null;
    });
  }
  for (const s of OBJECT_SECTIONS) {
    const text = d.objects[s];
    if (text.trim() === "" && isOptionalObject(s)) {
      delete config[s];
      continue;
    }
    const r = parseJson(text);
    if (!r.ok) parseErrors.push({ section: s, index: null, message: r.message });
    config[s] = r.ok ? r.value : null;
  }
  return { config, parseErrors };
}

/** JSON with sorted keys, so reordered keys or reformatted text do not count as a change. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === null || typeof x !== "object" || Array.isArray(x)) return x;
    const o = x as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}

/** A name for a list item from its own text: its name, address or number, else its position. Text
 *  that does not parse yet keeps its name if the key is still readable, so the item keeps its title. */
export function itemName(section: ListSection, text: string, index: number): string {
  const key = section === "mailboxes" ? "address" : section === "numbers" ? "number" : "name";
  const r = parseJson(text);
  if (r.ok && r.value !== null && typeof r.value === "object") {
    const v = (r.value as Record<string, unknown>)[key];
    if (typeof v === "string" && v) return v;
  } else if (!r.ok) {
    const m = new RegExp(`"${key}"\\s*:\\s*"([^"\\\\]+)"`).exec(text);
    if (m?.[1]) return m[1];
  }
  return `#${index + 1}`;
}
