-- Agent and CI tokens: shown once, stored as a SHA-256 hash. A revoked token keeps its
-- row (its audit entries name it) and frees its name. Scopes are projects, or single
-- environments of them ('' = every environment). Keep in step with
-- ../postgres/0009_tokens.sql.

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('agent', 'ci')),
    token_hash TEXT NOT NULL UNIQUE,
    verbs INTEGER NOT NULL,
    -- Comma-separated CIDR ranges the token is used from; empty means anywhere.
    cidrs TEXT NOT NULL,
    expires_at INTEGER,
    created_by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE UNIQUE INDEX tokens_live_name ON tokens (vault_id, name) WHERE revoked_at IS NULL;

CREATE TABLE token_scopes (
    token_id TEXT NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
    application TEXT NOT NULL,
    project TEXT NOT NULL,
    environment TEXT NOT NULL,
    PRIMARY KEY (token_id, application, project, environment)
) STRICT;
