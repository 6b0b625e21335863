// SMS in contact history: each message in and out (sms_messages) with its delivery state, opt-outs
// (sms_opt_outs), session-mode conversations (sms_sessions) and which tenant owns a number
// (number_routes). Statements are returned unrun where callers batch them.
import type { Keyword } from "../sms/keywords.ts";

export interface SmsRow {
  id: string;
  status: string;
  center: string;
  customer: string;
  body: string;
  interaction_id: string;
}

export interface ListedSms {
  id: string;
  direction: string;
  center: string;
  customer: string;
  body: string;
  encoding: string | null;
  segments: number | null;
  status: string;
  error: string | null;
  created_at: number;
}

/** The tenant a contact-center number belongs to. */
export async function numberTenant(db: D1Database, number: string): Promise<string | null> {
  return (await db.prepare("SELECT tenant_id FROM number_routes WHERE number = ?").bind(number).first<{ tenant_id: string }>())?.tenant_id ?? null;
}

export async function isOptedOut(db: D1Database, tenant: string, center: string, customer: string): Promise<boolean> {
  return (await db.prepare("SELECT 1 AS x FROM sms_opt_outs WHERE tenant_id = ? AND center = ? AND customer = ?").bind(tenant, center, customer).first()) !== null;
}

export const optOut = (db: D1Database, tenant: string, center: string, customer: string, at: number): D1PreparedStatement =>
  db.prepare("INSERT OR IGNORE INTO sms_opt_outs (tenant_id, center, customer, opted_out_at) VALUES (?, ?, ?, ?)").bind(tenant, center, customer, at);

export const optIn = (db: D1Database, tenant: string, center: string, customer: string): D1PreparedStatement =>
  db.prepare("DELETE FROM sms_opt_outs WHERE tenant_id = ? AND center = ? AND customer = ?").bind(tenant, center, customer);

/** A provider's message seen before: what it became (an interaction, or a keyword). */
export interface SeenRow {
  interaction_id: string | null;
  keyword: Keyword | null;
}

/** A provider's message already stored (a retry), as a statement to batch with the door's other reads. */
export const inboundSeenStatement = (db: D1Database, tenant: string, provider: string, providerId: string): D1PreparedStatement =>
  db.prepare("SELECT interaction_id, keyword FROM sms_messages WHERE tenant_id = ? AND provider = ? AND provider_id = ?").bind(tenant, provider, providerId);

/** Whether a provider's message id was stored already; `tenant` null: across tenants (the MM7 door,
 *  whose ids are the relay's own). */
export async function providerMessageSeen(db: D1Database, provider: string, providerId: string, tenant: string | null): Promise<boolean> {
  const r =
    tenant === null
      ? await db.prepare("SELECT 1 AS x FROM sms_messages WHERE provider = ? AND provider_id = ?").bind(provider, providerId).first()
      : await db.prepare("SELECT 1 AS x FROM sms_messages WHERE tenant_id = ? AND provider = ? AND provider_id = ?").bind(tenant, provider, providerId).first();
  return r !== null;
}

export interface NewInboundSms {
  tenant: string;
  id: string;
  provider: string;
  providerId: string;
  interactionId: string | null;
  center: string;
  customer: string;
  body: string;
  encoding: string;
  segments: number;
  keyword: Keyword | null;
  at: number;
}

/** An inbound message, once per provider id. */
/** The message's row naming the interaction made for it under `externalId` (ours, or the first one's
 *  when a retry raced us), in the interaction's own batch. */
