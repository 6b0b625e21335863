// Social and messaging channels in contact history: which tenant an account belongs to
// (social_accounts), every message in and out with its state (social_messages), inbound media and
// its fetch state (social_media), and each customer's thread on a channel (social_threads): the open
// conversation and the 24-hour window. Statements are returned unrun where callers batch them.
import type { Channel, Provider } from "../social/types.ts";

export interface AccountOwner {
  account: string;
  tenant: string;
}

/** The tenants owning these accounts of a provider (unknown ones are simply absent). */
export async function accountOwners(db: D1Database, provider: Provider, accounts: readonly string[]): Promise<AccountOwner[]> {
  if (accounts.length === 0) return [];
  const r = await db
    .prepare("SELECT account_id AS account, tenant_id AS tenant FROM social_accounts WHERE provider = ? AND account_id IN (SELECT value FROM json_each(?))")
    .bind(provider, JSON.stringify(accounts))
    .all<AccountOwner>();
  return r.results;
}

/** Every tenant with an account of this provider (the handshake carries no account: each one's verify token is tried). */
export async function providerTenants(db: D1Database, provider: Provider, limit = 1000): Promise<string[]> {
  const r = await db.prepare("SELECT DISTINCT tenant_id AS t FROM social_accounts WHERE provider = ? LIMIT ?").bind(provider, limit).all<{ t: string }>();
  return r.results.map((x) => x.t);
}

export interface SocialMessageRow {
  id: string;
  channel: Channel;
  account_id: string;
  user_id: string;
  direction: "in" | "out";
  provider_id: string | null;
  interaction_id: string | null;
  client_id: string | null;
  kind: string;
  body: string;
  provider_at: number | null;
  state: string;
  flagged: string | null;
  payload: string | null;
  error: string | null;
  attempts: number;
  created_at: number;
}

export interface NewInbound {
  tenant: string;
  id: string;
  channel: Channel;
  account: string;
  user: string;
  providerId: string;
  kind: string;
  body: string;
  providerAt: number;
  flagged: string | null;
  raw: string | null;
  at: number;
}

/** Records an inbound message once per provider id, and reads its customer's thread, in one round
 *  trip; answers the row (new, or the one an earlier delivery stored) and the thread. */
