// A queue's agents, kept ready for routing. Pure. rankAgents (select.ts) sorts every hint per decision,
// O(N log N); with thousands of agents in one queue that is most of a decision's cost. Here each order a
// queue routes by (media × pick × the pick's skill) is a list of the agents who can take that media now,
// kept sorted as their reports arrive (binary search and one splice per change), so a decision walks
// from the best agent and stops at the first few who match: its cost follows how many agents it skips,
// not how many there are.
import type { Media } from "../config/schema.ts";
import { canTake, occupancy, type AgentSnapshot } from "./agent-state.ts";
import { compareCandidates, type Candidate, type Pick, type RoutableTarget } from "./select.ts";
import { matches, primarySkill } from "./skills.ts";

interface OrderedList {
  media: Media;
  pick: Pick;
  skill: string | undefined;
  rows: Candidate[];
}

export interface Ranking {
  /** Best first, at most `want`. */
  ranked: Candidate[];
  /** Agents the queue knows. */
  considered: number;
  /** Matching agents skipped because they passed on this item in this cycle (among those walked). */
  excluded: number;
  /** False when the walk stopped at `want`: more may match. */
  complete: boolean;
}

/** Orders a config no longer uses are dropped past this many (rebuilt on next use). */
const MAX_LISTS = 64;

export class AgentIndex {
  private readonly all = new Map<string, AgentSnapshot>();

  private readonly lists = new Map<string, OrderedList>();

  /** How many known agents can take each media now. */
  private readonly free = new Map<Media, number>();

  get size(): number {
    return this.all.size;
  }

  get(agentId: string): AgentSnapshot | undefined {
    return this.all.get(agentId);
  }

  values(): IterableIterator<AgentSnapshot> {
    return this.all.values();
  }

  /** Can any known agent take one of these media now? */
  anyFree(media: readonly Media[]): boolean {
    return media.some((m) => (this.free.get(m) ?? 0) > 0);
  }

  set(s: AgentSnapshot): void {
    const old = this.all.get(s.agentId);
    this.unlist(old);
    this.all.set(s.agentId, s);
    for (const l of this.lists.values()) if (canTake(s, l.media)) insertSorted(l, candidateOf(s, l));
    this.count(s, 1);
  }

  delete(agentId: string): void {
    this.unlist(this.all.get(agentId));
    this.all.delete(agentId);
  }

  /** The agents who can take this media at this target, best first (the order rankAgents gives), at most `want`. */
  rank(media: Media, target: RoutableTarget, exclude: ReadonlySet<string> = new Set(), want = 10): Ranking {
    const skill = primarySkill(target.expr);
    const list = this.list(media, target.pick, target.pick === "highest_skill" ? skill : undefined);
    const ranked: Candidate[] = [];
    let excluded = 0;
    for (const c of list.rows) {
      if (!matches(target.expr, this.all.get(c.agentId)!.skills)) continue;
      if (exclude.has(c.agentId)) {
        excluded++;
        continue;
      }
      if (ranked.length === want) return { ranked: this.withLevels(ranked, skill), considered: this.all.size, excluded, complete: false };
      ranked.push(c);
    }
    return { ranked: this.withLevels(ranked, skill), considered: this.all.size, excluded, complete: true };
  }

  /** Each candidate's level in the target's first skill, as rankAgents reports it. */
  private withLevels(ranked: Candidate[], skill: string | undefined): Candidate[] {
    return ranked.map((c) => ({ ...c, level: skill ? (this.all.get(c.agentId)!.skills[skill] ?? 0) : undefined }));
  }

  private unlist(old: AgentSnapshot | undefined): void {
    if (!old) return;
    for (const l of this.lists.values()) if (canTake(old, l.media)) removeSorted(l, candidateOf(old, l));
    this.count(old, -1);
  }

  private count(s: AgentSnapshot, by: 1 | -1): void {
    for (const m of Object.keys(s.ready) as Media[]) if (canTake(s, m)) this.free.set(m, (this.free.get(m) ?? 0) + by);
  }

  private list(media: Media, pick: Pick, skill: string | undefined): OrderedList {
    const key = `${media}\u0000${pick}\u0000${skill ?? ""}`;
    let l = this.lists.get(key);
    if (!l) {
      if (this.lists.size >= MAX_LISTS) this.lists.clear();
      l = { media, pick, skill, rows: [] };
      for (const s of this.all.values()) if (canTake(s, media)) l.rows.push(candidateOf(s, l));
      const order = l;
      l.rows.sort((a, b) => compareCandidates(order.pick, a, b));
      this.lists.set(key, l);
    }
    return l;
  }
}

function candidateOf(s: AgentSnapshot, l: OrderedList): Candidate {
  return { agentId: s.agentId, idleSince: s.idleSince, occupancy: occupancy(s), level: l.skill ? (s.skills[l.skill] ?? 0) : undefined };
}

/** First index whose row does not sort before `c`. The order is total (agent id breaks ties), so an equal row is `c`'s own. */
function lowerBound(l: OrderedList, c: Candidate): number {
  let lo = 0;
  let hi = l.rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareCandidates(l.pick, l.rows[mid]!, c) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(l: OrderedList, c: Candidate): void {
  l.rows.splice(lowerBound(l, c), 0, c);
}

function removeSorted(l: OrderedList, c: Candidate): void {
  const i = lowerBound(l, c);
  if (l.rows[i]?.agentId === c.agentId) l.rows.splice(i, 1);
}
