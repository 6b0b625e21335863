// Settings, email, chat and callbacks as one JSON object each; chat and callbacks may be absent.
// Settings also carries the tenant's display name (its id is fixed).
import { Field } from "./Field.tsx";
import { fieldErrors, fieldId, issuesAt } from "./issues.ts";
import { JsonBox } from "./JsonBox.tsx";
import { isOptionalObject, jsonText, sectionLabel, type ObjectSection } from "./model.ts";
import type { SectionProps } from "./section.ts";
import { objectTemplate } from "./templates.ts";

const HINT: Record<ObjectSection, string> = {
  settings: "offerTimeoutSeconds, tokenTtlSeconds, afterWorkSeconds, notReadyReasons[].",
  email: "transport {kind: outbox | send_email | http, url (https, a public name), secret (a tenant secret's name)}, autoReplyLimit {max, perSeconds}, threadBySubjectDays, previousAgentWaitSeconds.",
  chat: "workflow, allowedOrigins[], preChatFields[], greeting, positionEverySeconds, idle {alertSeconds, closeSeconds, alertText, closeText}, hours {timezone, days}, offlineForm, attachments {maxBytes, types[]}, rateLimit, strings {}.",
  callbacks: "workflow, allowedOrigins[], rateLimit {max, perSeconds}, maxDaysAhead.",
  social:
    "whatsapp[] {phoneNumberId, number, workflow, appSecret, verifyToken, token, apiBase?, idleTimeoutSeconds?}, meta[] {pageId, instagramId?, workflow, appSecret, verifyToken, token, apiBase?}, " +
    "telegram[] {botId, workflow, token, webhookSecret, apiBase?}, templates[] {name, language, text with {{1}}.., params[] (field codes)}, fallbackTemplate. appSecret, verifyToken, token and webhookSecret name tenant secrets (Secrets), never the values. Webhooks: docs/social.md.",
};

export function JsonObjectSection(props: SectionProps & { section: ObjectSection }) {
  const { section, draft, update, issues } = props;
  const text = draft.objects[section];
  const setText = (t: string) => update((d) => ({ ...d, objects: { ...d.objects, [section]: t } }));
  const label = sectionLabel(section);
  const optional = isOptionalObject(section);
  const own = issuesAt(issues, section, null).filter((l) => !l.field.startsWith("tenant"));
  return (
    <div class="stack">
      {section === "settings" && (
        <div class="form-grid">
          <Field id="adm-tenant-id" label="Tenant id">
            {(a) => <input {...a} value={draft.base.tenant.id} readOnly />}
          </Field>
          <Field id={fieldId("settings", null, "tenant.name")} label="Tenant name" error={fieldErrors(issuesAt(issues, "settings", null), "tenant")}>
            {(a) => <input {...a} value={draft.tenantName} onInput={(e) => update((d) => ({ ...d, tenantName: e.currentTarget.value }))} />}
          </Field>
        </div>
      )}
      <p class="muted small">
        {label} as JSON: {HINT[section]}
      </p>
      {optional && text.trim() === "" ? (
        <div class="row">
          <span class="muted">No {label.toLowerCase()} settings: {section === "chat" ? "the website chat is off" : section === "social" ? "no WhatsApp, Messenger, Instagram or Telegram" : "web callbacks are off"}.</span>
          <button type="button" onClick={() => setText(jsonText(objectTemplate(section, draft)))}>
            Add {label.toLowerCase()} settings
          </button>
        </div>
      ) : (
        <JsonBox
          id={fieldId(section, null, "")}
          title={label}
          label={`${label} settings (JSON)`}
          text={text}
          issues={own}
          onChange={setText}
          {...(optional ? { onRemove: () => setText(""), removeLabel: `Turn ${label.toLowerCase()} off` } : {})}
        />
      )}
    </div>
  );
}
