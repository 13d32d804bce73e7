-- 0005: REST hook subscriptions and their delivery attempt log (issue #4, docs/hooks.md).
--
-- A subscription's deliveries are outbox rows (0001) whose destination is 'hook:' || hooks.id, written in
-- the same transaction as the lifecycle event they carry (design.md, "the one rule"). Times are Unix
-- milliseconds.

-- One row per subscription (POST /api/v1/hooks).
--   id:        "hook_" + 128 random bits, unguessable (it is also the path of DELETE /api/v1/hooks/{id}).
--   owner:     the Kazoo account and user the access token was issued to, the OAuth client and the grant
--              (the token family); revoking the grant stops its subscriptions.
--   secret:    "whsec_" + base64 of 32 random bytes (Standard Webhooks). Kept in clear: every attempt
--              signs with it (HMAC needs the key itself, so it cannot be stored as a hash).
--   status:    active | disabled. A disabled subscription gets no new outbox rows and its pending rows
--              wait; re-enabling it delivers what is still pending.
--   failing_since_ms: the first failed attempt after the last success (NULL while healthy); the
--              subscription is disabled once it has failed without a success for [hooks] disable_after.
CREATE TABLE hooks (
  id               TEXT    NOT NULL PRIMARY KEY,
  account_id       TEXT    NOT NULL,
  user_id          TEXT    NOT NULL,
  client_id        TEXT,
  grant_id         TEXT,
  target_url       TEXT    NOT NULL,
  event            TEXT    NOT NULL,             -- a lifecycle type (design.md) or '*'
  scope            TEXT    NOT NULL CHECK (scope IN ('user', 'account')),
  filters          TEXT    NOT NULL DEFAULT '{}', -- JSON object: direction, user_id, include_internal
  secret           TEXT    NOT NULL,
  status           TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason  TEXT,
  failing_since_ms INTEGER,
  last_success_ms  INTEGER,
  created_at_ms    INTEGER NOT NULL,
  updated_at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX hooks_owner ON hooks (account_id, user_id);
CREATE INDEX hooks_grant ON hooks (grant_id) WHERE grant_id IS NOT NULL;

-- One row per HTTP attempt (GET /api/v1/hooks/{id}/deliveries), newest first by id.
--   outcome: delivered (2xx) | retry (429, 5xx, timeout, network error; next_retry_at_ms set) |
--            failed (other 4xx, or the retry schedule is exhausted) | gone (410: the hook is deleted).
--   status_code is NULL when no HTTP status arrived (timeout, refused connection); error says why.
--   response_snippet: the first bytes of the response body, cut at a small cap.
CREATE TABLE hook_deliveries (
  id               INTEGER NOT NULL PRIMARY KEY,
  hook_id          TEXT    NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
  event_id         TEXT    NOT NULL,
  attempt          INTEGER NOT NULL,
  attempted_at_ms  INTEGER NOT NULL,
  duration_ms      INTEGER NOT NULL,
  outcome          TEXT    NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed', 'gone')),
  status_code      INTEGER,
  error            TEXT,
  response_snippet TEXT,
  next_retry_at_ms INTEGER
) STRICT;
CREATE INDEX hook_deliveries_hook ON hook_deliveries (hook_id, id);
CREATE INDEX hook_deliveries_event ON hook_deliveries (hook_id, event_id);
