-- What erasure, export and the retention sweep look up by, so a slice costs its own rows rather than
-- a scan of the tenant: an interaction's replies and forwards, the rows naming an R2 object (a shared
-- attachment stays while one does), and the mail rows filed by interaction.
CREATE INDEX interactions_parent ON interactions (tenant_id, parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX message_parts_r2 ON message_parts (tenant_id, r2_key) WHERE r2_key IS NOT NULL;
CREATE INDEX emails_raw ON emails (tenant_id, raw_key) WHERE raw_key IS NOT NULL;
CREATE INDEX email_refs_interaction ON email_refs (tenant_id, interaction_id);
CREATE INDEX outbox_interaction ON outbox (tenant_id, interaction_id);
