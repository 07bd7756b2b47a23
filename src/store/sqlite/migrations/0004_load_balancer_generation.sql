-- A counter that every change of a load balancer advances in its own transaction: the data
-- plane reloads its listeners when it moves.
CREATE TABLE load_balancer_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);

INSERT INTO load_balancer_generation (id, value) VALUES (1, 0);
