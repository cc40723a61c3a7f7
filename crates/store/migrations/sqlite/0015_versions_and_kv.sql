-- Per-version deletion (restorable; a time in the future is a scheduled deletion) and
-- destruction (the ciphertext is dropped), and the settings KV v2 clients keep per
-- secret. Settings are keyed by name, so they can exist before the secret's first
-- version, as in Vault. Keep in step with ../postgres/0015_versions_and_kv.sql.

ALTER TABLE secret_versions ADD COLUMN deletion_at INTEGER;
ALTER TABLE secret_versions ADD COLUMN destroyed_at INTEGER;

CREATE TABLE secret_settings (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    max_versions INTEGER NOT NULL DEFAULT 0,
    cas_required INTEGER NOT NULL DEFAULT 0,
    delete_version_after_ms INTEGER NOT NULL DEFAULT 0,
    custom_metadata TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (environment_id, name)
) STRICT;
