-- Issue 14: the Content Analyzer. Training examples (imported, or agents' categorisations of handled
-- work), model versions with their test reports (the weights themselves are in R2), the tenant's
-- thresholds and active version, and each interaction's classification with the agent's answer.
CREATE TABLE classifier_examples (
  tenant_id TEXT NOT NULL,
  -- SHA-256 of the text as stored: an import is idempotent on (text, category).
  text_hash TEXT NOT NULL,
  category TEXT NOT NULL,
  text TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('import', 'agent')),
  interaction_id TEXT,
  agent_id TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, text_hash, category)
);
CREATE INDEX classifier_examples_by_category ON classifier_examples (tenant_id, category, created_at);
CREATE INDEX classifier_examples_by_interaction ON classifier_examples (tenant_id, interaction_id) WHERE interaction_id IS NOT NULL;

CREATE TABLE classifier_models (
  tenant_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('training', 'ready', 'failed')),
  created_at INTEGER NOT NULL,
  created_by TEXT,
  finished_at INTEGER,
  activated_at INTEGER,
  examples INTEGER NOT NULL DEFAULT 0,
  held_out INTEGER NOT NULL DEFAULT 0,
  labels TEXT NOT NULL DEFAULT '[]',
  progress REAL NOT NULL DEFAULT 0,
  train_ms INTEGER,
  bytes INTEGER,
  report TEXT,
  error TEXT,
  PRIMARY KEY (tenant_id, version)
);

CREATE TABLE classifier_settings (
  tenant_id TEXT PRIMARY KEY,
  active_version INTEGER,
  -- The tested precision an automatic reply needs (Genesys' guidance: 85%).
  auto_precision REAL NOT NULL DEFAULT 0.85,
  -- Below this top confidence the answer is "none of these".
  out_of_scope_below REAL NOT NULL DEFAULT 0.1,
  -- Per-action thresholds an admin chose; NULL: read off the active version's report.
  auto_respond_at REAL,
  route_at REAL,
  suggest_at REAL NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);

CREATE TABLE interaction_classifications (
  tenant_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  model_version INTEGER,
  -- [{ "id", "confidence" }], most likely first; empty when no model was active.
  categories TEXT NOT NULL DEFAULT '[]',
  out_of_scope INTEGER NOT NULL DEFAULT 0,
  explanation TEXT NOT NULL DEFAULT '[]',
  -- What was classified (subject and the customer's own words), kept for the agent's feedback.
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  confirmed TEXT,
  confirmed_by TEXT,
  confirmed_at INTEGER,
  PRIMARY KEY (tenant_id, interaction_id)
);
