-- The audit trail of record: each record is inserted in the transaction of the change it
-- records. `seq` (the rowid) follows commit order: SQLite has one writer at a time.
CREATE TABLE audit_records (
    seq INTEGER PRIMARY KEY,
    line TEXT NOT NULL
);

-- How far audit.log holds the trail (its own last line says so too; the larger wins).
CREATE TABLE audit_export (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO audit_export (id, seq) VALUES (1, 0);
