-- A what-if for the ceiling loop only, never a migration: the call_events indexes that are not the
-- primary key or the event id's UNIQUE, dropped. call_events_call is keyed by Kazoo's random Call-ID,
-- so each lifecycle event writes an 8 KB leaf page of its own to the WAL; the other two are keyed by
-- (type | account, time). What they cost is how far the ceiling moves without them (bench/README.md,
-- "Session 8"). The API reads events by call, type and account through them, so the daemon keeps them.
--
--   sqlite_ceiling --source RUN.db --schema migrations/0001_initial.sql ... --schema migrations/0006_outbox_speed.sql \
--     --schema bench/sqlite_ceiling/without_event_indexes.sql --out NEW.db --mode mix --batch 2000 ...
DROP INDEX call_events_call;
DROP INDEX IF EXISTS call_events_call_num;  -- since migrations/0007_call_numbers.sql
DROP INDEX call_events_type;
DROP INDEX call_events_account;
