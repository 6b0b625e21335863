// Contacts: identify or create from identifiers, read, merge.
import { appendEvent } from "./event-log.ts";
import { conflict, notFound } from "../kernel/errors.ts";
import { newId } from "../kernel/ids.ts";
import { identifiersOf, splitName, type ContactInput, type Identifier } from "./identifiers.ts";
import { FENCED } from "./shard-tables.ts";

export interface Contact {
  id: string;
  firstName: string | null;
  lastName: string | null;
  identifiers: { kind: string; value: string; display: string | null }[];
  createdAt: number;
  mergedInto?: string | null;
}

export interface LookupOptions {
  /** false on public channels (mail, forms, callbacks): anyone can type any display name, so a name
   *  neither finds a contact nor becomes an identifier there; it only names a new contact. */
  byName?: boolean;
}

export interface IdentifierRow {
  kind: string;
  value: string;
  contact_id: string;
  merged_into: string | null;
}

/** Finds the contact by the best-ranked identifier that matches (email, then phone, then name),
 *  or creates one; identifiers it did not have yet are added to it when no one else owns them. */
export async function identifyContact(db: D1Database, tenant: string, input: ContactInput, opts: LookupOptions = {}): Promise<{ id: string; created: boolean; matchedBy?: string }> {
  const l = contactLookup(db, tenant, input, opts);
  return l.resolve(l.stmt ? (await l.stmt.all<IdentifierRow>()).results : []);
}

/** identifyContact in two halves, so a caller can put the lookup in a batch of its own reads:
 *  the statement (null when the input names no identifier), then the decision on its rows. */
export function contactLookup(db: D1Database, tenant: string, input: ContactInput, opts: LookupOptions = {}): { stmt: D1PreparedStatement | null; resolve: (rows: IdentifierRow[]) => Promise<{ id: string; created: boolean; matchedBy?: string }> } {
  const all = identifiersOf(input);
  const ids = opts.byName === false ? all.filter((i) => i.kind !== "name") : all;
  if (ids.length === 0) return { stmt: null, resolve: async () => ({ id: await createContact(db, tenant, input, []), created: true }) };
  const stmt = db
    .prepare(
      `SELECT ci.kind, ci.value, ci.contact_id, c.merged_into FROM contact_identifiers ci
       JOIN contacts c ON c.tenant_id = ci.tenant_id AND c.id = ci.contact_id
       WHERE ci.tenant_id = ? AND (${ids.map(() => "(ci.kind = ? AND ci.value = ?)").join(" OR ")})`,
    )
    .bind(tenant, ...ids.flatMap((i) => [i.kind, i.value]));
  const resolve = async (rows: IdentifierRow[]) => {
    for (const id of ids) {
      const hit = rows.find((r) => r.kind === id.kind && r.value === id.value);
      if (hit) {
        const contactId = hit.merged_into ?? hit.contact_id;
        const missing = ids.filter((i) => !rows.some((r) => r.kind === i.kind && r.value === i.value));
        if (missing.length) await addIdentifiers(db, tenant, contactId, missing);
        return { id: contactId, created: false, matchedBy: id.kind };
      }
    }
    return { id: await createContact(db, tenant, input, ids), created: true };
  };
  return { stmt, resolve };
}

