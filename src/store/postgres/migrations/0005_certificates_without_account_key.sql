-- Every upload checked its account with a foreign key, which share-locks the account's row:
-- concurrent uploads of one account then share it through a MultiXact, and the check and its
-- locking were a quarter of PostgreSQL's work per upload (issue 24, by profile). Accounts are
-- never deleted and a certificate is only ever stored for the caller's own account, so the
-- store's own rule stands in for the constraint. Keys and tags keep theirs (their parent is
-- the certificate stored in the same statement).
ALTER TABLE certificates DROP CONSTRAINT IF EXISTS certificates_account_id_fkey;
