// The platform console: for the people who run a Parley install, above every tenant. Sign in with
// the platform secret; list the tenants with their usage; create one (its keys and admin password
// shown once); suspend, resume, move between shards, delete. The API: workers/http/routes/platform.ts.
import { render } from "preact";
import { useState } from "preact/hooks";
import { Toasts, useToasts } from "../shared/ui.tsx";
import { Operator, type OperatorSession } from "./operator.ts";
import { SignIn } from "./SignIn.tsx";
import { Tenants } from "./Tenants.tsx";

const operator = new Operator();

function App() {
  const [session, setSession] = useState<OperatorSession | null>(operator.session);
  const [toasts, toast] = useToasts();
  operator.onExpired = () => setSession(null);
  if (!session) return <SignIn operator={operator} onSignIn={setSession} />;
  return (
    <>
      <header class="topbar">
        <h1>Parley platform</h1>
        <span class="grow" />
        <span>Operator {session.name}</span>
        <button
          type="button"
          onClick={() => {
            operator.signOut();
            setSession(null);
          }}
        >
          Sign out
        </button>
      </header>
      <main class="page">
        <Tenants operator={operator} toast={toast} />
      </main>
      <Toasts list={toasts} />
    </>
  );
}

render(<App />, document.getElementById("app")!);