async function addIdentifiers(db: D1Database, tenant: string, contactId: string, ids: Identifier[]): Promise<void> {
  const now = Date.now();
  await db.batch(
    ids.map((i) =>
      db
        .prepare("INSERT INTO contact_identifiers (tenant_id, kind, value, contact_id, display, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        .bind(tenant, i.kind, i.value, contactId, i.display, now),
    ),
  );
}

async function createContact(db: D1Database, tenant: string, input: ContactInput, ids: Identifier[]): Promise<string> {
  const id = newId("c");
  const now = Date.now();
  const n = splitName(input);
  const st = [
    db.prepare("INSERT INTO contacts (tenant_id, id, first_name, last_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)").bind(tenant, id, n.first ?? null, n.last ?? null, now, now),
    ...ids.map((i) =>
      db
        .prepare("INSERT INTO contact_identifiers (tenant_id, kind, value, contact_id, display, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        .bind(tenant, i.kind, i.value, id, i.display, now),
    ),
    db.prepare("INSERT INTO search_index (tenant_id, kind, ref, contact_id, body) VALUES (?, 'contact', ?, ?, ?)").bind(tenant, id, id, ids.map((i) => i.display).join(" ")),
    // The log says that a contact was made and how it is known, not who it is (erasure leaves no name behind there).
    appendEvent(db, { tenant, type: "parley.contact.created", subject: id, at: now, actor: "system", data: { identifiers: ids.map((i) => i.kind) } }),
  ];
  await db.batch(st);
  // Two requests may create the same person at once: the identifier's owner wins, the other row merges into it.
  if (ids[0]) {
    const owner = await db.prepare("SELECT contact_id FROM contact_identifiers WHERE tenant_id = ? AND kind = ? AND value = ?").bind(tenant, ids[0].kind, ids[0].value).first<{ contact_id: string }>();
    if (owner && owner.contact_id !== id) {
      await mergeContacts(db, tenant, owner.contact_id, id);
      return owner.contact_id;
    }
  }
  return id;
}

export async function getContact(db: D1Database, tenant: string, id: string): Promise<Contact> {
  const [c, ids] = await db.batch([
    db.prepare("SELECT id, first_name, last_name, created_at, merged_into FROM contacts WHERE tenant_id = ? AND id = ?").bind(tenant, id),
    db.prepare("SELECT kind, value, display FROM contact_identifiers WHERE tenant_id = ? AND contact_id = ? ORDER BY kind, value").bind(tenant, id),
  ]);
  const row = c!.results[0] as { id: string; first_name: string | null; last_name: string | null; created_at: number; merged_into: string | null } | undefined;
  if (!row) throw notFound("unknown_contact", `no contact '${id}'`);
  return {
    id: row.id,
    firstName: row.first_name,
    lastName: row.last_name,
    createdAt: row.created_at,
    mergedInto: row.merged_into,
    identifiers: ids!.results as Contact["identifiers"],
  };
}

/** Merges `loserId` into `survivorId`: identifiers, interactions, notes and search entries move; the loser points at the survivor. */
export async function mergeContacts(db: D1Database, tenant: string, survivorId: string, loserId: string, actor = "system"): Promise<Contact> {
  if (survivorId === loserId) throw conflict("same_contact", "cannot merge a contact into itself");
  const both = await db.prepare("SELECT id, merged_into FROM contacts WHERE tenant_id = ? AND id IN (?, ?)").bind(tenant, survivorId, loserId).all<{ id: string; merged_into: string | null }>();
  for (const id of [survivorId, loserId]) {
    const r = both.results.find((x) => x.id === id);
    if (!r) throw notFound("unknown_contact", `no contact '${id}'`);
    if (r.merged_into) throw conflict("already_merged", `contact '${id}' was merged into '${r.merged_into}'`);
  }
  const now = Date.now();
  await db.batch([
    db.prepare("UPDATE contact_identifiers SET contact_id = ? WHERE tenant_id = ? AND contact_id = ?").bind(survivorId, tenant, loserId),
    db.prepare("UPDATE interactions SET contact_id = ? WHERE tenant_id = ? AND contact_id = ?").bind(survivorId, tenant, loserId),
    db.prepare("UPDATE notes SET contact_id = ? WHERE tenant_id = ? AND contact_id = ?").bind(survivorId, tenant, loserId),
    db.prepare("UPDATE search_index SET contact_id = ? WHERE tenant_id = ? AND contact_id = ? AND kind = 'message'").bind(survivorId, tenant, loserId),
    db.prepare("DELETE FROM search_index WHERE tenant_id = ? AND kind = 'contact' AND ref IN (?, ?)").bind(tenant, survivorId, loserId),
    db.prepare(
      `UPDATE contacts SET first_name = COALESCE(first_name, (SELECT first_name FROM contacts WHERE tenant_id = ?1 AND id = ?3)),
         last_name = COALESCE(last_name, (SELECT last_name FROM contacts WHERE tenant_id = ?1 AND id = ?3)), updated_at = ?4
       WHERE tenant_id = ?1 AND id = ?2`,
    ).bind(tenant, survivorId, loserId, now),
    db.prepare("UPDATE contacts SET merged_into = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(survivorId, now, tenant, loserId),
    db.prepare("UPDATE contacts SET merged_into = ? WHERE tenant_id = ? AND merged_into = ?").bind(survivorId, tenant, loserId),
    appendEvent(db, { tenant, type: "parley.contact.merged", subject: survivorId, at: now, actor, data: { merged: loserId } }),
  ]);
  const merged = await getContact(db, tenant, survivorId);
  // Written apart from the batch above (it needs the merged contact), and FTS tables take no
  // triggers: so it checks the tenant's fence itself (a move froze it meanwhile: retried elsewhere).
  const r = await db
    .prepare("INSERT INTO search_index (tenant_id, kind, ref, contact_id, body) SELECT ?1, 'contact', ?2, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM tenant_fences WHERE tenant_id = ?1 AND state IN ('frozen', 'gone'))")
    .bind(tenant, survivorId, [merged.firstName, merged.lastName, ...merged.identifiers.map((i) => i.display ?? i.value)].filter(Boolean).join(" "))
    .run();
  if ((r.meta.changes ?? 0) === 0) throw new Error(`${FENCED}: contact ${survivorId}'s search entry`);
  return merged;
}
