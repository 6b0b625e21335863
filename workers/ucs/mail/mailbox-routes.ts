// mailbox_routes: which tenant an address belongs to (written with the tenant's config), read where
// mail arrives with nothing but its recipient.
/** The tenant whose mailbox this (base) address is, for email(), which has only the address. */
export async function mailboxTenant(db: D1Database, address: string): Promise<string | null> {
  const r = await db.prepare("SELECT tenant_id FROM mailbox_routes WHERE address = ?").bind(address).first<{ tenant_id: string }>();
  return r?.tenant_id ?? null;
}
