-- Strongroom foundation schema (PostgreSQL). Keep in step with ../sqlite/0001_foundation.sql:
-- a test compares the two. Times are Unix milliseconds. Names use the "C" collation so
-- they sort byte by byte, exactly as in SQLite, and cursors mean the same on both.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT COLLATE "C" NOT NULL UNIQUE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    totp_sealed BYTEA,
    totp_pending_sealed BYTEA,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    personal_vault_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE vaults (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('personal', 'organization')),
    name TEXT COLLATE "C" NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (vault_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    vault_id TEXT NOT NULL REFERENCES vaults (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    stepped_up_at BIGINT,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE auth_throttle (
    key TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL
);

CREATE TABLE data_keys (
    id TEXT PRIMARY KEY,
    root_key_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX data_keys_by_root_key ON data_keys (root_key_id);

CREATE TABLE keyring_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    active_root_key_id TEXT NOT NULL,
    accounts_data_key_id TEXT NOT NULL REFERENCES data_keys (id)
);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vault_id, name)
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    data_key_id TEXT NOT NULL REFERENCES data_keys (id),
    created_at BIGINT NOT NULL,
    UNIQUE (application_id, name)
);

CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE secrets (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    latest_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by TEXT,
    UNIQUE (environment_id, name)
);
CREATE INDEX secrets_in_trash ON secrets (vault_id, deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE secret_versions (
    secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    ciphertext BYTEA NOT NULL,
    secret_type TEXT NOT NULL,
    note TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    rolled_back_from BIGINT,
    PRIMARY KEY (secret_id, version)
);
