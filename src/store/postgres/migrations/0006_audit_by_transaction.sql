-- Audit records are ordered by the transaction that wrote them instead of numbered by a second
-- write (issue 24): each record keeps its transaction's ID, and an export reads only records of
-- transactions older than the oldest one still running (the snapshot's xmin). That set never
-- changes again, so every node orders it the same way, (xid, id), and numbers it by counting
-- from its own cursor: the same `seq` everywhere, no gap, no UPDATE.
ALTER TABLE audit_records ADD COLUMN xid BIGINT;

-- Records numbered before this migration keep their order and numbers: they get negative
-- "transaction IDs" in `seq` order (below every real one), and records not numbered yet follow
-- them at 0 in `id` order, as the old export would have numbered them.
UPDATE audit_records
   SET xid = seq - (SELECT COALESCE(MAX(seq), 0) FROM audit_records) - 1
 WHERE seq IS NOT NULL;
UPDATE audit_records SET xid = 0 WHERE seq IS NULL;

ALTER TABLE audit_records
    ALTER COLUMN xid SET DEFAULT pg_current_xact_id()::text::bigint,
    ALTER COLUMN xid SET NOT NULL;

CREATE INDEX audit_records_by_transaction ON audit_records (xid, id);

-- An exporter's cursor names its last record's place as well as its number.
ALTER TABLE audit_export ADD COLUMN xid BIGINT NOT NULL DEFAULT 0,
                         ADD COLUMN id  BIGINT NOT NULL DEFAULT 0;
UPDATE audit_export e SET xid = r.xid, id = r.id FROM audit_records r WHERE r.seq = e.seq;

DROP INDEX audit_records_unnumbered;
ALTER TABLE audit_records DROP COLUMN seq;
