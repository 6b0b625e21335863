-- E-mail Server and Web API Server: messages in and out, threading, the local outbox, web forms,
-- web callbacks, and fixed-window rate counters.

-- Mail arriving through email() names only a recipient: this finds its tenant. Kept in step with
-- each tenant's config (mailboxes); an address belongs to one tenant.
CREATE TABLE mailbox_routes (
  address TEXT PRIMARY KEY,                   -- lowercased, without +tag
  tenant_id TEXT NOT NULL
);
CREATE INDEX mailbox_routes_tenant ON mailbox_routes (tenant_id);

-- One row per email message, received or sent. An inbound message belongs to the interaction it
-- opened or joined; an outbound one to its reply interaction.
CREATE TABLE emails (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  message_id TEXT NOT NULL,                   -- without <>; for inbound mail lacking one: 'sha256.<hex of the raw bytes>@parley'
  in_reply_to TEXT,
  refs TEXT NOT NULL DEFAULT '[]',            -- JSON list of Message-IDs (References)
  mailbox TEXT,                               -- our address it came to or goes from
  from_addr TEXT,
  from_name TEXT,
  to_addrs TEXT NOT NULL DEFAULT '[]',        -- JSON [{ addr, name }]
  cc_addrs TEXT NOT NULL DEFAULT '[]',
  bcc_addrs TEXT NOT NULL DEFAULT '[]',
  reply_to TEXT,
  subject TEXT,
  date INTEGER,                               -- the Date header (inbound), ms
  raw_key TEXT,                               -- R2: the message exactly as received or sent
  raw_size INTEGER,
  headers TEXT NOT NULL DEFAULT '[]',         -- JSON [[name, value]] as received (capped)
  flags TEXT NOT NULL DEFAULT '[]',           -- JSON: parse_failed, no_message_id, automatic, spam, ...
  status TEXT NOT NULL,                       -- inbound: received; outbound: draft | review | sending | sent | outbox | failed
  auto INTEGER NOT NULL DEFAULT 0,            -- 1: an automatic reply (acknowledgement, auto-response)
  author TEXT,                                -- outbound: the agent who wrote it
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  transport TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
-- Exactly once: one inbound row per Message-ID per tenant.
CREATE UNIQUE INDEX emails_inbound_message ON emails (tenant_id, message_id) WHERE direction = 'inbound';
CREATE INDEX emails_interaction ON emails (tenant_id, interaction_id, created_at);

-- Message-IDs Parley received or sent, and the thread and contact each belongs to. A reply joins
-- a thread through these only when it comes from that thread's contact: a newsletter answered by
-- two customers gives two threads (each customer's first reply adds its own row here).
CREATE TABLE email_refs (
  tenant_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  contact_id TEXT,
  interaction_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, message_id, thread_id)
);

-- Each email thread's subject tag ([#K7Q2M]) and normalized subject (the optional subject match).
CREATE TABLE email_threads (
  tenant_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  tag TEXT NOT NULL,
  contact_id TEXT,
  subject_norm TEXT NOT NULL,
  mailbox TEXT,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, thread_id)
);
CREATE UNIQUE INDEX email_threads_tag ON email_threads (tenant_id, tag);
CREATE INDEX email_threads_subject ON email_threads (tenant_id, contact_id, subject_norm, last_at);

-- The workflow entry work came in through: its reply settings (QA review, mailbox) follow it.
ALTER TABLE interactions ADD COLUMN workflow TEXT;

-- Parts now belong to one message of the interaction (an interaction may hold several messages).
ALTER TABLE message_parts ADD COLUMN email_id TEXT;

-- The local transport: what would have been delivered, plainly never sent.
CREATE TABLE outbox (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  email_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  mail_from TEXT NOT NULL,
  rcpt_to TEXT NOT NULL,                      -- JSON list (To, Cc and Bcc)
  subject TEXT,
  raw_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  auto INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX outbox_email ON outbox (tenant_id, email_id);
CREATE INDEX outbox_created ON outbox (tenant_id, created_at);

-- Web callbacks: what the customer asked for; the interaction carries the routing state.
CREATE TABLE callbacks (
  tenant_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  phone TEXT NOT NULL,                        -- E.164
  name TEXT,
  topic TEXT,
  window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL,
  token_hash TEXT NOT NULL,                   -- sha256 of the customer's cancel token
  attempts INTEGER NOT NULL DEFAULT 0,
  outcome TEXT,                               -- reached | no_answer | busy | wrong_number | cancelled
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, interaction_id)
);

-- Fixed-window counters: form posts per IP, automatic replies per sender.
CREATE TABLE rate_counters (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL
);

-- Standard responses and screening rules live in the tenant config (validated with it: an unknown
-- field code is refused at load). These placeholders from 0001 were never used.
DROP TABLE standard_responses;
DROP TABLE screening_rules;

CREATE INDEX emails_sending ON emails (status, updated_at) WHERE status = 'sending';
