// Pieces both apps use: the login screen, an error line, a modal dialog and a small toast stack.
// Everything a customer wrote reaches the page as text (Preact escapes it); nothing here sets HTML.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { errorText, type Auth, type Session } from "./api.ts";

const RANK = { agent: 1, supervisor: 2, admin: 3 } as const;

export function LoginScreen(props: { auth: Auth; title: string; need: keyof typeof RANK; hint?: string; onLogin: (s: Session) => void }) {
  // A link may name the tenant and login (the platform console's "Sign in as" after creating a tenant).
  const [preset] = useState(() => new URLSearchParams(location.search));
  const presetLogin = preset.get("login") ?? "";
  const [tenant, setTenant] = useState(preset.get("tenant") ?? props.auth.session?.tenant ?? localStorage.getItem("parley.tenant") ?? "demo");
  const [login, setLogin] = useState(presetLogin);
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await props.auth.login(tenant.trim(), login.trim(), password);
      if (RANK[s.agent.role] < RANK[props.need]) {
        props.auth.logout();
        throw new Error(`${s.agent.fullName} is ${s.agent.role === "agent" ? "an agent" : `a ${s.agent.role}`}; this console needs the ${props.need} role`);
      }
      localStorage.setItem("parley.tenant", tenant.trim());
      props.onLogin(s);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{props.title}</h1>
        <label>
          Tenant
          <input name="tenant" value={tenant} onInput={(e) => setTenant(e.currentTarget.value)} required autocomplete="organization" />
        </label>
        <label>
          Login
          <input name="login" value={login} onInput={(e) => setLogin(e.currentTarget.value)} required autocomplete="username" autofocus={!presetLogin} />
        </label>
        <label>
          Password
          <input name="password" type="password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required autocomplete="current-password" autofocus={!!presetLogin} />
        </label>
        {error && <ErrorLine text={error} />}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {props.hint && <p class="muted small">{props.hint}</p>}
      </form>
    </main>
  );
}

export function ErrorLine(props: { text: string | null; onClose?: () => void }) {
  if (!props.text) return null;
  return (
    <p class="error" role="alert">
      {props.text}
      {props.onClose && (
        <button type="button" class="link" onClick={props.onClose} aria-label="Dismiss">
          ×
        </button>
      )}
    </p>
  );
}

export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} class="modal" aria-label={props.title} onClose={props.onClose} onCancel={props.onClose}>
      <header>
        <h2>{props.title}</h2>
        <button type="button" class="link" onClick={props.onClose} aria-label="Close">
          ×
        </button>
      </header>
      {props.children}
    </dialog>
  );
}

export interface Toast {
  id: number;
  text: string;
  kind: "info" | "error";
}

let toastSeq = 0;
type ToastFn = (text: string, kind?: Toast["kind"]) => void;

/** A toast stack: returns the list to render and a function that adds one for 5 s. */
export function useToasts(): [Toast[], ToastFn] {
  const [list, setList] = useState<Toast[]>([]);
  const add: ToastFn = (text, kind = "info") => {
    const id = ++toastSeq;
    setList((l) => [...l.slice(-4), { id, text, kind }]);
    setTimeout(() => setList((l) => l.filter((t) => t.id !== id)), kind === "error" ? 8000 : 5000);
  };
  return [list, add];
}

export function Toasts(props: { list: Toast[] }) {
  return (
    <div class="toasts" aria-live="polite">
      {props.list.map((t) => (
        <div key={t.id} class={`toast ${t.kind}`} role={t.kind === "error" ? "alert" : "status"}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

/** Re-renders every `ms` (countdowns, waiting times). */
/** A form's submit: busy while `run` works, and the error `describe` makes of a failure. On success
 *  busy stays set: the form's owner moves on (a new screen, a closed dialog). */
export function useSubmit<E = string>(run: () => Promise<void>, describe: (err: unknown) => E = errorText as (err: unknown) => E): { busy: boolean; error: E | null; submit: (e: Event) => Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<E | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (err) {
      setError(describe(err));
      setBusy(false);
    }
  };
  return { busy, error, submit };
}

export function useTick(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function ConnectionBadge(props: { state: string }) {
  const label = props.state === "open" ? "Connected" : props.state === "connecting" ? "Connecting…" : "Offline: reconnecting";
  return (
    <span class={`conn ${props.state}`} role="status" data-conn={props.state}>
      {label}
    </span>
  );
}
