-- What machines may read: projects they are attached to (for some or all environments)
-- and single secrets granted to them, with verbs as bits of core's `Verbs`. And the
-- one-shot nonces of signed requests, kept until their timestamp is outside the window.
-- Keep in step with ../sqlite/0008_machine_access.sql.

CREATE TABLE machine_attachments (
    machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    application TEXT COLLATE "C" NOT NULL,
    project TEXT COLLATE "C" NOT NULL,
    -- Comma-separated environment names; empty means every environment.
    environments TEXT NOT NULL,
    verbs BIGINT NOT NULL,
    attached_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (machine_id, application, project)
);

CREATE TABLE machine_grants (
    machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    path TEXT COLLATE "C" NOT NULL,
    verbs BIGINT NOT NULL,
    granted_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (machine_id, path)
);

CREATE TABLE request_nonces (
    machine_id TEXT NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    nonce TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (machine_id, nonce)
);

CREATE INDEX request_nonces_expiry ON request_nonces (expires_at);
