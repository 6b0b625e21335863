// The training objects: examples per category (imported, from agents, standard responses), an
// import of JSON Lines or CSV, and a browser of the examples.
import { useEffect, useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { ErrorLine } from "../../shared/ui.tsx";
import type { CategoryCount } from "./types.ts";

interface Example {
  hash: string;
  category: string;
  text: string;
  source: "import" | "agent";
  agentId: string | null;
  createdAt: number;
}

export function TrainingObjects(props: { auth: Auth; categories: CategoryCount[]; toast: (t: string, k?: "info" | "error") => void; onChange: () => void }) {
  const { auth } = props;
  const [category, setCategory] = useState("");
  const [page, setPage] = useState<{ examples: Example[]; next: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [paste, setPaste] = useState("");
  const load = (before?: string) => {
    const p = new URLSearchParams({ limit: "25" });
    if (category) p.set("category", category);
    if (before) p.set("before", before);
    void auth.get<{ examples: Example[]; next: string | null }>(`/api/v1/admin/classifier/examples?${p}`).then(
      (r) => setPage((cur) => (before && cur ? { examples: [...cur.examples, ...r.examples], next: r.next } : r)),
      (e: unknown) => setError(errorText(e)),
    );
  };
  useEffect(() => load(), [category]);

  const upload = async (body: Blob | string, type: string) => {
    setError(null);
    try {
      const r = await auth.call<{ received: number; added: number; duplicates: number }>("POST", "/api/v1/admin/classifier/examples", undefined, { raw: body, type });
      props.toast(`Imported: ${r.added} new, ${r.duplicates} already there`);
      setPaste("");
      props.onChange();
      load();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const fileType = (f: File) => (f.name.toLowerCase().endsWith(".csv") || f.type === "text/csv" ? "text/csv" : "application/x-ndjson");
  const remove = (x: Example) =>
    void auth.call("DELETE", `/api/v1/admin/classifier/examples/${x.hash}/${encodeURIComponent(x.category)}`).then(() => { props.onChange(); load(); }, (e: unknown) => setError(errorText(e)));

  return (
    <div class="stack">
      <table aria-label="Examples per category">
        <thead>
          <tr><th>Category</th><th>Imported</th><th>From agents</th><th>Standard responses</th></tr>
        </thead>
        <tbody>
          {props.categories.map((c) => (
            <tr key={c.id} data-category={c.id}>
              <td>{c.parent ? `${c.parent} › ` : ""}{c.name} <span class="small muted">{c.id}</span></td>
              <td>{c.imported}</td><td>{c.agent}</td><td>{c.responses}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="card stack" aria-label="Import examples" onSubmit={(e) => { e.preventDefault(); void upload(paste, paste.trimStart().startsWith("{") ? "application/x-ndjson" : "text/csv"); }}>
        <h3>Import</h3>
        <p class="small muted">
          JSON Lines (<code>{'{"text": "…", "category": "billing"}'}</code> per line) or CSV with a <code>text,category</code> header. Category <code>_none</code> marks messages that fit none.
          Importing the same example twice adds it once.
        </p>
        <label>
          File
          <input type="file" accept=".jsonl,.ndjson,.csv,text/csv" aria-label="Examples file" onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) void upload(f, fileType(f)); }} />
        </label>
        <label>
          Or paste
          <textarea name="examples" rows={4} value={paste} onInput={(e) => setPaste(e.currentTarget.value)} />
        </label>
        <div class="row end">
          <button type="submit" disabled={!paste.trim()}>Import pasted examples</button>
        </div>
      </form>
      <ErrorLine text={error} onClose={() => setError(null)} />
      <div class="row">
        <h3 class="grow">Examples</h3>
        <select aria-label="Show category" value={category} onChange={(e) => setCategory(e.currentTarget.value)}>
          <option value="">All categories</option>
          {props.categories.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
      </div>
      <ul class="list" aria-label="Example list">
        {page?.examples.map((x) => (
          <li key={`${x.hash}/${x.category}`} class="row">
            <span class="grow">{x.text}</span>
            <span class="badge">{x.category}</span>
            <span class="small muted">{x.source === "agent" ? `agent ${x.agentId ?? ""}` : "imported"}</span>
            <button type="button" class="link" aria-label="Delete example" onClick={() => remove(x)}>×</button>
          </li>
        ))}
      </ul>
      {page?.next && <button type="button" onClick={() => load(page.next!)}>More</button>}
    </div>
  );
}
