-- Chat (issue 4): each ended chat's record and its transcript in the contact history. The live
-- transcript belongs to the chat's ChatSession object; these rows are written once it ends
-- (idempotent: a retry after a failure writes nothing twice).

CREATE TABLE chats (
  tenant_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  ended_by TEXT NOT NULL,
  end_reason TEXT NOT NULL,
  message_count INTEGER NOT NULL,
  transcript_to TEXT,
  transcript_email_id TEXT,
  PRIMARY KEY (tenant_id, interaction_id)
);

CREATE TABLE chat_messages (
  tenant_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  author TEXT NOT NULL,
  author_name TEXT NOT NULL,
  role TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('text', 'notice', 'file')),
  text TEXT NOT NULL,
  visibility TEXT NOT NULL CHECK (visibility IN ('all', 'staff')),
  at INTEGER NOT NULL,
  file_key TEXT,
  file_type TEXT,
  file_size INTEGER,
  PRIMARY KEY (tenant_id, interaction_id, seq)
);
