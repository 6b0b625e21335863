// The agent desktop: presence, offers, work in progress and the workbin, the workspace for the
// open interaction (email, chat, SMS, callback, any task), the contact panel, shortcuts,
// notifications, and a socket that reconnects with the state read again.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Auth, errorText, type Session } from "../shared/api.ts";
import type { WorkbinEntry } from "../shared/types.ts";
import { ConnectionBadge, LoginScreen, Modal, Toasts, useToasts } from "../shared/ui.tsx";
import { useAgent, type DeskFrame } from "./agent.ts";
import { ChatBoard } from "./ChatPane.tsx";
import { ContactPanel } from "./ContactPanel.tsx";
import { askPermission, canNotify, notify } from "./notify.ts";
import { actOnOffer, Offers } from "./Offers.tsx";
import { Presence } from "./Presence.tsx";
import { SHORTCUTS, useShortcuts } from "./shortcuts.ts";
import { WorkList } from "./WorkList.tsx";
import { Workspace } from "./Workspace.tsx";
import type { DeskProps, Directory } from "./props.ts";

const auth = new Auth("desk");
/** The schema's default reason codes, until the tenant's own arrive. */
const DEFAULT_REASONS = ["break", "lunch", "meeting", "training", "other"];

function Desk(props: { session: Session; onLogout: () => void }) {
  const [toasts, toast] = useToasts();
  const [selected, setSelected] = useState<string | null>(sessionStorage.getItem("parley.desk.selected"));
  const [workbin, setWorkbin] = useState<WorkbinEntry[]>([]);
  // The not-ready reason the agent chose; the tenant's own list replaces the default once it loads.
  const [reason, setReason] = useState("break");
  const [help, setHelp] = useState(false);
  const [directory, setDirectory] = useState<Directory>({ reasons: [], agents: [], queues: [] });
  const [perm, setPerm] = useState(canNotify() ? Notification.permission : "denied");
  const onEvent = (e: DeskFrame) => {
    if (e.type === "offer") notify("New offer", e.offer.item.subject ?? "New work", "offer");
    if (e.type === "draft_returned") {
      toast(e.comment ? `A reviewer returned your reply: ${e.comment}` : "A reviewer returned your reply", "error");
      notify("Reply returned", e.comment ?? "Returned for changes", "returned");
    }
    if (e.type === "chat_invite") {
      toast(`${e.from} invited you to a chat (${e.mode})`);
      notify("Chat invitation", e.from, "invite");
    }
    if (e.type === "chat_ended") toast("A chat ended; mark it done when you have finished");
    // A hello opens every (re)connection: what changed meanwhile in the workbin is read again too.
    if (e.type === "workbin" || e.type === "work_removed" || e.type === "hello") void loadWorkbin().catch(() => {});
  };
  const live = useAgent(auth, onEvent);
  // Reads can overlap (a push, then a hello): only the latest one's answer is shown, never an older one last.
  const [reads] = useState({ n: 0 });
  const loadWorkbin = async () => {
    const n = ++reads.n;
    const items = (await auth.get<{ items: WorkbinEntry[] }>("/api/v1/me/workbin")).items;
    if (n === reads.n) setWorkbin(items);
  };
  useEffect(() => {
    void loadWorkbin().catch(() => {});
    void auth.get<Directory>("/api/v1/me/directory").then((d) => {
      setReason((r) => (d.reasons.includes(r) ? r : (d.reasons[0] ?? r)));
      setDirectory(d);
    }).catch(() => {});
  }, []);
  useEffect(() => {
    if (selected) sessionStorage.setItem("parley.desk.selected", selected);
    else sessionStorage.removeItem("parley.desk.selected");
  }, [selected]);
  const reasons = directory.reasons.length ? directory.reasons : DEFAULT_REASONS;
  const status = live.status;
  const work = status?.work ?? [];
  const open = work.find((w) => w.interactionId === selected) ?? null;
  const refresh = () => {
    void live.refresh().catch((e: unknown) => toast(errorText(e), "error"));
    void loadWorkbin().catch(() => {});
  };
  const offerAct = (what: "accept" | "reject") => {
    const o = status?.offers[0];
    if (!o) return;
    void actOnOffer(auth, o.interactionId, what).then(
      () => {
        if (what === "accept") setSelected(o.interactionId);
        refresh();
      },
      (e: unknown) => toast(errorText(e), "error"),
    );
  };
  const keys: Record<string, () => void> = {
    a: () => offerAct("accept"),
    r: () => offerAct("reject"),
    y: () => void auth.post("/api/v1/me/ready", { ready: true }).then(refresh, (e: unknown) => toast(errorText(e), "error")),
    n: () => void auth.post("/api/v1/me/ready", { ready: false, reason }).then(refresh, (e: unknown) => toast(errorText(e), "error")),
    // The open work's own Done button, so its categories are saved with it.
    d: () => {
      const button = document.querySelector<HTMLButtonElement>('[role=toolbar][aria-label=Actions] button[title="Alt+D"]');
      if (button) button.click();
      else if (open) void auth.post(`/api/v1/interactions/${open.interactionId}/done`).then(refresh, (e: unknown) => toast(errorText(e), "error"));
    },
    f: () => document.querySelector<HTMLInputElement>("#history-search")?.focus(),
    k: () => setHelp(true),
  };
  work.slice(0, 9).forEach((w, i) => (keys[String(i + 1)] = () => setSelected(w.interactionId)));
  useShortcuts(keys);
  const deskProps: DeskProps = { auth, session: props.session, toast, refresh, directory };
  return (
    <>
      <header class="topbar">
        <h1>Parley desk</h1>
        {status ? <Presence auth={auth} status={status} reasons={reasons} reason={reason} onReason={setReason} onChange={refresh} toast={toast} /> : <span>Loading…</span>}
        <span class="grow" />
        <ConnectionBadge state={live.conn} />
        {perm === "default" && (
          <button type="button" onClick={() => void askPermission().then(setPerm)}>
            Enable notifications
          </button>
        )}
        <button type="button" onClick={() => setHelp(true)} title="Alt+K">
          Shortcuts
        </button>
        <span>{props.session.agent.fullName}</span>
        <button type="button" onClick={props.onLogout}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <WorkList auth={auth} work={work} workbin={workbin} selected={selected} onSelect={setSelected} onChange={refresh} toast={toast} />
        <section aria-label="Workspace" class="stack">
          {open ? (
            <Workspace key={open.interactionId} {...deskProps} work={open} onClosed={() => setSelected(null)} events={live.last} />
          ) : (
            <div class="card muted">
              {work.length ? "Choose work in progress on the left." : status?.snapshot.loggedIn ? "Waiting for work. Offers pop up at the top right." : "Log in to routing to receive work."}
            </div>
          )}
          <ChatBoard {...deskProps} chats={work.filter((w) => w.media === "chat")} selected={selected} events={live.last} onClosed={(id) => selected === id && setSelected(null)} />
        </section>
        <aside class="side stack" aria-label="Contact">
          <ContactPanel key={open?.interactionId ?? "none"} {...deskProps} contactId={open?.item.contactId ?? null} interactionId={open?.interactionId ?? null} />
        </aside>
      </div>
      <Offers auth={auth} offers={status?.offers ?? []} onAccepted={setSelected} onChange={refresh} toast={toast} />
      {help && (
        <Modal title="Keyboard shortcuts" onClose={() => setHelp(false)}>
          <table>
            <tbody>
              {SHORTCUTS.map(([k, what]) => (
                <tr key={k}>
                  <td>
                    <span class="kbd">{k}</span>
                  </td>
                  <td>{what}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Modal>
      )}
      <Toasts list={toasts} />
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(auth.session);
  auth.onExpired = () => setSession(null);
  if (!session) return <LoginScreen auth={auth} title="Parley · Agent desktop" need="agent" hint="Demo: ana, ben, chloe or dev, password parley-demo" onLogin={setSession} />;
  return (
    <Desk
      key={session.token}
      session={session}
      onLogout={() => {
        auth.logout();
        setSession(null);
      }}
    />
  );
}

render(<App />, document.getElementById("app")!);
