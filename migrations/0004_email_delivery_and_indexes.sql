-- Recipients a multi-envelope transport (send_email: one envelope per recipient) has already
-- reached, so a retry after a partial failure does not send them the message again.
ALTER TABLE emails ADD COLUMN delivered_to TEXT NOT NULL DEFAULT '[]';

-- A message's parts (drafts, sends, forwards) and a thread's messages (the thread view).
CREATE INDEX message_parts_email ON message_parts (tenant_id, email_id) WHERE email_id IS NOT NULL;
CREATE INDEX emails_thread ON emails (tenant_id, thread_id, created_at);

-- The sweep's look for messages held too long by a send or a review that never finished.
CREATE INDEX emails_held ON emails (status, updated_at) WHERE status IN ('claimed', 'reviewing');
