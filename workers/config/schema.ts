// Configuration Server: a tenant's whole config, validated on load. Errors name the bad field
// (`queues[1].steps[0].targets[0].skills: unknown skill 'spansh'`). Pure: no bindings.
import * as z from "zod";
import { parseSkillExpr, skillsIn, SkillExprError } from "../routing/skills.ts";
import { screeningErrors } from "../workflow/screening.ts";
import { templateErrors } from "../workflow/field-codes.ts";
import { MAX_URL_CHARS, outboundUrlProblem } from "../outbound/url-policy.ts";
import { DEFAULT_CUSTOMER_MESSAGE_RATE } from "../chat/limits.ts";
import { SocialSettings, socialProblems } from "./social.ts";
import { isWebOrigin, isWebUrl, WEB_ORIGIN_MESSAGE, WEB_URL_MESSAGE } from "./web-url.ts";

export const MEDIA = ["email", "chat", "sms", "mms", "webform", "callback", "generic"] as const;
export const Media = z.enum(MEDIA);
export type Media = z.infer<typeof Media>;

export const ROLES = ["agent", "supervisor", "admin"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "use 1-64 lowercase letters, digits, '-' or '_'");
const Level = z.number().int().min(0).max(10);
const E164 = z.string().regex(/^\+[1-9]\d{6,14}$/, "use E.164, like +14155550100");
/** The name of one of the tenant's own secrets (PUT /api/v1/admin/secrets/{name}); never a Worker variable. */
export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const SecretName = z.string().regex(SECRET_NAME, "the name of one of this tenant's secrets (PUT /api/v1/admin/secrets/{name}), like 'twilio'");

/** Files in a chat when the tenant says nothing (and in a social conversation of a tenant without website chat). */
export const DEFAULT_CHAT_ATTACHMENTS = { maxBytes: 10 * 1024 * 1024, types: ["image/*", "application/pdf", "text/plain"] } as const;

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
  /** Texts the customer of an SMS interaction from the number it came to (an acknowledgement, opening hours). */
  z.object({ type: z.literal("sendSms"), text: z.string().min(1).max(1600) }),
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

/** Pre-queue steps a workflow entry runs on a new inbound interaction (email, web form) before it
 *  reaches the workflow's queue: screening, then the acknowledgement. */
export const Review = z.object({
  /** The holding queue replies wait in for a reviewer. */
  queue: Name,
  /** Review every reply by these agents, or answering work from these queues. */
  agents: z.array(Name).default([]),
  queues: z.array(Name).default([]),
  /** Review this share of the other replies, at random. */
  samplePercent: z.number().min(0).max(100).default(0),
});
export type Review = z.infer<typeof Review>;

/** One node of the category tree the Content Analyzer classifies into (docs/content-analyzer.md). */
export const Category = z.object({
  id: Name,
  name: z.string().min(1).max(200),
  parent: Name.optional(),
  description: z.string().max(1000).optional(),
});
export type Category = z.infer<typeof Category>;

/** The `classify` step of a workflow entry: the Content Analyzer assigns categories to new work, and
 *  what a category then does. Each rule applies when the category's confidence reaches the routing
 *  threshold; the automatic reply only above the auto-respond one (where tested precision meets the target). */
export const ClassifyStep = z.object({
  /** Send the top category's standard response (the first one filed under it) automatically. */
  autoRespond: z.boolean().default(false),
  rules: z
    .array(z.object({ category: Name, queue: Name.optional(), skills: z.string().min(1).max(500).optional(), priority: z.number().int().min(-1000).max(1000).optional() }))
    .max(500)
    .default([]),
});
export type ClassifyStep = z.infer<typeof ClassifyStep>;

export const Workflow = z.object({
  name: Name,
  queue: Name,
  priority: z.number().int().default(0),
  description: z.string().max(500).optional(),
  /** Screening rules (by name) tried in order on inbound email and forms. */
  screen: z.array(Name).max(100).default([]),
  /** Standard response sent as an automatic acknowledgement (loop-protected). */
  acknowledge: Name.optional(),
  /** QA review of agents' replies to work that entered here. */
  review: Review.optional(),
  /** Content Analyzer: classify new work (email, forms, SMS, a chat's first messages) into the category tree. */
  classify: ClassifyStep.optional(),
});
export type Workflow = z.infer<typeof Workflow>;

