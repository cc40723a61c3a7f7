-- Access roles: which applications and projects a member may open and what they may do
-- there. The role file is kept as JSON; version grows with every edit so that every node
-- sees an edit on its next request. Keep in step with ../sqlite/0003_access_roles.sql.

CREATE TABLE access_roles (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    spec TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (vault_id, name)
);

ALTER TABLE memberships ADD COLUMN access_role_id TEXT REFERENCES access_roles (id);
CREATE INDEX memberships_by_access_role ON memberships (access_role_id)
    WHERE access_role_id IS NOT NULL;

-- An invite may carry the access role its invitee starts with.
ALTER TABLE invites ADD COLUMN access_role_id TEXT REFERENCES access_roles (id);
