// The supervisor console: live dashboard, queue browser with interventions, the QA review inbox,
// live chats (monitor, coach, barge-in), the audit log and, for admins, webhooks, the classifier's training and the configuration editor.
import { render } from "preact";
import { useState } from "preact/hooks";
import { Auth, type Session } from "../shared/api.ts";
import { LoginScreen, Toasts, useToasts } from "../shared/ui.tsx";
import { Dashboard } from "./Dashboard.tsx";
import { Queues } from "./Queues.tsx";
import { Reviews } from "./Reviews.tsx";
import { Chats } from "./Chats.tsx";
import { Audit } from "./events/Audit.tsx";
import { Webhooks } from "./events/Webhooks.tsx";
import { Privacy } from "./events/Privacy.tsx";
import { Admin } from "./admin/Admin.tsx";
import { Classifier } from "./classifier/Classifier.tsx";
import type { ConsoleProps } from "./props.ts";

const auth = new Auth("console");

type Tab = "dashboard" | "queues" | "reviews" | "chats" | "audit" | "webhooks" | "privacy" | "classifier" | "admin";
const TABS: { id: Tab; label: string; admin?: boolean }[] = [
  { id: "dashboard", label: "Dashboard" },
  { id: "queues", label: "Queues" },
  { id: "reviews", label: "QA review" },
  { id: "chats", label: "Live chats" },
  { id: "audit", label: "Audit log" },
  { id: "webhooks", label: "Webhooks", admin: true },
  { id: "privacy", label: "Data protection", admin: true },
  { id: "classifier", label: "Classifier", admin: true },
  { id: "admin", label: "Admin", admin: true },
];

function tabFromHash(): Tab {
  const h = location.hash.slice(1) as Tab;
  return TABS.some((t) => t.id === h) ? h : "dashboard";
}

function App() {
  const [session, setSession] = useState<Session | null>(auth.session);
  const [tab, setTab] = useState<Tab>(tabFromHash());
  const [toasts, toast] = useToasts();
  auth.onExpired = () => setSession(null);
  if (!session) return <LoginScreen auth={auth} title="Parley · Supervisor console" need="supervisor" hint="Demo: sam (supervisor) or alex (admin), password parley-demo" onLogin={setSession} />;
  const go = (t: Tab) => {
    history.replaceState(null, "", `#${t}`);
    setTab(t);
  };
  const props: ConsoleProps = { auth, session, toast };
  return (
    <>
      <header class="topbar">
        <h1>Parley console</h1>
        <nav aria-label="Sections">
          {TABS.filter((t) => !t.admin || session.agent.role === "admin").map((t) => (
            <button type="button" key={t.id} aria-current={tab === t.id ? "page" : undefined} onClick={() => go(t.id)}>
              {t.label}
            </button>
          ))}
        </nav>
        <span class="grow" />
        <span>{session.agent.fullName}</span>
        <button type="button" onClick={() => { auth.logout(); setSession(null); }}>
          Sign out
        </button>
      </header>
      <main class="page">
        {tab === "dashboard" && <Dashboard {...props} />}
        {tab === "queues" && <Queues {...props} />}
        {tab === "reviews" && <Reviews {...props} />}
        {tab === "chats" && <Chats {...props} />}
        {tab === "audit" && <Audit {...props} />}
        {tab === "webhooks" && session.agent.role === "admin" && <Webhooks {...props} />}
        {tab === "privacy" && session.agent.role === "admin" && <Privacy {...props} />}
        {tab === "classifier" && session.agent.role === "admin" && <Classifier {...props} />}
        {tab === "admin" && session.agent.role === "admin" && <Admin {...props} />}
      </main>
      <Toasts list={toasts} />
    </>
  );
}

render(<App />, document.getElementById("app")!);