export const Mailbox = z.object({
  // Mail to support+anything@ reaches support@, so a mailbox address itself has no +tag.
  address: z.email().refine((a) => !a.split("@")[0]!.includes("+"), "a mailbox address has no +tag (support+x@ already reaches support@)"),
  /** Shown in From on replies. */
  name: z.string().min(1).max(200).optional(),
  workflow: Name,
});
export type Mailbox = z.infer<typeof Mailbox>;

export const Transport = z.discriminatedUnion("kind", [
  /** Local default: kept in D1 and R2, readable at GET /api/v1/outbox, never delivered. */
  z.object({ kind: z.literal("outbox") }),
  /** Cloudflare Email Service through the SEND_EMAIL binding. */
  z.object({ kind: z.literal("send_email") }),
  /** An HTTP provider: POST { from, to[], raw } (raw MIME, base64) to an https URL on a public name
   *  (workers/outbound/url-policy.ts), with the tenant's secret `secret` as a bearer token. */
  z.object({ kind: z.literal("http"), url: z.string().min(1).max(MAX_URL_CHARS), secret: SecretName }),
]);
export type Transport = z.infer<typeof Transport>;

export const EmailSettings = z.object({
  transport: Transport.default({ kind: "outbox" }),
  /** The "autowar" guard: at most this many automatic replies to one sender per period. */
  autoReplyLimit: z.object({ max: z.number().int().min(0).max(100).default(3), perSeconds: z.number().int().positive().max(30 * 86400).default(86400) }).default({ max: 3, perSeconds: 86400 }),
  /** Thread by normalized subject from the same contact within this many days when headers and tag don't match (0: off). */
  threadBySubjectDays: z.number().int().min(0).max(365).default(0),
  /** A reply to finished work waits this long for the agent who handled it before anyone may take it. */
  previousAgentWaitSeconds: z.number().int().min(0).max(86400).default(300),
});
export type EmailSettings = z.infer<typeof EmailSettings>;

export const StandardResponse = z.object({
  id: Name,
  name: z.string().min(1).max(200),
  category: z.string().min(1).max(100).optional(),
  subject: z.string().max(998).optional(),
  /** Text with field codes, e.g. `Hello <$ Contact.FirstName | "there" $>`. */
  text: z.string().min(1).max(100_000),
  html: z.string().max(200_000).optional(),
});
export type StandardResponse = z.infer<typeof StandardResponse>;

export const ScreeningAction = z.discriminatedUnion("type", [
  z.object({ type: z.literal("route"), queue: Name }),
  z.object({ type: z.literal("setPriority"), priority: z.number().int().min(-1000).max(1000) }),
  z.object({ type: z.literal("addCategory"), category: z.string().min(1).max(100) }),
  z.object({ type: z.literal("setAttributes"), attributes: Attributes }),
  z.object({ type: z.literal("spam"), reason: z.string().max(200).default("spam") }),
  z.object({ type: z.literal("autoRespond"), response: Name }),
]);
export type ScreeningAction = z.infer<typeof ScreeningAction>;

export const ScreeningRule = z.object({
  name: Name,
  /** `Find(subject, "refund") && !RegExFind(from, "@example\\.com$")` */
  when: z.string().min(1).max(4000),
  actions: z.array(ScreeningAction).min(1).max(20),
});
export type ScreeningRule = z.infer<typeof ScreeningRule>;

export const FormField = z.object({
  name: Name,
  label: z.string().max(200),
  type: z.enum(["text", "email", "phone", "textarea", "file"]),
  required: z.boolean().default(false),
  maxLength: z.number().int().positive().max(100_000).optional(),
  /** For file fields: accepted MIME types (`image/*` allowed) and the size cap per file. */
  accept: z.array(z.string().regex(/^[a-z0-9.+-]+\/([a-z0-9.+-]+|\*)$/i)).optional(),
  maxBytes: z.number().int().positive().max(25 * 1024 * 1024).optional(),
});

/** A page a browser is sent to, and a page that may call us: see web-url.ts. */
const WebUrl = z.string().max(2000).refine(isWebUrl, WEB_URL_MESSAGE);
const WebOrigin = z.string().max(300).refine(isWebOrigin, WEB_ORIGIN_MESSAGE);

