-- 0002: drop the CHECK (json_valid(...)) constraints of calls.snapshot, calls.state and
-- call_events.payload.
--
-- Why: SQLite parses the whole text on every insert and update to evaluate them (about 2 KB per
-- call_events row, about 2 KB per calls row), on the DB thread, for text that our own serializer
-- (nlohmann::json::dump) has just written. bench/README.md ("store-speed") has the figures.
-- Every other constraint stays.
--
-- SQLite cannot drop a CHECK with ALTER TABLE, so each table is rebuilt the documented way
-- (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"): create the new
-- table, copy every row (seq values included), drop the old one, rename the new one, recreate its
-- indexes. The migration runner wraps this file in one transaction with foreign_keys OFF (otherwise
-- DROP TABLE call_events would delete the outbox rows through ON DELETE CASCADE) and runs
-- PRAGMA foreign_key_check before COMMIT. outbox is not rebuilt: its REFERENCES call_events (id)
-- names the table, which exists again under that name once the new table is renamed.

CREATE TABLE calls_new (
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
  snapshot      TEXT    NOT NULL DEFAULT '{}',  -- JSON object: payload keys, no id/type/raw
  state         TEXT    NOT NULL DEFAULT '{}'   -- JSON object: what tracker::restore() needs
) STRICT;

-- rowid is copied too: `calls` listings break ties on started_at_ms by rowid.
INSERT INTO calls_new (rowid, call_id, account_id, status, direction, answered, user_id,
                       started_at_ms, updated_at_ms, ended_at_ms, snapshot, state)
  SELECT rowid, call_id, account_id, status, direction, answered, user_id,
         started_at_ms, updated_at_ms, ended_at_ms, snapshot, state
  FROM calls ORDER BY rowid;
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;

CREATE INDEX calls_started ON calls (started_at_ms DESC);
CREATE INDEX calls_account_started ON calls (account_id, started_at_ms DESC);
CREATE INDEX calls_open ON calls (started_at_ms) WHERE status <> 'ended';

CREATE TABLE call_events_new (
  seq            INTEGER NOT NULL PRIMARY KEY,  -- insertion order; tie-break for equal timestamps
  id             TEXT    NOT NULL UNIQUE,
  type           TEXT    NOT NULL,
  call_id        TEXT    NOT NULL,
  account_id     TEXT    NOT NULL,
  user_id        TEXT,
  direction      TEXT    NOT NULL,
  occurred_at_ms INTEGER NOT NULL,
  payload        TEXT    NOT NULL  -- JSON object exactly as a hook receives it
) STRICT;

INSERT INTO call_events_new (seq, id, type, call_id, account_id, user_id, direction, occurred_at_ms,
                             payload)
  SELECT seq, id, type, call_id, account_id, user_id, direction, occurred_at_ms, payload
  FROM call_events ORDER BY seq;
DROP TABLE call_events;
ALTER TABLE call_events_new RENAME TO call_events;

CREATE INDEX call_events_occurred ON call_events (occurred_at_ms, seq);
CREATE INDEX call_events_call ON call_events (call_id, occurred_at_ms, seq);
CREATE INDEX call_events_type ON call_events (type, occurred_at_ms, seq);
CREATE INDEX call_events_account ON call_events (account_id, occurred_at_ms, seq);
