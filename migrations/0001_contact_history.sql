-- Universal Contact Server: tenants, contacts, interactions, message parts, history.
-- Every row carries its tenant; every query filters on it.

CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  ingest_key_hash TEXT NOT NULL UNIQUE,       -- sha256 hex of the ingest key
  config TEXT NOT NULL,                       -- validated tenant config (JSON, passwords stripped)
  config_version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE credentials (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  login TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  password_hash TEXT NOT NULL,                -- pbkdf2-sha256$iterations$salt$hash
  PRIMARY KEY (tenant_id, login)
);

CREATE TABLE contacts (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  first_name TEXT,
  last_name TEXT,
  merged_into TEXT,                           -- set when merged away; identifiers move to the survivor
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- One identifier belongs to one contact. kind: email | phone | name; value normalized
-- (email lowercased, phone E.164, name lowercased "first last").
CREATE TABLE contact_identifiers (
  tenant_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('email', 'phone', 'name')),
  value TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  display TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, kind, value)
);
CREATE INDEX contact_identifiers_contact ON contact_identifiers (tenant_id, contact_id);

CREATE TABLE interactions (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  external_id TEXT,                           -- sender's own id: idempotency key
  media TEXT NOT NULL,
  channel TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
  subject TEXT,
  thread_id TEXT NOT NULL,
  parent_id TEXT,
  contact_id TEXT,
  state TEXT NOT NULL,
  queue TEXT,
  agent_id TEXT,
  workbin TEXT,
  priority INTEGER NOT NULL DEFAULT 0,
  categories TEXT NOT NULL DEFAULT '[]',
  attributes TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  done_at INTEGER,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX interactions_external ON interactions (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX interactions_contact ON interactions (tenant_id, contact_id, created_at);
CREATE INDEX interactions_thread ON interactions (tenant_id, thread_id, created_at);
CREATE INDEX interactions_state ON interactions (state, updated_at);

-- Message parts: text, sanitized HTML, attachments (bytes in R2 under r2_key).
CREATE TABLE message_parts (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('text', 'html', 'attachment')),
  content TEXT,
  r2_key TEXT,
  content_type TEXT,
  name TEXT,
  size INTEGER,
  sha256 TEXT,
  content_id TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX message_parts_interaction ON message_parts (tenant_id, interaction_id, seq);

-- Append-only: who did what, from which state to which, and why.
CREATE TABLE interaction_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  queue TEXT,
  agent_id TEXT,
  reason TEXT                                  -- JSON: why (assignment reasoning, reason code, ...)
);
CREATE INDEX interaction_events_interaction ON interaction_events (tenant_id, interaction_id, seq);
CREATE TRIGGER interaction_events_append_only_u BEFORE UPDATE ON interaction_events
  BEGIN SELECT RAISE(ABORT, 'interaction_events is append-only'); END;
CREATE TRIGGER interaction_events_append_only_d BEFORE DELETE ON interaction_events
  BEGIN SELECT RAISE(ABORT, 'interaction_events is append-only'); END;

CREATE TABLE notes (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  interaction_id TEXT,
  contact_id TEXT,
  author TEXT NOT NULL,
  text TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notes_interaction ON notes (tenant_id, interaction_id);

-- Filled by later capabilities (email, content analysis).
CREATE TABLE categories (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  parent_id TEXT,
  name TEXT NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE standard_responses (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  category_id TEXT,
  name TEXT NOT NULL,
  subject TEXT,
  body_text TEXT NOT NULL,
  body_html TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE screening_rules (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  expression TEXT NOT NULL,
  actions TEXT NOT NULL DEFAULT '[]',
  position INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, id)
);

-- Full-text search over contacts and message text (FTS5).
-- kind: contact | message; ref: contact id or interaction id.
CREATE VIRTUAL TABLE search_index USING fts5 (
  tenant_id UNINDEXED,
  kind UNINDEXED,
  ref UNINDEXED,
  contact_id UNINDEXED,
  body,
  tokenize = 'unicode61 remove_diacritics 2'
);
