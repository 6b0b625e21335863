-- Webhook deliveries through Cloudflare Queues (docs/events.md): the pump fans new events out into
-- delivery rows and Queue messages; each attempt, retry (the Queue's delay) and replay is a message.
-- An endpoint may ask for in-order delivery per subject: an event waits while an earlier one about the
-- same interaction or contact is still pending or retrying for that endpoint.
ALTER TABLE webhook_endpoints ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhook_deliveries ADD COLUMN subject TEXT;
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (tenant_id, endpoint_id, subject, seq) WHERE state IN ('pending', 'retrying');
-- The sweep's look for deliveries whose message was lost (a failed send, a dropped retry).
CREATE INDEX webhook_deliveries_stale ON webhook_deliveries (state, updated_at) WHERE state IN ('pending', 'retrying');
