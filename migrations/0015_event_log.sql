-- The per-tenant event log (docs/events.md): every event in order, `seq` 1, 2, 3… per tenant with
-- no gaps, the backbone of the pull API, the live stream, webhooks and the audit log.
--
-- Interaction events reach it by trigger, in the same transaction as their history row: whatever
-- wrote interaction_events (a batch, an object's outbox flush, a retry after a crash) wrote the log
-- entry too, or neither. Other events (contacts, agents, config, logins, reviews) are appended by
-- workers/ucs/event-log.ts with the same next-sequence rule. D1 runs one write at a time, so
-- MAX(seq) + 1 inside the statement is the next number and two writers never share it.
CREATE TABLE event_log (
  tenant_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  -- The interaction, contact, agent or config it is about.
  subject TEXT,
  at INTEGER NOT NULL,
  -- Who: agent:<id>, a key kind, a provider (sms:twilio, social:whatsapp), system, workflow…
  actor TEXT NOT NULL,
  -- From where, for the audit log: an IP address, or null.
  origin TEXT,
  -- JSON; null once erased (a tombstone keeps the sequence).
  data TEXT,
  -- The interaction_events row it mirrors.
  history_seq INTEGER,
  erased_at INTEGER,
  PRIMARY KEY (tenant_id, seq)
) WITHOUT ROWID;
-- One secondary index: by subject (a contact's or an interaction's events, for the audit view and
-- erasure). Filters by type or actor read in sequence order: every index is one more write on each
-- transition, and the pages they serve are short.
CREATE INDEX event_log_subject ON event_log (tenant_id, subject, seq);

-- A history action's CloudEvents type; an action not listed is parley.interaction.<action>.
CREATE TABLE event_types (action TEXT PRIMARY KEY, type TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO event_types (action, type) VALUES
  ('message_added', 'parley.message.received'),
  ('sent', 'parley.message.sent'),
  ('sms_sent', 'parley.message.sent'),
  ('social_sent', 'parley.message.sent'),
  ('sms_queued', 'parley.message.queued'),
  ('social_queued', 'parley.message.queued'),
  ('sms_outbound', 'parley.message.queued'),
  ('delivery_failed', 'parley.message.delivery_failed'),
  ('social_skipped', 'parley.message.skipped'),
  ('auto_reply_suppressed', 'parley.message.skipped'),
  ('chat_ended', 'parley.chat.ended'),
  ('categorized', 'parley.interaction.category_assigned'),
  ('approve', 'parley.review.approved'),
  ('review_requested', 'parley.review.requested'),
  ('returned_to_author', 'parley.review.returned');

CREATE TRIGGER interaction_events_to_log AFTER INSERT ON interaction_events
BEGIN
  INSERT INTO event_log (tenant_id, seq, type, subject, at, actor, data, history_seq)
  VALUES (
    NEW.tenant_id,
    COALESCE((SELECT MAX(seq) FROM event_log WHERE tenant_id = NEW.tenant_id), 0) + 1,
    CASE
      WHEN NEW.action = 'created' AND (SELECT media FROM interactions WHERE tenant_id = NEW.tenant_id AND id = NEW.interaction_id) = 'chat' THEN 'parley.chat.started'
      ELSE COALESCE((SELECT type FROM event_types WHERE action = NEW.action), 'parley.interaction.' || NEW.action)
    END,
    NEW.interaction_id, NEW.at, NEW.actor,
    json_object('action', NEW.action, 'from', NEW.from_state, 'to', NEW.to_state, 'queue', NEW.queue, 'agent', NEW.agent_id, 'reason', json(NEW.reason)),
    NEW.seq
  );
END;

-- An API key may be scoped to reading events (GET /api/v1/events and its stream), and nothing else.
CREATE TABLE tenant_keys_new (
  key_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  kind TEXT NOT NULL CHECK (kind IN ('ingest', 'read', 'events')),
  created_at INTEGER NOT NULL
);
INSERT INTO tenant_keys_new (key_hash, tenant_id, kind, created_at) SELECT key_hash, tenant_id, kind, created_at FROM tenant_keys;
DROP TABLE tenant_keys;
ALTER TABLE tenant_keys_new RENAME TO tenant_keys;
CREATE INDEX tenant_keys_tenant ON tenant_keys (tenant_id, kind);
