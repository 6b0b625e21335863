// What a web form post writes besides its interaction: the mail thread that keeps replies by
// email (ours and the customer's answers) with the post.

/** The post's thread under its tag; a retried post keeps the thread it has. */
export function formThreadInsert(db: D1Database, t: { tenant: string; threadId: string; tag: string; contactId: string | null; subjectNorm: string; at: number }): D1PreparedStatement {
  return db
    .prepare("INSERT OR IGNORE INTO email_threads (tenant_id, thread_id, tag, contact_id, subject_norm, mailbox, last_at) VALUES (?, ?, ?, ?, ?, NULL, ?)")
    .bind(t.tenant, t.threadId, t.tag, t.contactId, t.subjectNorm, t.at);
}

/** The same, in the interaction's own batch: written only if that interaction exists (a post that lost
 *  a race to a retry of itself leaves the winner's thread alone). */
export function formThreadInsertFor(db: D1Database, t: { tenant: string; threadId: string; tag: string; contactId: string | null; subjectNorm: string; at: number }): D1PreparedStatement {
  return db
    .prepare("INSERT OR IGNORE INTO email_threads (tenant_id, thread_id, tag, contact_id, subject_norm, mailbox, last_at) SELECT ?1, ?2, ?3, ?4, ?5, NULL, ?6 WHERE EXISTS (SELECT 1 FROM interactions WHERE tenant_id = ?1 AND id = ?2)")
    .bind(t.tenant, t.threadId, t.tag, t.contactId, t.subjectNorm, t.at);
}
