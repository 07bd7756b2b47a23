-- Resources of a region that are not part of a load balancer (access control lists, TLS cipher
-- policies), as JSON documents like load balancers, named uniquely per kind in their scope; and
-- the ones each load balancer's listeners name: a named resource cannot be deleted.
CREATE TABLE region_resources (
    seq        INTEGER PRIMARY KEY, -- creation order, which Describe follows
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL UNIQUE,
    account_id TEXT    NOT NULL REFERENCES accounts (account_id),
    region_id  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    document   TEXT    NOT NULL
);

CREATE UNIQUE INDEX region_resources_by_name ON region_resources (account_id, region_id, kind, name);

CREATE TABLE region_resource_references (
    resource_id      TEXT NOT NULL REFERENCES region_resources (id),
    load_balancer_id TEXT NOT NULL REFERENCES load_balancers (id) ON DELETE CASCADE,
    PRIMARY KEY (resource_id, load_balancer_id)
);

CREATE INDEX region_resource_references_by_load_balancer
    ON region_resource_references (load_balancer_id);
