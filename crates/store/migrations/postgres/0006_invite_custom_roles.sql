-- An email invite may offer a custom vault role. Deleting the role is refused while a
-- pending invite offers it; older invites keep 'custom' and lose the reference.
-- Keep in step with ../sqlite/0006_invite_custom_roles.sql.

ALTER TABLE invites ADD COLUMN vault_role_id TEXT REFERENCES vault_roles (id) ON DELETE SET NULL;
