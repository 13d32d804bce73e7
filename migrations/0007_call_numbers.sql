-- 0007: the per-call index of call_events keyed by a number each call gets when it is first stored,
-- instead of Kazoo's random Call-ID.
--
-- Why: an index keyed by a random id puts each new event on a leaf page of its own, and SQLite writes
-- every page a transaction changes to the WAL (8 KB) and copies it again at the checkpoint. Measured in
-- bench/sqlite_ceiling (bench/README.md, "Session 8"): call_events_call alone cost a third of the
-- store's write throughput. Numbers grow as calls arrive, so the events of the calls in progress share
-- the last few pages of call_events_call_num instead.
--
-- No table is rewritten: rows stored before this migration keep call_num 0 and stay in
-- call_events_call (rebuilt as a partial index over them), so an upgrade costs one index build, not a
-- copy of every event. Queries by call read both indexes (store/database.cpp, store/call_history.cpp).

-- The call's number: NULL for calls stored before this migration; later ones get max + 1.
ALTER TABLE calls ADD COLUMN num INTEGER;
CREATE UNIQUE INDEX calls_num ON calls (num) WHERE num IS NOT NULL;

-- The number of the event's call when it was stored; 0 when that call had none (stored earlier).
ALTER TABLE call_events ADD COLUMN call_num INTEGER NOT NULL DEFAULT 0;

DROP INDEX call_events_call;
CREATE INDEX call_events_call ON call_events (call_id, occurred_at_ms, seq) WHERE call_num = 0;
CREATE INDEX call_events_call_num ON call_events (call_num, occurred_at_ms, seq) WHERE call_num <> 0;
