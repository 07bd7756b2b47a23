-- The whole schema of the SQLite store at its migration 6, for PostgreSQL: the same tables and
-- columns (so that `slbcert migrate` copies rows as they are), with what many writers at once
-- need besides: foreign keys that guard certificate references, audit records numbered by
-- their export rather than by their insert, and used nonces checked in the database itself.

CREATE TABLE key_encryption_keys (
    version    BIGINT PRIMARY KEY,
    wrapped    BYTEA  NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE accounts (
    account_id                TEXT   PRIMARY KEY,
    name                      TEXT   NOT NULL,
    default_resource_group_id TEXT   NOT NULL,
    created_ms                BIGINT NOT NULL
);

CREATE TABLE access_keys (
    access_key_id TEXT   PRIMARY KEY,
    account_id    TEXT   NOT NULL REFERENCES accounts (account_id),
    sealed_secret BYTEA  NOT NULL,
    kek_version   BIGINT NOT NULL,
    created_ms    BIGINT NOT NULL
);

CREATE INDEX access_keys_by_kek ON access_keys (kek_version);

CREATE TABLE certificates (
    seq                        BIGSERIAL PRIMARY KEY,
    id                         TEXT   NOT NULL UNIQUE,
    kind                       TEXT   NOT NULL CHECK (kind IN ('server', 'ca')),
    account_id                 TEXT   NOT NULL REFERENCES accounts (account_id),
    region_id                  TEXT   NOT NULL,
    name                       TEXT   NOT NULL,
    resource_group_id          TEXT   NOT NULL,
    fingerprint                TEXT   NOT NULL,
    common_name                TEXT   NOT NULL,
    subject_alternative_names  TEXT   NOT NULL,
    expire_ms                  BIGINT NOT NULL,
    created_ms                 BIGINT NOT NULL,
    ali_cloud_certificate_id   TEXT,
    ali_cloud_certificate_name TEXT,
    ali_cloud_region_id        TEXT,
    certificate_pem            TEXT   NOT NULL,
    encryption_algorithm       TEXT   NOT NULL DEFAULT '',
    encryption_key_length      BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX certificates_by_scope ON certificates (account_id, region_id, kind, seq);

CREATE TABLE certificate_tags (
    certificate_id TEXT NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    tag_key        TEXT COLLATE "C" NOT NULL, -- in byte order, as SQLite sorts
    tag_value      TEXT NOT NULL,
    PRIMARY KEY (certificate_id, tag_key)
);

CREATE TABLE certificate_keys (
    certificate_id TEXT   PRIMARY KEY REFERENCES certificates (id) ON DELETE CASCADE,
    sealed_key     BYTEA  NOT NULL,
    kek_version    BIGINT NOT NULL
);

CREATE INDEX certificate_keys_by_kek ON certificate_keys (kek_version);

CREATE TABLE user_certificates (
    seq                       BIGSERIAL PRIMARY KEY,
    cert_id                   BIGINT NOT NULL UNIQUE,
    account_id                TEXT   NOT NULL REFERENCES accounts (account_id),
    name                      TEXT   NOT NULL,
    resource_group_id         TEXT   NOT NULL,
    fingerprint               TEXT   NOT NULL,
    common_name               TEXT   NOT NULL,
    subject_alternative_names TEXT   NOT NULL,
    issuer                    TEXT   NOT NULL,
    serial_number             TEXT   NOT NULL,
    algorithm                 TEXT   NOT NULL,
    not_before_ms             BIGINT NOT NULL,
    not_after_ms              BIGINT NOT NULL,
    created_ms                BIGINT NOT NULL,
    certificate_pem           TEXT   NOT NULL,
    sealed_key                BYTEA  NOT NULL,
    kek_version               BIGINT NOT NULL,
    tags                      TEXT   NOT NULL DEFAULT '[]',
    client_token              TEXT,
    CONSTRAINT user_certificates_name UNIQUE (account_id, name)
);

CREATE INDEX user_certificates_by_kek ON user_certificates (kek_version);
CREATE UNIQUE INDEX user_certificates_by_client_token
    ON user_certificates (account_id, client_token) WHERE client_token IS NOT NULL;

CREATE TABLE load_balancers (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT   NOT NULL UNIQUE,
    account_id     TEXT   NOT NULL REFERENCES accounts (account_id),
    region_id      TEXT   NOT NULL,
    address_number BIGINT NOT NULL UNIQUE,
    client_token   TEXT,
    revision       BIGINT NOT NULL,
    document       TEXT   NOT NULL
);

CREATE INDEX load_balancers_by_scope ON load_balancers (account_id, region_id, seq);
CREATE UNIQUE INDEX load_balancers_by_client_token ON load_balancers (account_id, client_token)
    WHERE client_token IS NOT NULL;

CREATE TABLE load_balancer_children (
    child_id         TEXT PRIMARY KEY,
    load_balancer_id TEXT NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE
);

CREATE INDEX load_balancer_children_by_parent ON load_balancer_children (load_balancer_id);

-- Unlike SQLite's, the certificate side is a foreign key too: a delete and a binding made at
-- once on two nodes cannot both commit (the key's row lock orders them).
CREATE TABLE certificate_references (
    certificate_id   TEXT NOT NULL REFERENCES certificates (id),
    load_balancer_id TEXT NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE,
    PRIMARY KEY (certificate_id, load_balancer_id)
);

CREATE INDEX certificate_references_by_load_balancer ON certificate_references (load_balancer_id);

CREATE TABLE load_balancer_generation (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);

INSERT INTO load_balancer_generation (id, value) VALUES (1, 0);

-- A record is inserted in the transaction of its change, unnumbered (`seq` NULL): numbers
-- handed out at insert would not follow commit order across connections. The export numbers
-- what has committed, in one transaction at a time, so `seq` has no gaps.
CREATE TABLE audit_records (
    id   BIGSERIAL PRIMARY KEY,
    seq  BIGINT UNIQUE,
    line TEXT NOT NULL
);

CREATE INDEX audit_records_unnumbered ON audit_records (id) WHERE seq IS NULL;

-- How far each node's audit.log holds the trail, by exporter (host and path).
CREATE TABLE audit_export (
    exporter TEXT   PRIMARY KEY,
    seq      BIGINT NOT NULL
);

CREATE TABLE used_nonces (
    access_key_id TEXT   NOT NULL,
    nonce         TEXT   NOT NULL,
    expires_ms    BIGINT NOT NULL,
    PRIMARY KEY (access_key_id, nonce)
);

CREATE INDEX used_nonces_by_expiry ON used_nonces (expires_ms);

-- Progress of `slbcert migrate --from DATA_DIR`: the last source row copied, per table.
CREATE TABLE copied_from_sqlite (
    table_name TEXT   PRIMARY KEY,
    last_key   TEXT   NOT NULL,
    rows       BIGINT NOT NULL
);
