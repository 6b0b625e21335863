// The operator's sign-in: the platform secret (PLATFORM_SECRET) for an operator token. The secret is
// sent once and forgotten; a wrong one shows the server's answer.
import { useState } from "preact/hooks";
import { ErrorLine, useSubmit } from "../shared/ui.tsx";
import type { Operator, OperatorSession } from "./operator.ts";

export function SignIn(props: { operator: Operator; onSignIn: (s: OperatorSession) => void }) {
  const [secret, setSecret] = useState("");
  const [name, setName] = useState(() => localStorage.getItem("parley.platform.name") ?? "");
  const { busy, error, submit } = useSubmit(async () => {
    const s = await props.operator.signIn(secret, name.trim());
    if (name.trim()) localStorage.setItem("parley.platform.name", name.trim());
    else localStorage.removeItem("parley.platform.name");
    setSecret("");
    props.onSignIn(s);
  });
  return (
    <main class="login">
      <form class="card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Parley · Platform console</h1>
        <label>
          Platform secret
          <input name="secret" type="password" value={secret} onInput={(e) => setSecret(e.currentTarget.value)} required autocomplete="current-password" autofocus />
        </label>
        <label>
          Your name (for the audit log)
          <input name="operator" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="operator" maxLength={64} autocomplete="username" />
        </label>
        <ErrorLine text={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p class="muted small">For the people who run this Parley install. The secret is traded for an operator token valid for 8 hours in this tab; the secret itself is not kept.</p>
      </form>
    </main>
  );
}
