-- Access control lists, as JSON documents like load balancers, and the lists each load
-- balancer's listeners name: a named list cannot be deleted (AclInUsed).
CREATE TABLE acls (
    seq        INTEGER PRIMARY KEY, -- creation order, which Describe follows
    id         TEXT    NOT NULL UNIQUE,
    account_id TEXT    NOT NULL REFERENCES accounts (account_id),
    region_id  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    document   TEXT    NOT NULL
);

CREATE UNIQUE INDEX acls_by_name ON acls (account_id, region_id, name);

CREATE TABLE acl_references (
    acl_id           TEXT NOT NULL REFERENCES acls (id),
    load_balancer_id TEXT NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE,
    PRIMARY KEY (acl_id, load_balancer_id)
);

CREATE INDEX acl_references_by_load_balancer ON acl_references (load_balancer_id);
