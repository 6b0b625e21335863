// Queues, workflows, screening rules, forms, numbers and mailboxes: one JSON box per item, added from
// a template that already points at the tenant's own queues and workflows.
import { useMemo } from "preact/hooks";
import { fieldId, issuesAt } from "./issues.ts";
import { JsonBox } from "./JsonBox.tsx";
import { itemName, jsonText, sectionLabel, type ListSection } from "./model.ts";
import type { SectionProps } from "./section.ts";
import { skillRefs } from "./skillRefs.ts";
import { listTemplate } from "./templates.ts";

const NOUN: Record<ListSection, string> = {
  queues: "queue",
  workflows: "workflow",
  screeningRules: "screening rule",
  forms: "form",
  numbers: "number",
  mailboxes: "mailbox",
};

/** What an item holds, so nobody has to open the schema to write one. */
const HINT: Record<ListSection, string> = {
  queues:
    "name, media[], description, serviceLevelSeconds, aging {everySeconds, step, max}, steps[]: setPriority, setAttributes, addCategory, sendSms, and last forward {queue}, stop {reason} or route {targets[]: skills (e.g. \"tech >= 5 & !trainee\"), priority, timeoutSeconds (all but the last), pick: longest_idle | least_occupied | highest_skill}.",
  workflows: "name, queue, priority, description, screen[] (screening rule names, in order), acknowledge (a standard response id), review {queue, agents[], queues[], samplePercent}.",
  screeningRules: 'name, when (e.g. Find(subject, "refund") && !RegExFind(from, "@example\\.com$")), actions[]: route {queue}, setPriority, addCategory, setAttributes, spam {reason}, autoRespond {response}.',
  forms: "name, workflow, fields[] {name, label, type: text | email | phone | textarea | file, required, maxLength, accept[], maxBytes}, title, allowedOrigins[], honeypot, turnstile, rateLimit {max, perSeconds}, thankYouUrl.",
  numbers: "number (E.164), provider: twilio | generic, mode: paging | session, workflow, idleTimeoutSeconds, accountSid, secret (the name of one of this tenant's secrets, set first with PUT /api/v1/admin/secrets/{name}).",
  mailboxes: "address (no +tag), name (shown in From), workflow.",
};

export function JsonListSection(props: SectionProps & { section: ListSection }) {
  const { section, draft, update, issues } = props;
  const texts = draft.lists[section];
  // Queues: each target naming a skill that is not declared (the server would refuse it).
  const undeclared = useMemo(() => {
    if (section !== "queues") return [];
    const declared = new Set(draft.skills);
    return skillRefs(draft).filter((r) => r.section === "queues" && !declared.has(r.skill));
  }, [section, draft]);
  const setTexts = (fn: (t: string[]) => string[]) => update((d) => ({ ...d, lists: { ...d.lists, [section]: fn(d.lists[section]) } }));
  const add = () => update((d) => ({ ...d, lists: { ...d.lists, [section]: [...d.lists[section], jsonText(listTemplate(section, d))] } }));
  return (
    <div class="stack">
      <p class="muted small">
        Each {NOUN[section]} as JSON: {HINT[section]}
      </p>
      {texts.length === 0 && <p class="muted">No {sectionLabel(section).toLowerCase()} yet.</p>}
      {texts.map((text, i) => {
        const name = itemName(section, text, i);
        return (
          <JsonBox
            key={i}
            id={fieldId(section, i, "")}
            title={name}
            label={`${NOUN[section]} ${name} (JSON)`}
            text={text}
            issues={issuesAt(issues, section, i)}
            warnings={undeclared.filter((r) => r.index === i).map((r) => `${r.field}: '${r.skill}' is not a declared skill`)}
            onChange={(t) => setTexts((all) => all.map((x, j) => (j === i ? t : x)))}
            onRemove={() => setTexts((all) => all.filter((_, j) => j !== i))}
            removeLabel={`Remove ${NOUN[section]} ${name}`}
          />
        );
      })}
      <div class="row">
        <button type="button" onClick={add}>
          Add {NOUN[section]}
        </button>
      </div>
    </div>
  );
}
