-- Accounts, their access keys, and server certificates with their private keys.

CREATE TABLE accounts (
    account_id                TEXT    PRIMARY KEY,
    name                      TEXT    NOT NULL,
    default_resource_group_id TEXT    NOT NULL,
    created_ms                INTEGER NOT NULL
);

CREATE TABLE access_keys (
    access_key_id TEXT    PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES accounts (account_id),
    secret        TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE server_certificates (
    seq                       INTEGER PRIMARY KEY, -- upload order, which Describe follows
    id                        TEXT    NOT NULL UNIQUE,
    account_id                TEXT    NOT NULL REFERENCES accounts (account_id),
    region_id                 TEXT    NOT NULL,
    name                      TEXT    NOT NULL,
    resource_group_id         TEXT    NOT NULL,
    fingerprint               TEXT    NOT NULL,
    common_name               TEXT    NOT NULL,
    subject_alternative_names TEXT    NOT NULL, -- JSON array of strings
    expire_ms                 INTEGER NOT NULL,
    created_ms                INTEGER NOT NULL,
    certificate_pem           TEXT    NOT NULL
);

CREATE INDEX server_certificates_by_scope
    ON server_certificates (account_id, region_id, seq);

-- Kept apart from the metadata: only crypto::SealedPrivateKey is ever written here.
CREATE TABLE server_certificate_keys (
    certificate_id TEXT PRIMARY KEY REFERENCES server_certificates (id) ON DELETE CASCADE,
    sealed_key     BLOB NOT NULL
);
