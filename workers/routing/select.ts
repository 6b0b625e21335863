// Picking an agent for an interaction at a strategy target. Pure; every choice carries its reasons.
import type { Media } from "../config/schema.ts";
import { canTake, occupancy, type AgentSnapshot } from "./agent-state.ts";
import { matches, primarySkill, type SkillExpr } from "./skills.ts";

export type Pick = "longest_idle" | "least_occupied" | "highest_skill";

export interface RoutableTarget {
  expr: SkillExpr;
  skills: string;
  pick: Pick;
}

export interface Candidate {
  agentId: string;
  idleSince: number;
  occupancy: number;
  level?: number;
}

export interface Choice {
  agentId: string;
  /** Why: the target, how agents were compared, who competed (best first, at most 10). */
  reason: {
    target: number;
    skills: string;
    pick: Pick;
    competing: Candidate[];
    considered: number;
    excluded: number;
    why: string;
  };
}

export function eligible(s: AgentSnapshot, media: Media, target: RoutableTarget): boolean {
  return canTake(s, media) && matches(target.expr, s.skills);
}

/** The order agents are offered work in at a target: a total order (the agent id breaks ties). */
export function compareCandidates(pick: Pick, a: Candidate, b: Candidate): number {
  if (pick === "least_occupied" && a.occupancy !== b.occupancy) return a.occupancy - b.occupancy;
  if (pick === "highest_skill" && (a.level ?? 0) !== (b.level ?? 0)) return (b.level ?? 0) - (a.level ?? 0);
  // Longest idle means free of work: an agent already working (on a multi-capacity media) ranks after
  // every idle one, so work spreads over idle agents before anyone doubles up.
  if (pick === "longest_idle" && a.occupancy === 0 !== (b.occupancy === 0)) return a.occupancy === 0 ? -1 : 1;
  if (a.idleSince !== b.idleSince) return a.idleSince - b.idleSince;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}

/** Sorts the agents who can take this media at this target, best first. */
export function rankAgents(
  agents: Iterable<AgentSnapshot>,
  media: Media,
  target: RoutableTarget,
  exclude: ReadonlySet<string> = new Set(),
): { ranked: Candidate[]; considered: number; excluded: number } {
  const skill = primarySkill(target.expr);
  const ranked: Candidate[] = [];
  let considered = 0;
  let excluded = 0;
  for (const s of agents) {
    considered++;
    if (!eligible(s, media, target)) continue;
    if (exclude.has(s.agentId)) {
      excluded++;
      continue;
    }
    ranked.push({ agentId: s.agentId, idleSince: s.idleSince, occupancy: occupancy(s), level: skill ? (s.skills[skill] ?? 0) : undefined });
  }
  ranked.sort((a, b) => compareCandidates(target.pick, a, b));
  return { ranked, considered, excluded };
}

/** `complete` false: `ranked` is the best few of more matching agents (AgentIndex stops walking there). */
export function explain(targetIndex: number, target: RoutableTarget, ranked: Candidate[], chosen: Candidate, now: number, considered: number, excluded: number, complete = true): Choice {
  const among = `among ${ranked.length}${complete ? "" : "+"} matching '${target.skills}'`;
  const why =
    target.pick === "least_occupied"
      ? `least occupied (${Math.round(chosen.occupancy * 100)}% busy) ${among}`
      : target.pick === "highest_skill"
        ? `highest skill (level ${chosen.level ?? 0}) ${among}`
        : `longest idle (${Math.round((now - chosen.idleSince) / 1000)} s) ${among}`;
  return {
    agentId: chosen.agentId,
    reason: { target: targetIndex, skills: target.skills, pick: target.pick, competing: ranked.slice(0, 10), considered, excluded, why },
  };
}
