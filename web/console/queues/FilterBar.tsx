// The queue browser's filter inputs.
import { mediaLabel } from "../../shared/format.ts";
import { MEDIA, type Media } from "../../shared/types.ts";
import { NO_FILTERS, isFiltered, type Filters } from "./filters.ts";

const STATES = ["waiting", "offered", "scheduled", "moving"] as const;

export function FilterBar(props: { value: Filters; onChange: (f: Filters) => void }) {
  const f = props.value;
  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => props.onChange({ ...f, [k]: v });
  return (
    <form class="filters row" role="search" aria-label="Filter interactions" onSubmit={(e) => e.preventDefault()}>
      <label>
        Media
        <select name="media" value={f.media} onChange={(e) => set("media", e.currentTarget.value as Media | "")}>
          <option value="">Any</option>
          {MEDIA.map((m) => (
            <option key={m} value={m}>{mediaLabel[m]}</option>
          ))}
        </select>
      </label>
      <label>
        State
        <select name="state" value={f.state} onChange={(e) => set("state", e.currentTarget.value as Filters["state"])}>
          <option value="">Any</option>
          {STATES.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
      </label>
      <label>
        Min. priority
        <input name="minPriority" type="number" value={f.minPriority} onInput={(e) => set("minPriority", e.currentTarget.value)} />
      </label>
      <label class="grow">
        Subject contains
        <input name="text" type="search" value={f.text} onInput={(e) => set("text", e.currentTarget.value)} />
      </label>
      <label>
        Waiting over (min)
        <input name="waitingMin" type="number" min={0} value={f.waitingMin} onInput={(e) => set("waitingMin", e.currentTarget.value)} />
      </label>
      <button type="button" disabled={!isFiltered(f)} onClick={() => props.onChange(NO_FILTERS)}>Clear</button>
    </form>
  );
}
