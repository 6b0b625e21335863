// Who sees which chat message. Pure. A customer sees what is meant for everyone; agents and
// supervisors also see what is meant for staff only (a consultation, a supervisor's coaching).
export const CHAT_ROLES = ["customer", "agent", "supervisor", "system"] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export const VISIBILITIES = ["all", "staff"] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export function canSee(viewer: ChatRole, v: Visibility): boolean {
  return v === "all" || viewer !== "customer";
}

/** A customer can only speak to everyone; staff choose. */
export function mayPost(author: ChatRole, v: Visibility): boolean {
  return author !== "customer" || v === "all";
}
