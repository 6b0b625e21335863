import type { Auth, Session } from "../shared/api.ts";

/** What the desktop's panes share: the API, who is signed in, a toast, and a refresh of the agent's state. */
export interface DeskProps {
  auth: Auth;
  session: Session;
  toast: (text: string, kind?: "info" | "error") => void;
  refresh: () => void;
  directory: Directory;
}

/** GET /api/v1/me/directory: reason codes, colleagues and queues to pick from. */
export interface Directory {
  reasons: string[];
  agents: { id: string; fullName: string; role: string }[];
  queues: { name: string; description: string | null; media: string[] }[];
}
