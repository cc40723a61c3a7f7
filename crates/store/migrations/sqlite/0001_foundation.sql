-- Strongroom foundation schema (SQLite). Keep in step with ../postgres/0001_foundation.sql:
-- a test compares the two. Times are Unix milliseconds.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    totp_sealed BLOB,
    totp_pending_sealed BLOB,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    personal_vault_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE recovery_codes (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

CREATE TABLE vaults (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('personal', 'organization')),
    name TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (vault_id, user_id)
) STRICT;
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    vault_id TEXT NOT NULL REFERENCES vaults (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    stepped_up_at INTEGER,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_by_user ON sessions (user_id, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE auth_throttle (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    failures INTEGER NOT NULL
) STRICT;

CREATE TABLE data_keys (
    id TEXT PRIMARY KEY,
    root_key_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX data_keys_by_root_key ON data_keys (root_key_id);

CREATE TABLE keyring_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    active_root_key_id TEXT NOT NULL,
    accounts_data_key_id TEXT NOT NULL REFERENCES data_keys (id)
) STRICT;

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (vault_id, name)
) STRICT;

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data_key_id TEXT NOT NULL REFERENCES data_keys (id),
    created_at INTEGER NOT NULL,
    UNIQUE (application_id, name)
) STRICT;

CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
) STRICT;

CREATE TABLE secrets (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER,
    deleted_by TEXT,
    UNIQUE (environment_id, name)
) STRICT;
CREATE INDEX secrets_in_trash ON secrets (vault_id, deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE secret_versions (
    secret_id TEXT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    ciphertext BLOB NOT NULL,
    secret_type TEXT NOT NULL,
    note TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    rolled_back_from INTEGER,
    PRIMARY KEY (secret_id, version)
) STRICT;
