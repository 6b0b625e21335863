-- A tenant's own secrets (provider tokens, relay passwords), named in its config (numbers[].secret,
-- email.transport.secret). Values are sealed with AES-GCM under a per-tenant key derived from the
-- platform's SECRETS_KEY (workers/secrets/crypto.ts); nothing here is readable without it, and the
-- admin API never returns a value.
CREATE TABLE tenant_secrets (
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  ciphertext TEXT NOT NULL,
  iv TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
) WITHOUT ROWID;
