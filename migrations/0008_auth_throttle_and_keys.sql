-- Login throttling (issue 12, item 5): one row per (tenant, login) and per client IP, with
-- exponential backoff. See workers/auth/throttle.ts for the policy.
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,                        -- 'login:["{tenant}","{login}"]' or 'ip:{address}'
  attempts INTEGER NOT NULL,                   -- counted since the last success or quiet period
  blocked_until INTEGER NOT NULL,              -- ms; no attempt is checked before then
  last_at INTEGER NOT NULL                     -- ms of the last counted attempt
);

-- API keys (issue 12, item 10): an ingest key writes (interactions, mail, SMS), a read key reads
-- (history, notes, messages, attachments, the outbox); each belongs to one tenant, stored as the
-- SHA-256 of the key. A hash is unique across kinds, so one key is never both.
CREATE TABLE tenant_keys (
  key_hash TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  kind TEXT NOT NULL CHECK (kind IN ('ingest', 'read')),
  created_at INTEGER NOT NULL
);
CREATE INDEX tenant_keys_tenant ON tenant_keys (tenant_id, kind);
-- The one key each tenant had could read and write: it stays, as an ingest key only.
INSERT INTO tenant_keys (key_hash, tenant_id, kind, created_at) SELECT ingest_key_hash, id, 'ingest', created_at FROM tenants;
-- tenants.ingest_key_hash (NOT NULL UNIQUE, which SQLite cannot drop) no longer holds a credential.
UPDATE tenants SET ingest_key_hash = 'moved:' || id;
