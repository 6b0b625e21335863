// Which logins' tokens an admin's config save revokes. Pure.
export interface LoginLike {
  id: string;
  login: string;
  role: string;
  /** Given only when the admin sets a new one (the stored config never holds it). */
  password?: string | undefined;
}

/** Agent ids whose tokens must stop working: removed, renamed, given another role or a new password. */
export function changedLogins(before: readonly LoginLike[], after: readonly LoginLike[]): string[] {
  const next = new Map(after.map((a) => [a.id, a]));
  const out: string[] = [];
  for (const b of before) {
    const a = next.get(b.id);
    if (!a || a.role !== b.role || a.login.toLowerCase() !== b.login.toLowerCase() || a.password !== undefined) out.push(b.id);
  }
  return out;
}
