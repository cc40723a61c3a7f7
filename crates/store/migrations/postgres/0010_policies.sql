-- Access policies: conditions on one machine's or token's access, binding one project
-- (application and project) or, when both are '', everything it reaches. The spec is the
-- policy file as JSON. Counters hold the reads counted against its caps. Audit entries
-- gain a detail: for a refusal, the condition that failed. Keep in step with
-- ../sqlite/0010_policies.sql.

CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT COLLATE "C" NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('machine', 'token')),
    subject_id TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    application TEXT NOT NULL,
    project TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vault_id, name)
);

CREATE INDEX policies_subject ON policies (subject_id);

CREATE TABLE policy_counters (
    policy_id TEXT PRIMARY KEY REFERENCES policies (id) ON DELETE CASCADE,
    minute_start BIGINT NOT NULL,
    minute_count BIGINT NOT NULL,
    day_start BIGINT NOT NULL,
    day_count BIGINT NOT NULL,
    total BIGINT NOT NULL
);

ALTER TABLE audit_events ADD COLUMN detail TEXT NOT NULL DEFAULT '';
