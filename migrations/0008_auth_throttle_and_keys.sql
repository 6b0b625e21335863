-- Login throttling (issue 12, item 5): one row per (tenant, login) and per client IP, with
-- exponential backoff. See workers/auth/throttle.ts for the policy.
CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,                        -- 'login:["{tenant}","{login}"]' or 'ip:{address}'
  attempts INTEGER NOT NULL,                   -- counted since the last success or quiet period
  blocked_until INTEGER NOT NULL,              -- ms; no attempt is checked before then
  last_at INTEGER NOT NULL                     -- ms of the last counted attempt
);
