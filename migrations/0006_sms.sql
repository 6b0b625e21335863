-- SMS (issue 5): which tenant a contact-center number belongs to, every SMS in and out (one row per
-- provider message: a provider's retry finds it), and the numbers that opted out.

CREATE TABLE number_routes (
  number TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL
);
CREATE INDEX number_routes_tenant ON number_routes (tenant_id);

CREATE TABLE sms_messages (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  provider TEXT NOT NULL,
  provider_id TEXT,
  interaction_id TEXT,
  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  center TEXT NOT NULL,
  customer TEXT NOT NULL,
  body TEXT NOT NULL,
  encoding TEXT,
  segments INTEGER,
  status TEXT NOT NULL,
  keyword TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- Per tenant: a generic provider's ids (or an MM7 relay's counters) need not be unique across tenants.
CREATE UNIQUE INDEX sms_messages_provider ON sms_messages (tenant_id, provider, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX sms_messages_interaction ON sms_messages (tenant_id, interaction_id, created_at);

CREATE TABLE sms_opt_outs (
  tenant_id TEXT NOT NULL,
  center TEXT NOT NULL,
  customer TEXT NOT NULL,
  opted_out_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, center, customer)
);
