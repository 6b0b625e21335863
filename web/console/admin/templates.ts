// Starting points for new items: valid on their own where possible, pointing at the tenant's first
// queue or workflow so a new item saves before the admin has changed anything but its name.
import { itemName, type Draft, type ListSection, type ObjectSection } from "./model.ts";

/** `base`, or `base-2`, `base-3`… whichever is not taken yet. */
export function freeName(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}-${n}`)) return `${base}-${n}`;
}

/** A fictional E.164 number (555-01xx) not in the list yet. */
function freeNumber(taken: string[]): string {
  for (let n = 199; n > 100; n--) if (!taken.includes(`+14155550${n}`)) return `+14155550${n}`;
  return "+14155550100";
}

const names = (d: Draft, s: ListSection): string[] => d.lists[s].map((t, i) => itemName(s, t, i));
const firstQueue = (d: Draft): string => names(d, "queues").find((n) => !n.startsWith("#")) ?? "support";
const firstWorkflow = (d: Draft): string => names(d, "workflows").find((n) => !n.startsWith("#")) ?? "email";

export function listTemplate(s: ListSection, d: Draft): unknown {
  const taken = names(d, s);
  switch (s) {
    case "queues":
      return { name: freeName("new-queue", taken), description: "", media: ["email"], serviceLevelSeconds: 60, steps: [{ type: "route", targets: [{ skills: "*", pick: "longest_idle" }] }] };
    case "workflows":
      return { name: freeName("new-workflow", taken), queue: firstQueue(d), description: "", screen: [] };
    case "screeningRules":
      return { name: freeName("new-rule", taken), when: 'Find(subject, "example")', actions: [{ type: "addCategory", category: "example" }] };
    case "forms":
      return {
        name: freeName("new-form", taken),
        workflow: firstWorkflow(d),
        fields: [
          { name: "name", label: "Your name", type: "text", required: true },
          { name: "email", label: "Email", type: "email", required: true },
          { name: "message", label: "How can we help?", type: "textarea", required: true },
        ],
        allowedOrigins: [],
      };
    case "numbers":
      // "secret" names a tenant secret set first (PUT /api/v1/admin/secrets/twilio); the save says so if it is not.
      return { number: freeNumber(taken), provider: "twilio", mode: "paging", workflow: firstWorkflow(d), secret: "twilio" };
    case "mailboxes":
      return { address: freeName("new", taken.map((a) => a.split("@")[0] ?? a)) + "@example.com", name: d.tenantName, workflow: firstWorkflow(d) };
  }
}

/** For the optional objects, what "Add" starts from. */
export function objectTemplate(s: ObjectSection, d: Draft): unknown {
  if (s === "chat") return { workflow: firstWorkflow(d), allowedOrigins: [] };
  if (s === "callbacks") return { workflow: firstWorkflow(d), allowedOrigins: [], maxDaysAhead: 14 };
  if (s === "social") return { whatsapp: [{ phoneNumberId: "000000000000000", number: "+15550000000", workflow: firstWorkflow(d), appSecret: "meta-app", verifyToken: "meta-verify", token: "whatsapp" }], templates: [] };
  return {};
}
