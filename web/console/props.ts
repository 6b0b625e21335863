import type { Auth, Session } from "../shared/api.ts";

/** What every console section gets: the API, who is signed in, and a toast for outcomes. */
export interface ConsoleProps {
  auth: Auth;
  session: Session;
  toast: (text: string, kind?: "info" | "error") => void;
}
