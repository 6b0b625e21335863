-- Social and messaging channels (docs/social.md): WhatsApp, Messenger, Instagram and Telegram over one
-- conversational core.

-- Which tenant a provider account belongs to (a WhatsApp phone number id, a Facebook page or an
-- Instagram account id, a Telegram bot id): a webhook knows only the account it is for.
CREATE TABLE social_accounts (
  provider TEXT NOT NULL CHECK (provider IN ('whatsapp', 'meta', 'telegram')),
  account_id TEXT NOT NULL,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (provider, account_id)
);
CREATE INDEX social_accounts_tenant ON social_accounts (tenant_id);

-- Every message in and out. Exactly once per provider message id (a wamid, a mid, a Telegram
-- bot:update_id), whatever the provider's retries; `state` says how far an inbound one got, so a retry
-- of one that failed half-way completes it instead of being turned away by its own record.
CREATE TABLE social_messages (
  tenant_id TEXT NOT NULL,
  id TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('whatsapp', 'messenger', 'instagram', 'telegram')),
  account_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  provider_id TEXT,
  interaction_id TEXT,
  client_id TEXT,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  provider_at INTEGER,
  state TEXT NOT NULL,
  flagged TEXT,
  raw TEXT,
  payload TEXT,
  error TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX social_messages_provider ON social_messages (tenant_id, channel, direction, provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX social_messages_interaction ON social_messages (tenant_id, interaction_id, created_at);

-- Media of inbound messages: fetched into R2 before the message is shown; a failed fetch stays
-- 'pending' and is retried from the Queue with backoff until stored or the provider's link expires.
CREATE TABLE social_media (
  tenant_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  ref TEXT NOT NULL,
  content_type TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'stored', 'expired', 'refused')),
  r2_key TEXT,
  size INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER,
  expires_at INTEGER NOT NULL,
  error TEXT,
  PRIMARY KEY (tenant_id, message_id, idx)
);
CREATE INDEX social_media_pending ON social_media (next_at) WHERE state = 'pending';

-- A customer on one channel and account: the conversation open now (a ChatSession), the contact,
-- and the customer's last message (the 24-hour window runs from it).
CREATE TABLE social_threads (
  tenant_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  account_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  interaction_id TEXT,
  contact_id TEXT,
  last_inbound_at INTEGER,
  conversations INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, channel, account_id, user_id)
);
CREATE INDEX social_threads_interaction ON social_threads (tenant_id, interaction_id) WHERE interaction_id IS NOT NULL;