export const Form = z.object({
  name: Name,
  workflow: Name,
  fields: z.array(FormField).max(50).default([]),
  /** Which field holds the subject, if any; else the form's title. */
  title: z.string().max(200).optional(),
  /** Browsers on these origins may post with fetch (CORS); others are refused. Plain HTML posts carry an Origin too. */
  allowedOrigins: z.array(WebOrigin).max(50).default([]),
  /** A field real people never fill (hidden by CSS): a post that fills it is refused. */
  honeypot: Name.default("website"),
  turnstile: z.boolean().default(false),
  rateLimit: z.object({ max: z.number().int().positive().max(10_000), perSeconds: z.number().int().positive().max(86400) }).default({ max: 10, perSeconds: 600 }),
  /** Where a plain HTML form post is sent after success (303). */
  thankYouUrl: WebUrl.optional(),
});
export type Form = z.infer<typeof Form>;

export const Callbacks = z.object({
  workflow: Name,
  allowedOrigins: z.array(WebOrigin).max(50).default([]),
  rateLimit: z.object({ max: z.number().int().positive().max(10_000), perSeconds: z.number().int().positive().max(86400) }).default({ max: 5, perSeconds: 3600 }),
  /** How far ahead a customer may book. */
  maxDaysAhead: z.number().int().min(1).max(90).default(14),
});

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time as HH:MM");
export const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

/** Website chat: who may embed it, what it asks first, what it says while the customer waits, and when it idles out. */
export const ChatSettings = z.object({
  workflow: Name,
  /** Pages on these origins may embed the widget (CORS and the WebSocket Origin check). */
  allowedOrigins: z.array(WebOrigin).max(50).default([]),
  preChatFields: z
    .array(z.object({ name: Name, label: z.string().min(1).max(200), type: z.enum(["text", "email", "phone", "textarea"]), required: z.boolean().default(false) }))
    .max(20)
    .default([{ name: "name", label: "Your name", type: "text", required: true }, { name: "email", label: "Email", type: "email", required: false }]),
  greeting: z.string().max(2000).default("Thanks for reaching out! An agent will be with you shortly."),
  /** Tell the waiting customer their place in the queue and the estimated wait, every so often. */
  positionEverySeconds: z.number().int().min(0).max(3600).default(30),
  idle: z
    .object({
      alertSeconds: z.number().int().min(5).max(86400).default(180),
      closeSeconds: z.number().int().min(5).max(86400).default(120),
      alertText: z.string().max(1000).default("Are you still there? This chat will close soon if we don't hear from you."),
      closeText: z.string().max(1000).default("This chat was closed after a period of inactivity."),
    })
    .default({ alertSeconds: 180, closeSeconds: 120, alertText: "Are you still there? This chat will close soon if we don't hear from you.", closeText: "This chat was closed after a period of inactivity." }),
  /** Opening hours in a time zone; outside them (or with no agent logged in) the widget offers the offline form. */
  hours: z.object({ timezone: z.string().min(1).max(64), days: z.partialRecord(z.enum(DAYS), z.tuple([HHMM, HHMM])) }).optional(),
  /** A form (by name) the widget shows when chat is unavailable; it creates an email-type interaction. */
  offlineForm: Name.optional(),
  attachments: z
    .object({
      maxBytes: z.number().int().positive().max(25 * 1024 * 1024).default(DEFAULT_CHAT_ATTACHMENTS.maxBytes),
      types: z.array(z.string().regex(/^[a-z0-9.+-]+\/([a-z0-9.+-]+|\*)$/i)).max(50).default([...DEFAULT_CHAT_ATTACHMENTS.types]),
    })
    .default({ ...DEFAULT_CHAT_ATTACHMENTS, types: [...DEFAULT_CHAT_ATTACHMENTS.types] }),
  /** Chats one IP address may start per period (a shared office counts as one). */
  rateLimit: z.object({ max: z.number().int().positive().max(100_000), perSeconds: z.number().int().positive().max(86400) }).default({ max: 30, perSeconds: 600 }),
  /** Messages and files one customer may send per period (a token bucket: a burst of max, refilled over perSeconds). Staff are not limited. */
  messageRate: z
    .object({ max: z.number().int().positive().max(100_000), perSeconds: z.number().int().positive().max(3600) })
    .default({ ...DEFAULT_CUSTOMER_MESSAGE_RATE }),
  /** Widget texts, by key, overriding its built-in English. */
  strings: z.record(z.string().min(1).max(64), z.string().max(500)).default({}),
});
export type ChatSettings = z.infer<typeof ChatSettings>;

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
  workflows: z.array(Workflow).default([]),
  mailboxes: z.array(Mailbox).default([]),
  email: EmailSettings.default(EmailSettings.parse({})),
  categories: z.array(Category).max(2000).default([]),
  standardResponses: z.array(StandardResponse).max(5000).default([]),
  screeningRules: z.array(ScreeningRule).max(1000).default([]),
  forms: z.array(Form).default([]),
  callbacks: Callbacks.optional(),
  chat: ChatSettings.optional(),
  numbers: z
    .array(
      z.object({
        number: E164,
        provider: z.enum(["twilio", "generic"]),
        mode: z.enum(["paging", "session"]),
        workflow: Name,
        idleTimeoutSeconds: z.number().int().positive().default(1800),
        /** The provider account the number belongs to (Twilio: the AccountSid its webhooks carry). */
        accountSid: z.string().min(1).max(64).optional(),
        /** The tenant's secret holding the provider's signing key (Twilio: the account's auth token; MM7: the relay's password). */
        secret: SecretName,
      }),
    )
    .default([]),
  social: SocialSettings.optional(),
  /** Finished interactions older than `days` are erased, or anonymised (kept for statistics without a
   *  customer's identifiers or words), by the scheduled sweep. */
  retention: z.object({ days: z.number().int().min(1).max(36_500), mode: z.enum(["erase", "anonymise"]).default("anonymise") }).strict().optional(),
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

