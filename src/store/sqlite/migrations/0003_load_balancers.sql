-- Load balancers, each one row holding its listeners, domain extensions, backend servers and
-- VServer groups as a JSON document (store::load_balancers). What other rows must find or
-- guard is indexed beside it, rewritten with every change of the document.

CREATE TABLE load_balancers (
    seq            INTEGER PRIMARY KEY, -- creation order, which Describe follows
    id             TEXT    NOT NULL UNIQUE,
    account_id     TEXT    NOT NULL REFERENCES accounts (account_id),
    region_id      TEXT    NOT NULL,
    address_number INTEGER NOT NULL UNIQUE, -- the IPv4 Address as a number: never handed out twice
    client_token   TEXT,
    revision       INTEGER NOT NULL,
    document       TEXT    NOT NULL
);

CREATE INDEX load_balancers_by_scope ON load_balancers (account_id, region_id, seq);
CREATE UNIQUE INDEX load_balancers_by_client_token ON load_balancers (account_id, client_token)
    WHERE client_token IS NOT NULL;

-- Domain extensions and VServer groups, which actions name without their load balancer.
CREATE TABLE load_balancer_children (
    child_id         TEXT PRIMARY KEY,
    load_balancer_id TEXT NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE
);

CREATE INDEX load_balancer_children_by_parent ON load_balancer_children (load_balancer_id);

-- Certificates a load balancer's listeners and domain extensions name: a certificate named
-- here cannot be deleted (CertificateAndPrivateKeyIsRefered).
CREATE TABLE certificate_references (
    certificate_id   TEXT NOT NULL,
    load_balancer_id TEXT NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE,
    PRIMARY KEY (certificate_id, load_balancer_id)
);

CREATE INDEX certificate_references_by_load_balancer ON certificate_references (load_balancer_id);
