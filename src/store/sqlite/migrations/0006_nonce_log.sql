-- Used nonces keyed by expiry: appends touch the table's last page (the random nonces scattered
-- a batch's inserts over as many pages before), and expired ones are cut off its front. It is
-- read once, at start-up; the serving process checks its own nonces in memory.
CREATE TABLE nonce_log (
    expires_ms    INTEGER NOT NULL,
    access_key_id TEXT    NOT NULL,
    nonce         TEXT    NOT NULL,
    PRIMARY KEY (expires_ms, access_key_id, nonce)
) WITHOUT ROWID;

INSERT INTO nonce_log (expires_ms, access_key_id, nonce)
    SELECT expires_ms, access_key_id, nonce FROM used_nonces;

DROP TABLE used_nonces;
