// Loads the tenant config, holds the one working copy, and saves it whole. The working copy is also
// kept outside the component, so unsaved edits survive a visit to another console tab.
import { useEffect, useMemo, useState } from "preact/hooks";
import { errorText, type Auth } from "../../shared/api.ts";
import { issuesOf, locate, type Located } from "./issues.ts";
import { assemble, canonical, toDraft, type Draft, type ParseError, type TenantConfig } from "./model.ts";

export interface Loaded {
  config: TenantConfig;
  version: number;
}

export interface SaveFailure {
  message: string;
  issues: Located[];
}

export type SaveResult = { ok: true; version: number } | { ok: false; failure: SaveFailure };

/** Keyed by who is signed in (not the token), so edits also survive signing in again after an expiry. */
let kept: { who: string; loaded: Loaded; draft: Draft; failure: SaveFailure | null } | null = null;

export interface AdminConfig {
  loaded: Loaded | null;
  draft: Draft | null;
  loadError: string | null;
  saving: boolean;
  failure: SaveFailure | null;
  dirty: boolean;
  parseErrors: ParseError[];
  /** The part of the working copy under each top-level key, for per-section change marks. */
  changed: (key: string) => boolean;
  update: (fn: (d: Draft) => Draft) => void;
  discard: () => void;
  reload: () => Promise<void>;
  save: () => Promise<SaveResult | null>;
}

export function useAdminConfig(auth: Auth): AdminConfig {
  const who = auth.session ? `${auth.session.tenant}/${auth.session.agent.id}` : "";
  const mine = kept && kept.who === who ? kept : null;
  const [loaded, setLoaded] = useState<Loaded | null>(mine?.loaded ?? null);
  const [draft, setDraft] = useState<Draft | null>(mine?.draft ?? null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<SaveFailure | null>(mine?.failure ?? null);

  const reload = async () => {
    setLoadError(null);
    try {
      const r = await auth.get<Loaded>("/api/v1/admin/config");
      setLoaded(r);
      setDraft(toDraft(r.config));
    } catch (e) {
      setLoadError(errorText(e));
    }
  };

  const assembled = useMemo(() => (draft ? assemble(draft) : null), [draft]);
  const original = useMemo(() => (loaded ? (loaded.config as unknown as Record<string, unknown>) : null), [loaded]);
  // Compared key by key, once per edit: the tabs mark their own section and the bar the whole.
  const changedKeys = useMemo(() => {
    if (!assembled || !original) return new Set<string>();
    const keys = new Set([...Object.keys(assembled.config), ...Object.keys(original)]);
    return new Set([...keys].filter((k) => canonical(assembled.config[k]) !== canonical(original[k])));
  }, [assembled, original]);
  const dirty = !!assembled && (assembled.parseErrors.length > 0 || changedKeys.size > 0);

  useEffect(() => {
    // A clean copy is not worth keeping: come back to a fresh load instead.
    if (loaded && draft && dirty) kept = { who, loaded, draft, failure };
    else kept = null;
  }, [loaded, draft, dirty, failure, who]);

  useEffect(() => {
    if (!mine) void reload();
  }, []);
  // Leaving the page with unsaved edits asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    addEventListener("beforeunload", warn);
    return () => removeEventListener("beforeunload", warn);
  }, [dirty]);

  const save = async (): Promise<SaveResult | null> => {
    if (!assembled || assembled.parseErrors.length) return null;
    setSaving(true);
    try {
      // If-Match: the version this copy started from; someone else's newer save is refused (409), not undone.
      const r = await auth.call<Loaded>("PUT", "/api/v1/admin/config", assembled.config, loaded ? { headers: { "If-Match": `"${loaded.version}"` } } : undefined);
      setFailure(null);
      await reload();
      return { ok: true, version: r.version };
    } catch (e) {
      const f: SaveFailure = { message: errorText(e), issues: issuesOf(e).map(locate) };
      setFailure(f);
      return { ok: false, failure: f };
    } finally {
      setSaving(false);
    }
  };

  return {
    loaded,
    draft,
    loadError,
    saving,
    failure,
    dirty,
    parseErrors: assembled?.parseErrors ?? [],
    changed: (key) => changedKeys.has(key),
    update: (fn) => setDraft((d) => (d ? fn(d) : d)),
    discard: () => {
      if (loaded) setDraft(toDraft(loaded.config));
      setFailure(null);
    },
    reload,
    save,
  };
}
