-- A per-login token version: every agent token carries the version current when it was issued, and
-- is refused once the version moves on (password changed, role changed, login removed or renamed).
-- Keyed by agent id and never deleted with the login, so a login removed and created again under the
-- same id does not bring its old tokens back. No row: version 1.
CREATE TABLE token_versions (
  tenant_id TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, agent_id)
);
