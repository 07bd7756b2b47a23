-- Certificate orders of the SSL Certificates Service: the columns the issuance loop and the
-- lists select on, and a JSON document of the rest. The lease keeps one worker on an order.
CREATE TABLE certificate_orders (
    order_id        INTEGER PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES accounts (account_id),
    status          TEXT    NOT NULL,
    domain          TEXT    NOT NULL,
    -- The pending ACME challenge's token: a listener of the account answers its file.
    challenge_token TEXT,
    created_ms      INTEGER NOT NULL,
    next_attempt_ms INTEGER,
    not_after_ms    INTEGER,
    lease_holder    TEXT,
    lease_until_ms  INTEGER NOT NULL DEFAULT 0,
    document        TEXT    NOT NULL,
    sealed_key      BLOB,
    kek_version     INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX certificate_orders_by_account ON certificate_orders (account_id, created_ms);
CREATE INDEX certificate_orders_by_token ON certificate_orders (account_id, challenge_token)
    WHERE challenge_token IS NOT NULL;
CREATE INDEX certificate_orders_due ON certificate_orders (next_attempt_ms)
    WHERE next_attempt_ms IS NOT NULL;
CREATE INDEX certificate_orders_by_kek ON certificate_orders (kek_version)
    WHERE sealed_key IS NOT NULL;

-- Each account's ACME account at each CA directory it has ordered from, its key sealed.
CREATE TABLE acme_accounts (
    account_id         TEXT    NOT NULL REFERENCES accounts (account_id),
    directory_url      TEXT    NOT NULL,
    sealed_credentials BLOB    NOT NULL,
    kek_version        INTEGER NOT NULL,
    created_ms         INTEGER NOT NULL,
    PRIMARY KEY (account_id, directory_url)
);

CREATE INDEX acme_accounts_by_kek ON acme_accounts (kek_version);
