-- What expires next, across every account (`certificates expiring`, `/metrics`): the soonest
-- N by an index range instead of a sort of the whole table.
CREATE INDEX certificates_by_expiry ON certificates (expire_ms, id);
