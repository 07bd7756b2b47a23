-- Hardening: a row for probe writes, used nonces kept for their window, and fields the
-- official models show that were missing.

-- /healthz writes here to learn whether the storage takes writes again after a fault.
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);

-- SignatureNonces seen, until a request carrying them could no longer pass the timestamp check.
CREATE TABLE used_nonces (
    access_key_id TEXT    NOT NULL,
    nonce         TEXT    NOT NULL,
    expires_ms    INTEGER NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
) WITHOUT ROWID;

CREATE INDEX used_nonces_by_expiry ON used_nonces (expires_ms);

-- The public key of a certificate: RSA or ECC, and its size in bits (backfilled from the PEM).
ALTER TABLE certificates ADD COLUMN encryption_algorithm  TEXT    NOT NULL DEFAULT '';
ALTER TABLE certificates ADD COLUMN encryption_key_length INTEGER NOT NULL DEFAULT 0;

-- SSL Certificates Service: tags (JSON list of [key, value]) and the ClientToken of the upload
-- that made the certificate, so that a retry answers the first result.
ALTER TABLE user_certificates ADD COLUMN tags         TEXT NOT NULL DEFAULT '[]';
ALTER TABLE user_certificates ADD COLUMN client_token TEXT;

CREATE UNIQUE INDEX user_certificates_by_client_token
    ON user_certificates (account_id, client_token) WHERE client_token IS NOT NULL;
