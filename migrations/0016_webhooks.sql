-- Webhooks to the Standard Webhooks specification (docs/events.md): a tenant's endpoints, each with
-- its type filter, its secret (a tenant secret named webhook-<id>, sealed like every other), the last
-- sequence handed to delivery, and each delivery's history.
CREATE TABLE webhook_endpoints (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  url TEXT NOT NULL,
  -- JSON: exact types or families ("parley.message."); empty: every event.
  types TEXT NOT NULL DEFAULT '[]',
  state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled')),
  disabled_reason TEXT,
  -- The previous secret signs too until then (a rotation's overlap).
  previous_until INTEGER,
  failing_since INTEGER,
  cursor INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE webhook_deliveries (
  tenant_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'retrying', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status INTEGER,
  last_error TEXT,
  latency_ms INTEGER,
  next_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, endpoint_id, seq)
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE state = 'retrying';
