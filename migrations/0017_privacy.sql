-- A contact's data exported and erased (docs/privacy.md), and the retention policy's sweep.

-- One erasure per contact: re-asking answers the same job (idempotent) and an interrupted one goes on
-- where it stopped.
CREATE TABLE erasures (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  -- JSON: every contact id the person was known by (merged contacts included).
  contacts TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'done')),
  -- JSON: counts of what was removed so far, per store.
  removed TEXT NOT NULL DEFAULT '{}',
  requested_by TEXT NOT NULL,
  receipt TEXT,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX erasures_contact ON erasures (tenant_id, contact_id);
CREATE INDEX erasures_running ON erasures (updated_at) WHERE state = 'running';

-- R2 keys whose rows an erasure or the retention sweep deleted, written in the same batch: a crash
-- between the rows and the bytes leaves this list to finish, never a file nobody knows of.
CREATE TABLE pending_blob_deletes (
  tenant_id TEXT NOT NULL,
  r2_key TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, r2_key)
) WITHOUT ROWID;

-- interaction_events stays append-only, except for the rows of an interaction an erasure or the
-- retention sweep named here first, in the same batch that removes them (and then unnames it).
CREATE TABLE erasure_grants (
  tenant_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, interaction_id)
) WITHOUT ROWID;
DROP TRIGGER interaction_events_append_only_u;
DROP TRIGGER interaction_events_append_only_d;
CREATE TRIGGER interaction_events_append_only_u BEFORE UPDATE ON interaction_events
  WHEN NOT EXISTS (SELECT 1 FROM erasure_grants WHERE tenant_id = OLD.tenant_id AND interaction_id = OLD.interaction_id)
  BEGIN SELECT RAISE(ABORT, 'interaction_events is append-only'); END;
CREATE TRIGGER interaction_events_append_only_d BEFORE DELETE ON interaction_events
  WHEN NOT EXISTS (SELECT 1 FROM erasure_grants WHERE tenant_id = OLD.tenant_id AND interaction_id = OLD.interaction_id)
  BEGIN SELECT RAISE(ABORT, 'interaction_events is append-only'); END;

-- Exports: one archive in R2 per request, fetched through a signed link until it expires.
CREATE TABLE exports (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  r2_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  files INTEGER NOT NULL,
  requested_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX exports_expiry ON exports (expires_at);

-- Retention: an interaction the policy anonymised keeps its row for statistics and is not looked at again.
ALTER TABLE interactions ADD COLUMN anonymised_at INTEGER;
CREATE INDEX interactions_retention ON interactions (tenant_id, updated_at) WHERE anonymised_at IS NULL AND state IN ('done', 'stopped', 'failed');
