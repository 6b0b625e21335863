-- SMS session mode: the conversation a (contact-center number, customer number) pair is in right
-- now, carried by a ChatSession. At most one active per pair.
CREATE TABLE sms_sessions (
  tenant_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  center TEXT NOT NULL,
  customer TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'ended')),
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  PRIMARY KEY (tenant_id, interaction_id)
);
CREATE UNIQUE INDEX sms_sessions_active ON sms_sessions (tenant_id, center, customer) WHERE status = 'active';
