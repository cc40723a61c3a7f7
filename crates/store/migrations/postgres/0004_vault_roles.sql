-- Custom vault roles: rows of the management matrix authored on the enterprise plan.
-- A member holding one has role 'custom' and points at it, so an edit reaches every
-- holder on their next request. Keep in step with ../sqlite/0004_vault_roles.sql.

CREATE TABLE vault_roles (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT NOT NULL,
    capabilities BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (vault_id, name)
);

ALTER TABLE memberships ADD COLUMN vault_role_id TEXT REFERENCES vault_roles (id);
CREATE INDEX memberships_by_vault_role ON memberships (vault_role_id)
    WHERE vault_role_id IS NOT NULL;
