-- AppRole logins (Vault's auth/approle) for machines that cannot sign requests: one
-- role id per machine, secret ids (stored hashed, expiring, revocable) and the
-- short-lived tokens a login hands out, which act as the machine. Keep in step with
-- ../sqlite/0016_approle.sql.

ALTER TABLE machines ADD COLUMN approle_role_id TEXT;
CREATE UNIQUE INDEX machines_approle_role_id ON machines (approle_role_id)
    WHERE approle_role_id IS NOT NULL;

CREATE TABLE approle_secrets (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    token_ttl_ms BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX approle_secrets_by_machine ON approle_secrets (machine_id, created_at);

CREATE TABLE machine_logins (
    token_hash TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    secret_id TEXT NOT NULL REFERENCES approle_secrets (id) ON DELETE CASCADE,
    machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX machine_logins_by_expiry ON machine_logins (expires_at);
