-- The control database: which shard holds each tenant's contact history, in which jurisdiction,
-- and whether its doors are open. Small and read through a per-isolate cache (workers/tenancy/).
CREATE TABLE tenant_directory (
  tenant_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- The D1 binding of its shard (SHARDS in wrangler.toml).
  shard TEXT NOT NULL,
  jurisdiction TEXT NOT NULL CHECK (jurisdiction IN ('eu', 'global')),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleting')),
  status_reason TEXT,
  -- Set while the tenant is copied to another shard: its doors hold their writes until it is cleared.
  moving_to TEXT,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX tenant_directory_shard ON tenant_directory (shard);

-- Each move between shards, as it went: copied and verified row counts, or why it stopped.
CREATE TABLE tenant_moves (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  from_shard TEXT NOT NULL,
  to_shard TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('copying', 'done', 'failed')),
  rows_copied INTEGER NOT NULL DEFAULT 0,
  detail TEXT,
  -- The mover's heartbeat: a move whose heartbeat stopped (its request died) can be aborted.
  beat_at INTEGER,
  started_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE INDEX tenant_moves_tenant ON tenant_moves (tenant_id, started_at);

-- The platform's own audit trail: who created, suspended, resumed, moved or deleted which tenant.
CREATE TABLE platform_audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  data TEXT NOT NULL DEFAULT '{}'
);
