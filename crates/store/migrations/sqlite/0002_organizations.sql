-- Organizations: plans, soft deletion, member standing, verified email addresses,
-- invites, invite links and the first audit entries. Keep in step with
-- ../postgres/0002_organizations.sql.

ALTER TABLE vaults ADD COLUMN plan TEXT NOT NULL DEFAULT 'free';
ALTER TABLE vaults ADD COLUMN deleted_at INTEGER;
ALTER TABLE vaults ADD COLUMN deleted_by TEXT;
CREATE UNIQUE INDEX organization_names_per_owner ON vaults (owner_id, name)
    WHERE kind = 'organization';
CREATE INDEX vaults_deleted ON vaults (deleted_at) WHERE deleted_at IS NOT NULL;

ALTER TABLE memberships ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'suspended'));
ALTER TABLE memberships ADD COLUMN status_changed_at INTEGER;

-- An address may be typed into any number of accounts, so signing up or changing one's
-- address never reveals whether another account uses it; only one account can hold it
-- verified. email_key is the normalized address (for matching invites);
-- verified_email_claim is unique: the address once verified, 'unverified:<user id>'
-- before. No address was verified before this migration, so every claim is released.
ALTER TABLE users RENAME COLUMN email_key TO verified_email_claim;
ALTER TABLE users ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE users SET email_key = verified_email_claim, verified_email_claim = 'unverified:' || id;
CREATE INDEX users_by_email ON users (email_key);
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

CREATE TABLE email_verifications (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email_key TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL
) STRICT;

CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    role TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    inviter_username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')),
    decided_at INTEGER
) STRICT;
CREATE UNIQUE INDEX invites_one_pending ON invites (vault_id, email_key)
    WHERE status = 'pending';
CREATE INDEX invites_by_email ON invites (email_key, status);

CREATE TABLE invite_links (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    creator_username TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses INTEGER,
    uses INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX invite_links_by_vault ON invite_links (vault_id, created_at);

-- Entries outlive the members they name; the audit issue adds the hash chain.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    vault_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    severity TEXT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    request_id TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_by_vault ON audit_events (vault_id, id);
