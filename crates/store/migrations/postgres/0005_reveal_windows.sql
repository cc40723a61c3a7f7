-- How many values each member revealed in the current hour, per vault: the reveal limit
-- is checked and counted in the statement that records the reveal. One row per member;
-- a new hour resets it. Keep in step with ../sqlite/0005_reveal_windows.sql.

CREATE TABLE reveal_windows (
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    window_start BIGINT NOT NULL,
    reveals BIGINT NOT NULL,
    PRIMARY KEY (vault_id, user_id)
);
