// Where a server issue belongs. The server names fields as `agents[2].skills.tech` (or, from some
// callers, `agents.2.skills.tech`); the editor needs the section, the item and the field inside it,
// and one DOM id per field so it can switch there and focus it.
import { ApiError } from "../../shared/api.ts";
import { LIST_SECTIONS, OBJECT_SECTIONS, type SectionId } from "./model.ts";

export interface Issue {
  path: string;
  message: string;
}

/** A spot in the editor: a section, an item in it (lists) and a field in that item, `""` for the item itself. */
export interface Target {
  section: SectionId;
  index: number | null;
  field: string;
}

export interface Located extends Issue {
  /** null: the issue names no section (the config as a whole). */
  section: SectionId | null;
  index: number | null;
  field: string;
}

const ITEM_SECTIONS: ReadonlySet<string> = new Set(["agents", "skills", "standardResponses", ...LIST_SECTIONS]);
const ALL_SECTIONS: ReadonlySet<string> = new Set([...ITEM_SECTIONS, ...OBJECT_SECTIONS]);

export function splitPath(path: string): (string | number)[] {
  return (path.match(/[^.[\]]+/g) ?? []).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `["steps", 0, "skills"]` → `steps[0].skills`, the server's own spelling. */
export function joinPath(segs: (string | number)[]): string {
  let s = "";
  for (const p of segs) s += typeof p === "number" ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

export function locate(issue: Issue): Located {
  const segs = splitPath(issue.path === "(root)" ? "" : issue.path);
  const top = segs[0];
  if (top === "tenant") return { ...issue, section: "settings", index: null, field: joinPath(segs) };
  if (typeof top !== "string" || !ALL_SECTIONS.has(top)) return { ...issue, section: null, index: null, field: "" };
  const section = top as SectionId;
  const at = segs[1];
  if (ITEM_SECTIONS.has(top) && typeof at === "number") return { ...issue, section, index: at, field: joinPath(segs.slice(2)) };
  return { ...issue, section, index: null, field: joinPath(segs.slice(1)) };
}

/** The issues of a refused save; a check that fails before the full validation names its field only in the message. */
export function issuesOf(e: unknown): Issue[] {
  if (!(e instanceof ApiError)) return [];
  if (e.issues.length) return e.issues;
  const m = /^([A-Za-z][\w.[\]-]*): (.+)$/s.exec(e.message);
  return m ? [{ path: m[1]!, message: m[2]! }] : [];
}

export const issuesAt = (list: readonly Located[], section: SectionId, index: number | null): Located[] =>
  list.filter((l) => l.section === section && l.index === index);

/** The messages for one field: the issues naming it or anything inside it (`capacity` gets `capacity.email`). */
export function fieldErrors(list: readonly Located[], field: string): string | undefined {
  const hits = list.filter((l) => l.field === field || l.field.startsWith(`${field}.`) || l.field.startsWith(`${field}[`));
  return hits.length ? hits.map((l) => l.message).join("; ") : undefined;
}

export function fieldId(section: SectionId, index: number | null, field: string): string {
  return `adm-${section}-${index ?? "x"}-${field.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** Ids to try when jumping to a target: the field, then each enclosing field, then the item, then the section. */
export function candidateIds(t: Target): string[] {
  const ids: string[] = [];
  const segs = splitPath(t.field);
  for (let n = segs.length; n > 0; n--) ids.push(fieldId(t.section, t.index, joinPath(segs.slice(0, n))));
  ids.push(fieldId(t.section, t.index, ""), "admin-panel");
  return ids;
}