export interface ParseOptions {
  /** DEV_OUTBOUND_HOST: the one host local development may send to (url-policy.ts); unset in production. */
  devOutboundHost?: string;
}

/** Validates a config, cross-references included. Throws ConfigError naming each bad field. */
export function parseConfig(input: unknown, opts: ParseOptions = {}): TenantConfig {
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
  const responses = new Set(cfg.standardResponses.map((r) => r.id));
  const rules = new Set(cfg.screeningRules.map((r) => r.name));
  dup(cfg.standardResponses, (r) => r.id, "standardResponses", "id");
  dup(cfg.screeningRules, (r) => r.name, "screeningRules", "name");
  dup(cfg.mailboxes, (m) => m.address.toLowerCase(), "mailboxes", "address");
  dup(cfg.forms, (f) => f.name, "forms", "name");
  const agentIds = new Set(cfg.agents.map((a) => a.id));
  cfg.workflows.forEach((w, i) => {
    w.screen.forEach((r, j) => {
      if (!rules.has(r)) bad(`workflows[${i}].screen[${j}]`, `unknown screening rule '${r}'`);
    });
    if (w.acknowledge !== undefined && !responses.has(w.acknowledge)) bad(`workflows[${i}].acknowledge`, `unknown standard response '${w.acknowledge}'`);
    if (w.review) {
      if (!queues.has(w.review.queue)) bad(`workflows[${i}].review.queue`, `unknown queue '${w.review.queue}'`);
      else {
        const rq = cfg.queues.find((q) => q.name === w.review!.queue)!;
        if (!rq.media.includes("email")) bad(`workflows[${i}].review.queue`, `queue '${w.review.queue}' must take email`);
        // Reviewers work the queue's list (approve, edit, return), so nothing there is routed to agents.
        if (rq.steps.some((st) => st.type === "route" || st.type === "forward" || st.type === "stop")) bad(`workflows[${i}].review.queue`, `queue '${w.review.queue}' must be a holding queue (no route, forward or stop step)`);
      }
      w.review.agents.forEach((a, j) => {
        if (!agentIds.has(a)) bad(`workflows[${i}].review.agents[${j}]`, `unknown agent '${a}'`);
      });
      w.review.queues.forEach((q, j) => {
        if (!queues.has(q)) bad(`workflows[${i}].review.queues[${j}]`, `unknown queue '${q}'`);
      });
    }
  });
  dup(cfg.categories, (c) => c.id, "categories", "id");
  const categoryIds = new Set(cfg.categories.map((c) => c.id));
  cfg.categories.forEach((c, i) => {
    if (c.parent !== undefined && !categoryIds.has(c.parent)) bad(`categories[${i}].parent`, `unknown category '${c.parent}'`);
    // A parent chain that comes back to itself is no tree.
    const seen = new Set([c.id]);
    for (let p = c.parent; p !== undefined; p = cfg.categories.find((x) => x.id === p)?.parent) {
      if (seen.has(p)) {
        bad(`categories[${i}].parent`, `category '${c.id}' is its own ancestor`);
        break;
      }
      seen.add(p);
    }
  });
  cfg.workflows.forEach((w, i) => {
    w.classify?.rules.forEach((r, j) => {
      const at = `workflows[${i}].classify.rules[${j}]`;
      if (!categoryIds.has(r.category)) bad(`${at}.category`, `unknown category '${r.category}' (declare it in categories)`);
      if (r.queue !== undefined && !queues.has(r.queue)) bad(`${at}.queue`, `unknown queue '${r.queue}'`);
      if (r.skills !== undefined) {
        try {
          for (const s of skillsIn(parseSkillExpr(r.skills))) if (!skills.has(s)) bad(`${at}.skills`, `unknown skill '${s}'`);
        } catch (e) {
          bad(`${at}.skills`, e instanceof SkillExprError ? e.message : String(e));
        }
      }
    });
  });
  cfg.standardResponses.forEach((r, i) => {
    for (const [field, src] of [["subject", r.subject], ["text", r.text], ["html", r.html]] as const)
      if (src !== undefined) for (const e of templateErrors(src)) bad(`standardResponses[${i}].${field}`, e);
  });
  cfg.screeningRules.forEach((r, i) => {
    const e = screeningErrors(r.when);
    if (e) bad(`screeningRules[${i}].when`, e);
    r.actions.forEach((a, j) => {
      if (a.type === "route" && !queues.has(a.queue)) bad(`screeningRules[${i}].actions[${j}].queue`, `unknown queue '${a.queue}'`);
      else if (a.type === "route" && !cfg.queues.find((q) => q.name === a.queue)!.media.includes("email")) bad(`screeningRules[${i}].actions[${j}].queue`, `queue '${a.queue}' does not take email`);
      if (a.type === "autoRespond" && !responses.has(a.response)) bad(`screeningRules[${i}].actions[${j}].response`, `unknown standard response '${a.response}'`);
    });
  });
  cfg.forms.forEach((f, i) => {
    dup(f.fields, (x) => x.name, `forms[${i}].fields`, "name");
    if (f.fields.some((x) => x.name === f.honeypot)) bad(`forms[${i}].honeypot`, `'${f.honeypot}' is also a real field`);
  });
  const refs: [string, { workflow: string }[]][] = [["mailboxes", cfg.mailboxes], ["forms", cfg.forms], ["numbers", cfg.numbers]];
  if (cfg.callbacks && !workflows.has(cfg.callbacks.workflow)) bad("callbacks.workflow", `unknown workflow '${cfg.callbacks.workflow}'`);
  if (cfg.chat) {
    const wf = cfg.workflows.find((w) => w.name === cfg.chat!.workflow);
    if (!wf) bad("chat.workflow", `unknown workflow '${cfg.chat.workflow}'`);
    else if (!cfg.queues.find((q) => q.name === wf.queue)?.media.includes("chat")) bad("chat.workflow", `workflow '${wf.name}' enters queue '${wf.queue}', which does not take chat`);
    if (cfg.chat.offlineForm && !cfg.forms.some((f) => f.name === cfg.chat!.offlineForm)) bad("chat.offlineForm", `unknown form '${cfg.chat.offlineForm}'`);
    dup(cfg.chat.preChatFields, (x) => x.name, "chat.preChatFields", "name");
    if (cfg.chat.hours) {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: cfg.chat.hours.timezone });
      } catch {
        bad("chat.hours.timezone", `unknown time zone '${cfg.chat.hours.timezone}'`);
      }
    }
  }
  if (cfg.email.transport.kind === "http") {
    const problem = outboundUrlProblem(cfg.email.transport.url, { devHost: opts.devOutboundHost });
    if (problem) bad("email.transport.url", problem);
  }
  if (cfg.social) for (const p of socialProblems(cfg.social, workflows, opts.devOutboundHost)) bad(p.path, p.message);
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