export const inboundInsertFor = (db: D1Database, m: Omit<NewInboundSms, "interactionId">, externalId: string): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sms_messages (tenant_id, id, provider, provider_id, interaction_id, direction, center, customer, body, encoding, segments, status, keyword, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, (SELECT id FROM interactions WHERE tenant_id = ?1 AND external_id = ?5), 'inbound', ?6, ?7, ?8, ?9, ?10, 'received', NULL, ?11, ?11) ON CONFLICT DO NOTHING`,
    )
    .bind(m.tenant, m.id, m.provider, m.providerId, externalId, m.center, m.customer, m.body, m.encoding, m.segments, m.at);

export const inboundInsert = (db: D1Database, m: NewInboundSms): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sms_messages (tenant_id, id, provider, provider_id, interaction_id, direction, center, customer, body, encoding, segments, status, keyword, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'inbound', ?, ?, ?, ?, ?, 'received', ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(m.tenant, m.id, m.provider, m.providerId, m.interactionId, m.center, m.customer, m.body, m.encoding, m.segments, m.keyword, m.at, m.at);

/** An outbound message, 'sending'; a fixed id makes a repeat a no-op. */
export const outboundInsert = (db: D1Database, m: { tenant: string; id: string; provider: string; interactionId: string; center: string; customer: string; body: string; encoding: string; segments: number; at: number }): D1PreparedStatement =>
  db
    .prepare(
      `INSERT INTO sms_messages (tenant_id, id, provider, provider_id, interaction_id, direction, center, customer, body, encoding, segments, status, created_at, updated_at)
       VALUES (?, ?, ?, NULL, ?, 'outbound', ?, ?, ?, ?, ?, 'sending', ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(m.tenant, m.id, m.provider, m.interactionId, m.center, m.customer, m.body, m.encoding, m.segments, m.at, m.at);

export function smsById(db: D1Database, tenant: string, id: string): Promise<SmsRow | null> {
  return db.prepare("SELECT id, status, center, customer, body, interaction_id FROM sms_messages WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<SmsRow>();
}

/** Moves a message from one delivery state to another, only if it is still in `from`; says whether it did. */
export async function moveSms(db: D1Database, tenant: string, id: string, from: string, to: string, at: number): Promise<boolean> {
  const r = await db.prepare("UPDATE sms_messages SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = ?").bind(to, at, tenant, id, from).run();
  return r.meta.changes === 1;
}

/** Handed to the provider: its answer's status and id. */
export const smsHandedOver = (db: D1Database, tenant: string, id: string, status: string, providerId: string | null, at: number): D1PreparedStatement =>
  db.prepare("UPDATE sms_messages SET status = ?, provider_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = 'handing'").bind(status, providerId, at, tenant, id);

/** Gives up on a message not yet handed over. */
export const smsFailedStatement = (db: D1Database, tenant: string, id: string, why: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE sms_messages SET status = 'failed', error = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND status = 'sending'").bind(why.slice(0, 500), at, tenant, id);

/** Notes why an attempt failed (it is retried). */
export const smsAttemptError = (db: D1Database, tenant: string, id: string, why: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE sms_messages SET error = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(why.slice(0, 500), at, tenant, id);

/** A message we sent, by the provider's id, for its status callbacks. */
export function sentByProviderId(db: D1Database, tenant: string, provider: string, providerId: string): Promise<{ id: string; status: string } | null> {
  return db.prepare("SELECT id, status FROM sms_messages WHERE provider = ? AND provider_id = ? AND tenant_id = ?").bind(provider, providerId, tenant).first<{ id: string; status: string }>();
}

/** A provider's delivery status, with its error code when it has one. */
export const smsDeliveryStatus = (db: D1Database, tenant: string, id: string, status: string, error: string | null, at: number): D1PreparedStatement =>
  db.prepare("UPDATE sms_messages SET status = ?, error = COALESCE(?, error), updated_at = ? WHERE tenant_id = ? AND id = ?").bind(status, error, at, tenant, id);

/** The newest 500 messages of an interaction (a long paging thread keeps its latest), oldest first. */
export async function smsOfInteraction(db: D1Database, tenant: string, interactionId: string): Promise<ListedSms[]> {
  const r = await db
    .prepare(
      "SELECT * FROM (SELECT id, direction, center, customer, body, encoding, segments, status, error, created_at FROM sms_messages WHERE tenant_id = ? AND interaction_id = ? ORDER BY created_at DESC, id DESC LIMIT 500) ORDER BY created_at, id",
    )
    .bind(tenant, interactionId)
    .all<ListedSms>();
  return r.results;
}

/** The pair's conversation in session mode, while one is active. */
export async function activeSession(db: D1Database, tenant: string, center: string, customer: string): Promise<string | null> {
  return (await db.prepare("SELECT interaction_id FROM sms_sessions WHERE tenant_id = ? AND center = ? AND customer = ? AND status = 'active'").bind(tenant, center, customer).first<{ interaction_id: string }>())?.interaction_id ?? null;
}

export const sessionStart = (db: D1Database, tenant: string, interactionId: string, center: string, customer: string, at: number): D1PreparedStatement =>
  db.prepare("INSERT INTO sms_sessions (tenant_id, interaction_id, center, customer, status, started_at) VALUES (?, ?, ?, ?, 'active', ?) ON CONFLICT DO NOTHING").bind(tenant, interactionId, center, customer, at);

/** Ends the pair's session, so its next SMS starts a new one. */
export const sessionEnd = (db: D1Database, tenant: string, interactionId: string, at: number): D1PreparedStatement =>
  db.prepare("UPDATE sms_sessions SET status = 'ended', ended_at = ? WHERE tenant_id = ? AND interaction_id = ? AND status = 'active'").bind(at, tenant, interactionId);
