// A contact's email address for a reply when the message itself names none: the contact's first
// email identifier, with the contact's name.
export async function contactEmailRow(db: D1Database, tenant: string, contactId: string): Promise<{ value: string; display: string | null; first_name: string | null; last_name: string | null } | null> {
  return db
    .prepare(
      `SELECT ci.value, ci.display, c.first_name, c.last_name FROM contact_identifiers ci JOIN contacts c ON c.tenant_id = ci.tenant_id AND c.id = ci.contact_id
       WHERE ci.tenant_id = ? AND ci.contact_id = ? AND ci.kind = 'email' ORDER BY ci.created_at LIMIT 1`,
    )
    .bind(tenant, contactId)
    .first<{ value: string; display: string | null; first_name: string | null; last_name: string | null }>();
}
