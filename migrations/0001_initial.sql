-- 0001: calls, their lifecycle events, the delivery outbox and a small key/value table.
--
-- Applied once, in its own transaction, by store::database::open(); the version lives in
-- PRAGMA user_version (set by the migration runner, not here). This folder is the source of truth:
-- the build embeds these files into the library, so never edit a migration that has shipped; add
-- NNNN_next.sql instead. STRICT tables (SQLite >= 3.37) make a type error a constraint error.

-- The current state of each logical call (one row per call, upserted as the call changes).
CREATE TABLE calls (
  call_id       TEXT    NOT NULL PRIMARY KEY,
  account_id    TEXT    NOT NULL,
  -- The public contract (design.md, `kazoo-bridge calls`) allows exactly these statuses.
  status        TEXT    NOT NULL CHECK (status IN ('ringing', 'answered', 'parked', 'queued', 'ended')),
  direction     TEXT    NOT NULL,
  answered      INTEGER NOT NULL DEFAULT 0 CHECK (answered IN (0, 1)),
  user_id       TEXT,
  started_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  ended_at_ms   INTEGER,
  snapshot      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(snapshot)),  -- payload keys, no id/type/raw
  state         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(state))      -- what tracker::restore() needs
) STRICT;

-- `kazoo-bridge calls` and GET /api/v1/calls: newest first.
CREATE INDEX calls_started ON calls (started_at_ms DESC);
CREATE INDEX calls_account_started ON calls (account_id, started_at_ms DESC);
-- Start-up restore reads every call that has not ended; they are few, so a partial index.
CREATE INDEX calls_open ON calls (started_at_ms) WHERE status <> 'ended';

-- Every lifecycle event, exactly as a hook receives it. `id` is deterministic (the same event
-- re-derived after a restart has the same id), so a second insert of it is a duplicate, not a row.
CREATE TABLE call_events (
  seq            INTEGER NOT NULL PRIMARY KEY,  -- insertion order; tie-break for equal timestamps
  id             TEXT    NOT NULL UNIQUE,
  type           TEXT    NOT NULL,
  call_id        TEXT    NOT NULL,
  account_id     TEXT    NOT NULL,
  user_id        TEXT,
  direction      TEXT    NOT NULL,
  occurred_at_ms INTEGER NOT NULL,
  payload        TEXT    NOT NULL CHECK (json_valid(payload))
) STRICT;

CREATE INDEX call_events_occurred ON call_events (occurred_at_ms, seq);
CREATE INDEX call_events_call ON call_events (call_id, occurred_at_ms, seq);
CREATE INDEX call_events_type ON call_events (type, occurred_at_ms, seq);
CREATE INDEX call_events_account ON call_events (account_id, occurred_at_ms, seq);

-- One row per (event, destination), inserted in the same transaction as the event (design.md:
-- "a lifecycle event and the outbox rows for every destination that wants it are committed in the
-- same SQLite transaction"). Delivery only ever reads this table.
--   status: pending -> in_flight (claimed, lease_until_ms set) -> delivered | failed | cancelled;
--           a retryable failure goes back to pending with a later next_attempt_at_ms.
--   call_id is the ordering key: per destination, rows of one call are delivered in `id` order.
CREATE TABLE outbox (
  id                 INTEGER NOT NULL PRIMARY KEY,
  event_id           TEXT    NOT NULL REFERENCES call_events (id) ON DELETE CASCADE,
  destination        TEXT    NOT NULL,
  call_id            TEXT    NOT NULL,
  status             TEXT    NOT NULL DEFAULT 'pending',
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms INTEGER NOT NULL,
  lease_until_ms     INTEGER,
  last_status        INTEGER,   -- last HTTP status, if any
  last_error         TEXT,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  UNIQUE (event_id, destination)  -- a re-derived event never queues a second delivery
) STRICT;

-- "Due rows": the delivery loop's claim query scans only pending rows by due time.
CREATE INDEX outbox_due ON outbox (next_attempt_at_ms) WHERE status = 'pending';
-- Per-call FIFO lanes: the oldest unfinished row of (destination, call_id) goes first.
CREATE INDEX outbox_lane ON outbox (destination, call_id, id) WHERE status IN ('pending', 'in_flight');
-- (Foreign key lookups by event_id use the UNIQUE (event_id, destination) index.)

-- Small durable settings, e.g. last_event_at (where to resume CDR backfill after a restart).
CREATE TABLE meta (
  key   TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
