-- An object's outbox flushes its transitions and log events to D1, then forgets them in its own
-- storage. A crash between the two replays the flush: each entry now carries its outbox's reference
-- (the outbox's epoch and the entry's number), and a replayed one is skipped, so neither the history
-- nor the event log (written from it by trigger) ever holds an entry twice.
ALTER TABLE interaction_events ADD COLUMN ref TEXT;
CREATE UNIQUE INDEX interaction_events_ref ON interaction_events (tenant_id, ref) WHERE ref IS NOT NULL;
ALTER TABLE event_log ADD COLUMN ref TEXT;
CREATE UNIQUE INDEX event_log_ref ON event_log (tenant_id, ref) WHERE ref IS NOT NULL;
