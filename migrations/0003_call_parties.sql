-- 0003: call_parties, the users who took part in each call (GET /api/v1/calls visibility).
--
-- Why a table: calls.user_id names one user (the one the call is about now), but a call involves
-- several: the internal caller, every user rung by a ring group, the answering agent, a transfer
-- target. A user with the `calls` scope sees "the calls in which the user is a party" (issue #3).
--
-- Why this shape: the primary key is the only index, and WITHOUT ROWID makes the table that index
-- (sqlite.org/withoutrowid.html), so recording a party costs one B-tree insert and nothing else.
-- The write path adds a row only for a (call, user) pair the committed lifecycle events name
-- (their user_id and from_user_id), deduplicated per batch; INSERT ... ON CONFLICT DO NOTHING turns
-- a pair already stored into a lookup without a write. The read side probes it by (call_id,
-- user_id) for each candidate call (EXISTS), in the order of calls_account_started.
-- No foreign key: events are committed before their call row exists (a call row comes with the
-- next flush), and a call never leaves the calls table.
CREATE TABLE call_parties (
  call_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (call_id, user_id)
) STRICT, WITHOUT ROWID;

-- Calls stored before this migration: every user their events or their record name.
INSERT INTO call_parties (call_id, user_id)
  SELECT call_id, user_id FROM call_events WHERE user_id IS NOT NULL AND user_id <> ''
  UNION
  SELECT call_id, user_id FROM calls WHERE user_id IS NOT NULL AND user_id <> ''
  UNION
  SELECT call_id, json_extract(snapshot, '$.from_user_id') FROM calls
    WHERE json_valid(snapshot) AND json_type(snapshot, '$.from_user_id') = 'text'
      AND json_extract(snapshot, '$.from_user_id') <> '';
