// Configuration Server: a tenant's whole config, validated on load. Errors name the bad field
// (`queues[1].steps[0].targets[0].skills: unknown skill 'spansh'`). Pure: no bindings.
import * as z from "zod";
import { parseSkillExpr, skillsIn, SkillExprError } from "../routing/skills.ts";

export const MEDIA = ["email", "chat", "sms", "mms", "webform", "callback", "generic"] as const;
export const Media = z.enum(MEDIA);
export type Media = z.infer<typeof Media>;

export const ROLES = ["agent", "supervisor", "admin"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "use 1-64 lowercase letters, digits, '-' or '_'");
const Level = z.number().int().min(0).max(10);
const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, "use E.164, like +14155550100");

export const PICKS = ["longest_idle", "least_occupied", "highest_skill"] as const;

export const Target = z.object({
  skills: z.string().max(500).default("*"),
  priority: z.number().int().min(-1000).max(1000).optional(),
  timeoutSeconds: z.number().int().positive().max(7 * 86400).optional(),
  pick: z.enum(PICKS).default("longest_idle"),
});
export type Target = z.infer<typeof Target>;

const AttrValue = z.union([z.string().max(2000), z.number(), z.boolean()]);
export const Attributes = z.record(z.string().min(1).max(64), AttrValue);
export type Attributes = z.infer<typeof Attributes>;

export const Step = z.discriminatedUnion("type", [
  z.object({ type: z.literal("setPriority"), priority: z.number().int().min(-1000).max(1000) }),
  z.object({ type: z.literal("setAttributes"), attributes: Attributes }),
  z.object({ type: z.literal("addCategory"), category: z.string().min(1).max(100) }),
  z.object({ type: z.literal("forward"), queue: Name }),
  z.object({ type: z.literal("stop"), reason: z.string().min(1).max(200) }),
  z.object({ type: z.literal("route"), targets: z.array(Target).min(1).max(20) }),
]);
export type Step = z.infer<typeof Step>;
const TERMINAL = new Set(["forward", "stop", "route"]);

export const Aging = z.object({
  everySeconds: z.number().int().positive().default(60),
  step: z.number().int().min(0).max(100).default(1),
  max: z.number().int().min(0).max(1000).default(10),
});

export const QueueConfig = z.object({
  name: Name,
  description: z.string().max(500).optional(),
  media: z.array(Media).min(1),
  serviceLevelSeconds: z.number().int().positive().default(60),
  aging: Aging.default({ everySeconds: 60, step: 1, max: 10 }),
  steps: z.array(Step).max(50).default([]),
});
export type QueueConfig = z.infer<typeof QueueConfig>;

