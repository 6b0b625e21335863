// Who sees which chat message, and who may say what. Pure. A customer sees what is meant for
// everyone; agents and supervisors also see what is meant for staff only (a consultation, a
// supervisor's coaching). A participant's mode decides how it takes part.
export const CHAT_ROLES = ["customer", "agent", "supervisor", "system"] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export const VISIBILITIES = ["all", "staff"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

/** primary: the agent handling the interaction; consult: a second agent, heard by staff only;
 *  conference: a second agent in the conversation; monitor: a silent supervisor; coach: a supervisor
 *  heard by the agents only; barge: a supervisor in the conversation. */
export const MODES = ["customer", "primary", "consult", "conference", "monitor", "coach", "barge"] as const;
export type Mode = (typeof MODES)[number];
export const INVITE_MODES = ["consult", "conference"] as const;
export type InviteMode = (typeof INVITE_MODES)[number];
export const SUPERVISOR_MODES = ["monitor", "coach", "barge"] as const;
export type SupervisorMode = (typeof SUPERVISOR_MODES)[number];

export function roleOf(mode: Mode): ChatRole {
  if (mode === "customer") return "customer";
  return mode === "monitor" || mode === "coach" || mode === "barge" ? "supervisor" : "agent";
}

export function canSee(viewer: ChatRole, v: Visibility): boolean {
  return v === "all" || viewer !== "customer";
}

/** Whether the customer learns that a participant in this mode is there. */
export const announcedToCustomer = (mode: Mode) => mode === "customer" || mode === "primary" || mode === "conference" || mode === "barge";

/** Does this participant take the conversation forward (and so make a waiting chat active)? */
export const servesCustomer = (mode: Mode) => mode === "primary" || mode === "conference" || mode === "barge";

/** The visibility a message gets, or why it may not be posted. */
export function postVisibility(mode: Mode, asked: Visibility | undefined): { ok: true; visibility: Visibility } | { ok: false; message: string } {
  switch (mode) {
    case "customer":
      return asked === "staff" ? { ok: false, message: "a customer's messages are seen by everyone in the chat" } : { ok: true, visibility: "all" };
    case "monitor":
      return { ok: false, message: "a monitoring supervisor is silent: switch to coach or barge-in to write" };
    case "consult":
    case "coach":
      return asked === "all" ? { ok: false, message: `in ${mode} mode your messages are for staff only` } : { ok: true, visibility: "staff" };
    default:
      return { ok: true, visibility: asked ?? "all" };
  }
}
