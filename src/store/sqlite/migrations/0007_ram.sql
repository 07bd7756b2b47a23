-- RAM (issue 12): users' AccessKeys beside the accounts' own, and each account's RAM state.
ALTER TABLE access_keys ADD COLUMN user_id TEXT;

CREATE TABLE ram_documents (
    account_id TEXT    PRIMARY KEY REFERENCES accounts (account_id),
    generation INTEGER NOT NULL,
    document   TEXT    NOT NULL
);