export const AgentConfig = z.object({
  id: Name,
  login: z.string().min(1).max(100),
  fullName: z.string().min(1).max(200),
  role: Role.default("agent"),
  /** Plain password: accepted on load or replace, hashed into credentials, never stored in config. */
  password: z.string().min(8).max(200).optional(),
  skills: z.record(Name, Level).default({}),
  capacity: z.partialRecord(Media, z.number().int().min(0).max(100)).default({}),
  maxTotal: z.number().int().positive().max(500).optional(),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

export const TenantConfig = z.object({
  tenant: z.object({ id: Name, name: z.string().min(1).max(200) }),
  settings: z
    .object({
      offerTimeoutSeconds: z.number().int().min(5).max(600).default(30),
      tokenTtlSeconds: z.number().int().min(60).max(7 * 86400).default(8 * 3600),
      afterWorkSeconds: z.number().int().min(0).max(3600).default(0),
      notReadyReasons: z.array(z.string().min(1).max(50)).default(["break", "lunch", "meeting", "training", "other"]),
    })
    .default({ offerTimeoutSeconds: 30, tokenTtlSeconds: 8 * 3600, afterWorkSeconds: 0, notReadyReasons: ["break", "lunch", "meeting", "training", "other"] }),
  skills: z.array(Name).default([]),
  agents: z.array(AgentConfig).max(10_000),
  queues: z.array(QueueConfig).min(1).max(1000),
  workflows: z.array(z.object({ name: Name, queue: Name, priority: z.number().int().default(0), description: z.string().max(500).optional() })).default([]),
  mailboxes: z.array(z.object({ address: z.email(), workflow: Name })).default([]),
  forms: z
    .array(
      z.object({
        name: Name,
        workflow: Name,
        fields: z.array(z.object({ name: Name, label: z.string().max(200), type: z.enum(["text", "email", "phone", "textarea"]), required: z.boolean().default(false) })).default([]),
      }),
    )
    .default([]),
  numbers: z
    .array(
      z.object({
        number: E164,
        provider: z.enum(["twilio", "generic"]),
        mode: z.enum(["paging", "session"]),
        workflow: Name,
        idleTimeoutSeconds: z.number().int().positive().default(1800),
      }),
    )
    .default([]),
});
export type TenantConfig = z.infer<typeof TenantConfig>;
export type TenantConfigInput = z.input<typeof TenantConfig>;

export class ConfigError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(issues: { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join("; "));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function pathString(path: readonly PropertyKey[]): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || "(root)";
}

/** Validates a config, cross-references included. Throws ConfigError naming each bad field. */
export function parseConfig(input: unknown): TenantConfig {
  const r = TenantConfig.safeParse(input);
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => ({ path: pathString(i.path), message: i.message })));
  const cfg = r.data;
  const issues: { path: string; message: string }[] = [];
  const bad = (path: string, message: string) => issues.push({ path, message });
  const skills = new Set(cfg.skills);

  const dup = <T>(items: T[], key: (t: T) => string, where: string, what: string) => {
    const seen = new Set<string>();
    items.forEach((it, i) => {
      const k = key(it);
      if (seen.has(k)) bad(`${where}[${i}].${what}`, `duplicate ${what} '${k}'`);
      seen.add(k);
    });
  };
  dup(cfg.agents, (a) => a.id, "agents", "id");
  dup(cfg.agents, (a) => a.login.toLowerCase(), "agents", "login");
  dup(cfg.queues, (q) => q.name, "queues", "name");
  dup(cfg.workflows, (w) => w.name, "workflows", "name");

  cfg.agents.forEach((a, i) => {
    for (const s of Object.keys(a.skills)) if (!skills.has(s)) bad(`agents[${i}].skills.${s}`, `unknown skill '${s}' (declare it in skills)`);
  });
  const queues = new Set(cfg.queues.map((q) => q.name));
  cfg.queues.forEach((q, qi) => {
    q.steps.forEach((st, si) => {
      const at = `queues[${qi}].steps[${si}]`;
      if (TERMINAL.has(st.type) && si !== q.steps.length - 1) bad(at, `'${st.type}' must be the last step`);
      if (st.type === "forward") {
        if (!queues.has(st.queue)) bad(`${at}.queue`, `unknown queue '${st.queue}'`);
        else if (st.queue === q.name) bad(`${at}.queue`, "a queue cannot forward to itself");
      }
      if (st.type === "route") {
        st.targets.forEach((t, ti) => {
          try {
            for (const s of skillsIn(parseSkillExpr(t.skills))) if (!skills.has(s)) bad(`${at}.targets[${ti}].skills`, `unknown skill '${s}'`);
          } catch (e) {
            bad(`${at}.targets[${ti}].skills`, e instanceof SkillExprError ? e.message : String(e));
          }
          if (ti < st.targets.length - 1 && t.timeoutSeconds === undefined)
            bad(`${at}.targets[${ti}].timeoutSeconds`, "required on every target but the last (it is when overflow happens)");
        });
      }
    });
  });
  const workflows = new Set(cfg.workflows.map((w) => w.name));
  cfg.workflows.forEach((w, i) => {
    if (!queues.has(w.queue)) bad(`workflows[${i}].queue`, `unknown queue '${w.queue}'`);
  });
  const refs: [string, { workflow: string }[]][] = [["mailboxes", cfg.mailboxes], ["forms", cfg.forms], ["numbers", cfg.numbers]];
  for (const [where, list] of refs)
    list.forEach((x, i) => {
      if (!workflows.has(x.workflow)) bad(`${where}[${i}].workflow`, `unknown workflow '${x.workflow}'`);
    });
  if (issues.length) throw new ConfigError(issues);
  return cfg;
}

/** The config as stored and served: no passwords. */
export function withoutSecrets(cfg: TenantConfig): TenantConfig {
  return { ...cfg, agents: cfg.agents.map(({ password: _p, ...a }) => a) };
}
