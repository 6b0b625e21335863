// Where skills are used: agents' levels and the skill expressions of queues' route targets, parsed
// with the server's own parser, so the editor can warn before the server refuses an undeclared one.
import { parseSkillExpr, skillsIn } from "../../../workers/routing/skills.ts";
import type { Target } from "./issues.ts";
import { parseJson, type Draft } from "./model.ts";

export interface SkillRef extends Target {
  skill: string;
  /** "agent ben", "queue support, steps[0].targets[1]" */
  where: string;
}

interface RouteLike {
  name?: unknown;
  steps?: { type?: unknown; targets?: { skills?: unknown }[] }[];
}

export function skillRefs(d: Draft): SkillRef[] {
  const refs: SkillRef[] = [];
  d.agents.forEach((a, index) => {
    for (const skill of Object.keys(a.skills)) refs.push({ skill, section: "agents", index, field: `skills.${skill}`, where: `agent ${a.id}` });
  });
  d.lists.queues.forEach((text, index) => {
    const r = parseJson(text);
    if (!r.ok || r.value === null || typeof r.value !== "object") return;
    const q = r.value as RouteLike;
    if (!Array.isArray(q.steps)) return;
    q.steps.forEach((st, si) => {
      if (st?.type !== "route" || !Array.isArray(st.targets)) return;
      st.targets.forEach((t, ti) => {
        if (typeof t?.skills !== "string") return;
        let names: string[];
        try {
          names = skillsIn(parseSkillExpr(t.skills));
        } catch {
          return; // a malformed expression: the server names it on save
        }
        const field = `steps[${si}].targets[${ti}].skills`;
        for (const skill of new Set(names)) refs.push({ skill, section: "queues", index, field, where: `queue ${String(q.name)}, ${field}` });
      });
    });
  });
  return refs;
}