export async function recordInbound(db: D1Database, m: NewInbound): Promise<{ row: SocialMessageRow; created: boolean; thread: ThreadRow | null }> {
  const [, stored, t] = await db.batch<SocialMessageRow | ThreadRow>([
    db
      .prepare(
        `INSERT INTO social_messages (tenant_id, id, channel, account_id, user_id, direction, provider_id, kind, body, provider_at, state, flagged, raw, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'in', ?, ?, ?, ?, 'received', ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .bind(m.tenant, m.id, m.channel, m.account, m.user, m.providerId, m.kind, m.body, m.providerAt, m.flagged, m.raw, m.at, m.at),
    db.prepare("SELECT * FROM social_messages WHERE tenant_id = ? AND channel = ? AND direction = 'in' AND provider_id = ?").bind(m.tenant, m.channel, m.providerId),
    threadSelect(db, m.tenant, m.channel, m.account, m.user),
  ]);
  const row = stored?.results[0] as SocialMessageRow | undefined;
  if (!row) throw new Error(`social message ${m.providerId}: neither inserted nor found`);
  return { row, created: row.id === m.id, thread: (t?.results[0] as ThreadRow | undefined) ?? null };
}

export const inboundPosted = (db: D1Database, tenant: string, id: string, interactionId: string | null, at: number) =>
  db.prepare("UPDATE social_messages SET state = 'posted', interaction_id = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(interactionId, at, tenant, id);

export async function messageById(db: D1Database, tenant: string, id: string): Promise<SocialMessageRow | null> {
  return db.prepare("SELECT * FROM social_messages WHERE tenant_id = ? AND id = ?").bind(tenant, id).first<SocialMessageRow>();
}

export async function messageByProviderId(db: D1Database, tenant: string, channel: Channel, direction: "in" | "out", providerId: string): Promise<SocialMessageRow | null> {
  return db.prepare("SELECT * FROM social_messages WHERE tenant_id = ? AND channel = ? AND direction = ? AND provider_id = ?").bind(tenant, channel, direction, providerId).first<SocialMessageRow>();
}

export interface NewOutbound {
  tenant: string;
  id: string;
  channel: Channel;
  account: string;
  user: string;
  /** Null for a message sent from the provider's inbox while no conversation is open. */
  interactionId: string | null;
  clientId: string | null;
  kind: string;
  body: string;
  payload: string;
  state: "sending" | "skipped" | "sent";
  error?: string;
  providerId?: string;
  at: number;
}

/** An outbound message (an agent's, a template, an automatic one), or a message sent from the provider's own inbox (state 'sent', with its provider id). Idempotent on id. */
export const outboundInsert = (db: D1Database, m: NewOutbound) =>
  db
    .prepare(
      `INSERT INTO social_messages (tenant_id, id, channel, account_id, user_id, direction, provider_id, interaction_id, client_id, kind, body, payload, state, error, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'out', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    )
    .bind(m.tenant, m.id, m.channel, m.account, m.user, m.providerId ?? null, m.interactionId, m.clientId, m.kind, m.body, m.payload, m.state, m.error ?? null, m.at, m.at);

/** Moves an outbound message from one state to another; answers whether it did (a claim). */
export async function moveOutbound(db: D1Database, tenant: string, id: string, from: string, to: string, at: number): Promise<boolean> {
  const r = await db.prepare("UPDATE social_messages SET state = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND state = ?").bind(to, at, tenant, id, from).run();
  return (r.meta.changes ?? 0) > 0;
}

export const outboundSent = (db: D1Database, tenant: string, id: string, providerId: string | null, at: number) =>
  db.prepare("UPDATE social_messages SET state = 'sent', provider_id = COALESCE(?, provider_id), error = NULL, updated_at = ? WHERE tenant_id = ? AND id = ? AND state IN ('sending', 'handing')").bind(providerId, at, tenant, id);

export const outboundAttemptFailed = (db: D1Database, tenant: string, id: string, why: string, at: number) =>
  db.prepare("UPDATE social_messages SET attempts = attempts + 1, error = ?, updated_at = ? WHERE tenant_id = ? AND id = ?").bind(why.slice(0, 500), at, tenant, id);

export const outboundFailed = (db: D1Database, tenant: string, id: string, why: string, at: number) =>
  db.prepare("UPDATE social_messages SET state = 'failed', error = ?, updated_at = ? WHERE tenant_id = ? AND id = ? AND state IN ('sending', 'handing')").bind(why.slice(0, 500), at, tenant, id);

/** A delivery status onto an outbound message, only forward (a late "delivered" never undoes "read"). */
export const outboundStatus = (db: D1Database, tenant: string, id: string, state: string, error: string | null, at: number) =>
  db.prepare("UPDATE social_messages SET state = ?, error = COALESCE(?, error), updated_at = ? WHERE tenant_id = ? AND id = ?").bind(state, error, at, tenant, id);

/** Outbound messages to a user sent up to a time (Meta's delivery and read watermarks). */
export async function sentUpTo(db: D1Database, tenant: string, channel: Channel, account: string, user: string, upTo: number): Promise<SocialMessageRow[]> {
  const r = await db
    .prepare("SELECT * FROM social_messages WHERE tenant_id = ? AND channel = ? AND account_id = ? AND user_id = ? AND direction = 'out' AND created_at <= ? AND state IN ('sent', 'delivered') ORDER BY created_at DESC LIMIT 100")
    .bind(tenant, channel, account, user, upTo)
    .all<SocialMessageRow>();
  return r.results;
}

export async function messagesOf(db: D1Database, tenant: string, interactionId: string): Promise<SocialMessageRow[]> {
  const r = await db
    .prepare("SELECT * FROM social_messages WHERE tenant_id = ? AND interaction_id = ? ORDER BY COALESCE(provider_at, created_at), created_at LIMIT 1000")
    .bind(tenant, interactionId)
    .all<SocialMessageRow>();
  return r.results;
}

// Threads ------------------------------------------------------------------------------------------

export interface ThreadRow {
  interaction_id: string | null;
  conversations: number;
  contact_id: string | null;
  last_inbound_at: number | null;
}

const threadSelect = (db: D1Database, tenant: string, channel: Channel, account: string, user: string) =>
  db.prepare("SELECT interaction_id, contact_id, last_inbound_at, conversations FROM social_threads WHERE tenant_id = ? AND channel = ? AND account_id = ? AND user_id = ?").bind(tenant, channel, account, user);

export async function thread(db: D1Database, tenant: string, channel: Channel, account: string, user: string): Promise<ThreadRow | null> {
  return threadSelect(db, tenant, channel, account, user).first<ThreadRow>();
}

/** The customer wrote at `at` (the provider's time): the window runs from the latest. */
export const threadInbound = (db: D1Database, tenant: string, channel: Channel, account: string, user: string, at: number, now: number) =>
  db
    .prepare(
      `INSERT INTO social_threads (tenant_id, channel, account_id, user_id, last_inbound_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, channel, account_id, user_id) DO UPDATE SET last_inbound_at = MAX(COALESCE(last_inbound_at, 0), excluded.last_inbound_at), updated_at = excluded.updated_at`,
    )
    .bind(tenant, channel, account, user, at, now);

/** The thread's open conversation becomes this one (its `conversation`th), unless another holds it; answers the one that does. */
export async function claimThread(db: D1Database, tenant: string, channel: Channel, account: string, user: string, interactionId: string, conversation: number, contactId: string | null, now: number): Promise<string> {
  const r = await db
    .prepare(
      `INSERT INTO social_threads (tenant_id, channel, account_id, user_id, interaction_id, contact_id, conversations, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, channel, account_id, user_id) DO UPDATE SET interaction_id = COALESCE(social_threads.interaction_id, excluded.interaction_id),
         contact_id = COALESCE(social_threads.contact_id, excluded.contact_id), conversations = MAX(social_threads.conversations, excluded.conversations), updated_at = excluded.updated_at
       RETURNING interaction_id`,
    )
    .bind(tenant, channel, account, user, interactionId, contactId, conversation, now)
    .first<{ interaction_id: string }>();
  return r?.interaction_id ?? interactionId;
}

/** The conversation ended: the customer's next message opens a new one in the same thread. */
export const threadEnd = (db: D1Database, tenant: string, interactionId: string, now: number) =>
  db.prepare("UPDATE social_threads SET interaction_id = NULL, updated_at = ? WHERE tenant_id = ? AND interaction_id = ?").bind(now, tenant, interactionId);

export const threadContact = (db: D1Database, tenant: string, channel: Channel, account: string, user: string, contactId: string, now: number) =>
  db
    .prepare(
      `INSERT INTO social_threads (tenant_id, channel, account_id, user_id, contact_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant_id, channel, account_id, user_id) DO UPDATE SET contact_id = COALESCE(social_threads.contact_id, excluded.contact_id), updated_at = excluded.updated_at`,
    )
    .bind(tenant, channel, account, user, contactId, now);

// Media --------------------------------------------------------------------------------------------

export interface MediaRow {
  message_id: string;
  idx: number;
  ref: string;
  content_type: string;
  name: string;
  state: "pending" | "stored" | "expired" | "refused";
  r2_key: string | null;
  size: number | null;
  attempts: number;
  next_at: number | null;
  expires_at: number;
  error: string | null;
}

export const mediaInsert = (db: D1Database, tenant: string, messageId: string, idx: number, m: { ref: string; contentType: string; name: string; expiresAt: number }) =>
  db
    .prepare("INSERT INTO social_media (tenant_id, message_id, idx, ref, content_type, name, state, expires_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING")
    .bind(tenant, messageId, idx, m.ref, m.contentType, m.name, m.expiresAt);

export async function mediaOf(db: D1Database, tenant: string, messageId: string): Promise<MediaRow[]> {
  const r = await db.prepare("SELECT * FROM social_media WHERE tenant_id = ? AND message_id = ? ORDER BY idx").bind(tenant, messageId).all<MediaRow>();
  return r.results;
}

export const mediaStored = (db: D1Database, tenant: string, messageId: string, idx: number, key: string, contentType: string, size: number) =>
  db
    .prepare("UPDATE social_media SET state = 'stored', r2_key = ?, content_type = ?, size = ?, error = NULL, next_at = NULL WHERE tenant_id = ? AND message_id = ? AND idx = ?")
    .bind(key, contentType, size, tenant, messageId, idx);

export const mediaAttemptFailed = (db: D1Database, tenant: string, messageId: string, idx: number, why: string, nextAt: number | null, state: "pending" | "expired" | "refused") =>
  db
    .prepare("UPDATE social_media SET state = ?, attempts = attempts + 1, error = ?, next_at = ? WHERE tenant_id = ? AND message_id = ? AND idx = ? AND state = 'pending'")
    .bind(state, why.slice(0, 500), nextAt, tenant, messageId, idx);

/** Pending media whose retry is overdue (its Queue message lost): the sweep queues them again. */
export async function overdueMedia(db: D1Database, before: number, limit = 100): Promise<{ tenant_id: string; message_id: string; idx: number }[]> {
  const r = await db.prepare("SELECT tenant_id, message_id, idx FROM social_media WHERE state = 'pending' AND next_at IS NOT NULL AND next_at < ? LIMIT ?").bind(before, limit).all<{ tenant_id: string; message_id: string; idx: number }>();
  return r.results;
}

/** An inbound message whose processing failed after it was accepted: kept whole and flagged, for the provider's retry (or a person) to complete. */
export const inboundFailed = (db: D1Database, tenant: string, channel: Channel, providerId: string, why: string, raw: string, at: number) =>
  db
    .prepare("UPDATE social_messages SET flagged = ?, raw = COALESCE(raw, ?), updated_at = ? WHERE tenant_id = ? AND channel = ? AND direction = 'in' AND provider_id = ? AND state = 'received'")
    .bind(`processing failed: ${why.slice(0, 300)}`, raw.slice(0, 100_000), at, tenant, channel, providerId);

/** The sweep queued the item again: its next attempt is due now, and the next sweep leaves it alone for a while. */
export const mediaRequeued = (db: D1Database, tenant: string, messageId: string, idx: number, nextAt: number) =>
  db.prepare("UPDATE social_media SET next_at = ? WHERE tenant_id = ? AND message_id = ? AND idx = ? AND state = 'pending'").bind(nextAt, tenant, messageId, idx);
