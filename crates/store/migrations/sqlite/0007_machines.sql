-- Machines: workloads that read secrets with their own Ed25519 identity. Only the public
-- key is stored; the fingerprint names the key in signed requests. Keep in step with
-- ../postgres/0007_machines.sql.

CREATE TABLE machines (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_key BLOB NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at INTEGER,
    registered_by TEXT NOT NULL,
    registered_by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (vault_id, name),
    UNIQUE (vault_id, fingerprint)
) STRICT;
