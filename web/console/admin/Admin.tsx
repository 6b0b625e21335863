// The admin section: the tenant's whole config in one working copy, edited per section and saved
// whole. A refused save lists the server's issues; each is mapped to its section, item and field,
// and the editor switches there and focuses it.
import { useEffect, useState } from "preact/hooks";
import { ErrorLine } from "../../shared/ui.tsx";
import type { ConsoleProps } from "../props.ts";
import { AgentsSection } from "./AgentsSection.tsx";
import { describe } from "./describe.ts";
import { focusTarget } from "./focusTarget.ts";
import type { Located, Target } from "./issues.ts";
import { JsonListSection } from "./JsonListSection.tsx";
import { JsonObjectSection } from "./JsonObjectSection.tsx";
import { LIST_SECTIONS, OBJECT_SECTIONS, type ListSection, type ObjectSection, type SectionId } from "./model.ts";
import { ResponsesSection } from "./ResponsesSection.tsx";
import { SaveBar } from "./SaveBar.tsx";
import type { SectionProps } from "./section.ts";
import { SectionTabs } from "./SectionTabs.tsx";
import { SkillsSection } from "./SkillsSection.tsx";
import { useAdminConfig } from "./useConfig.ts";

const isList = (s: SectionId): s is ListSection => (LIST_SECTIONS as readonly string[]).includes(s);
const isObject = (s: SectionId): s is ObjectSection => (OBJECT_SECTIONS as readonly string[]).includes(s);

export function Admin(props: ConsoleProps) {
  const cfg = useAdminConfig(props.auth);
  const [tab, setTab] = useState<SectionId>("agents");
  const [agentSel, setAgentSel] = useState<number | null>(null);
  const [responseSel, setResponseSel] = useState<number | null>(null);
  const [focus, setFocus] = useState<{ target: Target; seq: number } | null>(null);

  // After the jump has rendered its section and item: bring the field into view and focus it.
  useEffect(() => {
    if (focus) focusTarget(focus.target);
  }, [focus]);

  const jump = (t: Target) => {
    setTab(t.section);
    if (t.section === "agents") setAgentSel(t.index);
    if (t.section === "standardResponses") setResponseSel(t.index);
    setFocus((f) => ({ target: t, seq: (f?.seq ?? 0) + 1 }));
  };

  const { draft, loaded } = cfg;
  if (!draft || !loaded) {
    return (
      <section class="admin">
        <h2>Admin</h2>
        {cfg.loadError ? <ErrorLine text={`Could not load the config: ${cfg.loadError}`} /> : <p class="muted">Loading the config…</p>}
        {cfg.loadError && (
          <button type="button" onClick={() => void cfg.reload()}>
            Try again
          </button>
        )}
      </section>
    );
  }

  const issues = (s: SectionId): Located[] => (cfg.failure?.issues ?? []).filter((l) => l.section === s);
  const save = async () => {
    const r = await cfg.save();
    if (!r) return;
    if (r.ok) {
      props.toast(`Saved: the config is now version ${r.version}`);
      return;
    }
    props.toast("The server refused the config: see the issues listed", "error");
    const first = r.failure.issues.find((l) => l.section !== null);
    if (first?.section) jump({ section: first.section, index: first.index, field: first.field });
  };
  const discard = () => {
    cfg.discard();
    setAgentSel(null);
    setResponseSel(null);
  };

  const common: SectionProps = { draft, update: cfg.update, issues: issues(tab), jump, toast: props.toast };
  return (
    <section class="admin stack" aria-labelledby="admin-title">
      <h2 id="admin-title">Admin</h2>
      <SaveBar
        version={loaded.version}
        dirty={cfg.dirty}
        saving={cfg.saving}
        parseErrors={cfg.parseErrors}
        failure={cfg.failure}
        describe={(t) => describe(draft, t)}
        onSave={() => void save()}
        onDiscard={discard}
        onJump={jump}
      />
      <SectionTabs
        current={tab}
        onSelect={setTab}
        changed={(s) => cfg.changed(s) || (s === "settings" && cfg.changed("tenant"))}
        issueCount={(s) => issues(s).length + cfg.parseErrors.filter((p) => p.section === s).length}
      />
      <div id="admin-panel" role="tabpanel" aria-labelledby={`admin-tab-${tab}`} tabIndex={-1}>
        {tab === "agents" && <AgentsSection {...common} selected={agentSel} select={setAgentSel} />}
        {tab === "skills" && <SkillsSection {...common} />}
        {tab === "standardResponses" && <ResponsesSection {...common} selected={responseSel} select={setResponseSel} />}
        {isList(tab) && <JsonListSection key={tab} {...common} section={tab} />}
        {isObject(tab) && <JsonObjectSection key={tab} {...common} section={tab} />}
      </div>
    </section>
  );
}
