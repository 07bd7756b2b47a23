-- Accounts and their access keys; server and CA certificates with their tags and private keys;
-- certificates uploaded to the SSL Certificates Service; the keyring.
--
-- Secrets (AccessKeySecrets, private keys) are stored only sealed (crypto::envelope); each
-- sealed column has a kek_version beside it, so that `keys rewrap` finds what is left to do.

-- KEKs by version, each wrapped by the master key (which is never stored here).
CREATE TABLE key_encryption_keys (
    version    INTEGER PRIMARY KEY,
    wrapped    BLOB    NOT NULL,
    created_ms INTEGER NOT NULL
);

CREATE TABLE accounts (
    account_id                TEXT    PRIMARY KEY,
    name                      TEXT    NOT NULL,
    default_resource_group_id TEXT    NOT NULL,
    created_ms                INTEGER NOT NULL
);

CREATE TABLE access_keys (
    access_key_id TEXT    PRIMARY KEY,
    account_id    TEXT    NOT NULL REFERENCES accounts (account_id),
    sealed_secret BLOB    NOT NULL,
    kek_version   INTEGER NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE INDEX access_keys_by_kek ON access_keys (kek_version);

-- Server certificates (kind 'server') and CA certificates (kind 'ca') share a table: they are
-- described, renamed, deleted and tagged alike, and share the tag namespace ("certificate").
CREATE TABLE certificates (
    seq                        INTEGER PRIMARY KEY, -- upload order, which Describe follows
    id                         TEXT    NOT NULL UNIQUE,
    kind                       TEXT    NOT NULL CHECK (kind IN ('server', 'ca')),
    account_id                 TEXT    NOT NULL REFERENCES accounts (account_id),
    region_id                  TEXT    NOT NULL,
    name                       TEXT    NOT NULL,
    resource_group_id          TEXT    NOT NULL,
    fingerprint                TEXT    NOT NULL,
    common_name                TEXT    NOT NULL,
    subject_alternative_names  TEXT    NOT NULL, -- JSON array of strings
    expire_ms                  INTEGER NOT NULL,
    created_ms                 INTEGER NOT NULL,
    ali_cloud_certificate_id   TEXT,             -- set when made from an SSL Certificates Service one
    ali_cloud_certificate_name TEXT,
    ali_cloud_region_id        TEXT,
    certificate_pem            TEXT    NOT NULL
);

CREATE INDEX certificates_by_scope ON certificates (account_id, region_id, kind, seq);

CREATE TABLE certificate_tags (
    certificate_id TEXT NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    tag_key        TEXT NOT NULL,
    tag_value      TEXT NOT NULL,
    PRIMARY KEY (certificate_id, tag_key)
);

-- Kept apart from the metadata: only crypto::SealedPrivateKey is ever written here.
CREATE TABLE certificate_keys (
    certificate_id TEXT    PRIMARY KEY REFERENCES certificates (id) ON DELETE CASCADE,
    sealed_key     BLOB    NOT NULL,
    kek_version    INTEGER NOT NULL
);

CREATE INDEX certificate_keys_by_kek ON certificate_keys (kek_version);

-- The SSL Certificates Service (product version 2020-04-07): per account, not per region.
CREATE TABLE user_certificates (
    seq                       INTEGER PRIMARY KEY,
    cert_id                   INTEGER NOT NULL UNIQUE,
    account_id                TEXT    NOT NULL REFERENCES accounts (account_id),
    name                      TEXT    NOT NULL,
    resource_group_id         TEXT    NOT NULL,
    fingerprint               TEXT    NOT NULL,
    common_name               TEXT    NOT NULL,
    subject_alternative_names TEXT    NOT NULL, -- JSON array of strings
    issuer                    TEXT    NOT NULL,
    serial_number             TEXT    NOT NULL,
    algorithm                 TEXT    NOT NULL,
    not_before_ms             INTEGER NOT NULL,
    not_after_ms              INTEGER NOT NULL,
    created_ms                INTEGER NOT NULL,
    certificate_pem           TEXT    NOT NULL,
    sealed_key                BLOB    NOT NULL,
    kek_version               INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE INDEX user_certificates_by_kek ON user_certificates (kek_version);
