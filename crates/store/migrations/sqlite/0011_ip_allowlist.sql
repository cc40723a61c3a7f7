-- Each vault's IP allowlist: when it holds any range, members', machines' and tokens'
-- requests in the vault must come from one of them. Keep in step with
-- ../postgres/0011_ip_allowlist.sql.

CREATE TABLE ip_allowlist (
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    cidr TEXT NOT NULL,
    note TEXT NOT NULL,
    added_by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (vault_id, cidr)
) STRICT;
