// A validated config with its lookups and parsed strategies, built once per config version. Pure.
import type { AgentConfig, Mailbox, Media, QueueConfig, ScreeningRule, StandardResponse, TenantConfig } from "./schema.ts";
import { matches } from "../routing/skills.ts";
import { compileTargets, type CompiledTarget } from "../workflow/steps.ts";

export interface CompiledQueue {
  config: QueueConfig;
  /** The route step's targets, when the queue routes to agents. */
  targets?: CompiledTarget[];
}

export class CompiledConfig {
  readonly queues = new Map<string, CompiledQueue>();
  readonly agents = new Map<string, AgentConfig>();
  readonly agentsByLogin = new Map<string, AgentConfig>();
  readonly workflows: Map<string, TenantConfig["workflows"][number]>;
  /** By address, lowercased. */
  readonly mailboxes: Map<string, Mailbox>;
  readonly responses: Map<string, StandardResponse>;
  readonly rules: Map<string, ScreeningRule>;

  readonly raw: TenantConfig;
  readonly version: number;

  constructor(raw: TenantConfig, version: number) {
    this.raw = raw;
    this.version = version;
    for (const q of raw.queues) {
      const route = q.steps.find((s) => s.type === "route");
      this.queues.set(q.name, { config: q, targets: route?.type === "route" ? compileTargets(route) : undefined });
    }
    for (const a of raw.agents) {
      this.agents.set(a.id, a);
      this.agentsByLogin.set(a.login.toLowerCase(), a);
    }
    this.workflows = new Map(raw.workflows.map((w) => [w.name, w]));
    this.mailboxes = new Map(raw.mailboxes.map((m) => [m.address.toLowerCase(), m]));
    this.responses = new Map(raw.standardResponses.map((r) => [r.id, r]));
    this.rules = new Map(raw.screeningRules.map((r) => [r.name, r]));
  }

  get tenantId(): string {
    return this.raw.tenant.id;
  }

  /** Queues whose work this agent could ever be offered: a media it has capacity for, a target it matches. */
  eligibleQueues(agent: AgentConfig): string[] {
    const out: string[] = [];
    for (const [name, q] of this.queues) {
      if (!q.targets) continue;
      if (!q.config.media.some((m: Media) => (agent.capacity[m] ?? 0) > 0)) continue;
      if (q.targets.some((t) => matches(t.expr, agent.skills))) out.push(name);
    }
    return out;
  }
}
