// Human names for spots in the config: "Agents › chloe › skills.french".
import type { Target } from "./issues.ts";
import { itemName, LIST_SECTIONS, sectionLabel, type Draft, type ListSection } from "./model.ts";

const isList = (s: string): s is ListSection => (LIST_SECTIONS as readonly string[]).includes(s);

export function itemLabel(d: Draft, section: Target["section"], index: number): string {
  if (section === "agents") return d.agents[index]?.id || `#${index + 1}`;
  if (section === "standardResponses") return d.standardResponses[index]?.id || `#${index + 1}`;
  if (section === "skills") return d.skills[index] ?? `#${index + 1}`;
  if (isList(section)) return itemName(section, d.lists[section][index] ?? "", index);
  return `#${index + 1}`;
}

export function describe(d: Draft, t: Target): string {
  const parts = [sectionLabel(t.section)];
  if (t.index !== null) parts.push(itemLabel(d, t.section, t.index));
  if (t.field) parts.push(t.field);
  return parts.join(" › ");
}
