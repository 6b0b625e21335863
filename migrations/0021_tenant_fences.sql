-- Moving a tenant between shards (workers/tenancy/move.ts). On the shard it leaves, 'frozen' while
-- its rows are copied (every write of them is refused, so none is left behind), then 'gone' once the
-- directory points elsewhere (a late writer is refused; only deleting its rows is allowed). On the
-- shard it arrives on, 'importing' while the copy runs. The per-table fence triggers are made by the
-- mover (one set per table that has a tenant column), so a table added later is fenced too.
CREATE TABLE tenant_fences (
  tenant_id TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('frozen', 'gone', 'importing')),
  at INTEGER NOT NULL
) WITHOUT ROWID;

-- The event log's own trigger stands still while a tenant is imported: its log comes with the copy.
DROP TRIGGER interaction_events_to_log;
CREATE TRIGGER interaction_events_to_log AFTER INSERT ON interaction_events
WHEN NOT EXISTS (SELECT 1 FROM tenant_fences WHERE tenant_id = NEW.tenant_id AND state = 'importing')
BEGIN
  INSERT INTO event_log (tenant_id, seq, type, subject, at, actor, data, history_seq)
  VALUES (
    NEW.tenant_id,
    COALESCE((SELECT MAX(seq) FROM event_log WHERE tenant_id = NEW.tenant_id), 0) + 1,
    CASE
      WHEN NEW.action = 'created' AND (SELECT media FROM interactions WHERE tenant_id = NEW.tenant_id AND id = NEW.interaction_id) = 'chat' THEN 'parley.chat.started'
      ELSE COALESCE((SELECT type FROM event_types WHERE action = NEW.action), 'parley.interaction.' || NEW.action)
    END,
    NEW.interaction_id, NEW.at, NEW.actor,
    json_object('action', NEW.action, 'from', NEW.from_state, 'to', NEW.to_state, 'queue', NEW.queue, 'agent', NEW.agent_id, 'reason', json(NEW.reason)),
    NEW.seq
  );
END;

-- History stays append-only, except for an erasure's grant, a tenant that left this shard, and a
-- failed import being cleared.
DROP TRIGGER interaction_events_append_only_d;
CREATE TRIGGER interaction_events_append_only_d BEFORE DELETE ON interaction_events
  WHEN NOT EXISTS (SELECT 1 FROM erasure_grants WHERE tenant_id = OLD.tenant_id AND interaction_id = OLD.interaction_id)
   AND NOT EXISTS (SELECT 1 FROM tenant_fences WHERE tenant_id = OLD.tenant_id AND state IN ('gone', 'importing'))
  BEGIN SELECT RAISE(ABORT, 'interaction_events is append-only'); END;
