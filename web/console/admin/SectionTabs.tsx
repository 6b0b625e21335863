// The admin's sub-tabs: a dot marks a section with unsaved changes, a count its issues from the last refused save.
import { SECTIONS, type SectionId } from "./model.ts";

interface Props {
  current: SectionId;
  onSelect: (s: SectionId) => void;
  changed: (s: SectionId) => boolean;
  issueCount: (s: SectionId) => number;
}

export function SectionTabs(props: Props) {
  return (
    <div class="tabs admin-tabs" role="tablist" aria-label="Config sections">
      {SECTIONS.map((s) => {
        const n = props.issueCount(s.id);
        return (
          <button
            type="button"
            key={s.id}
            role="tab"
            id={`admin-tab-${s.id}`}
            aria-selected={props.current === s.id}
            aria-controls="admin-panel"
            class={n ? "has-issues" : undefined}
            onClick={() => props.onSelect(s.id)}
          >
            {s.label}
            {props.changed(s.id) && (
              <span class="changed-dot" title="unsaved changes" aria-label="(changed)">
                •
              </span>
            )}
            {n > 0 && <span class="badge bad-badge">{n}</span>}
          </button>
        );
      })}
    </div>
  );
}
