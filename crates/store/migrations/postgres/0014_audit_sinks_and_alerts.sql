-- Mirroring the audit log and alerting on it. Each sink (a JSON-lines file, an HTTP
-- endpoint, the alert matcher) reads every vault's entries in chain order and keeps its
-- own cursor per vault, so it resumes where it stopped and never skips an entry; a lease
-- lets one node at a time feed a sink. Alert rules match entries; each match becomes a
-- delivery, kept until it is delivered (with retries and backoff) so none is lost to a
-- restart. Keep in step with ../sqlite/0014_audit_sinks_and_alerts.sql.

CREATE TABLE audit_sink_cursors (
    sink TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (sink, vault_id)
);

CREATE TABLE audit_sink_leases (
    sink TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);

CREATE TABLE alert_rules (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    destination TEXT NOT NULL,
    sealed_secret BYTEA,
    actions TEXT NOT NULL,
    min_severity TEXT,
    outcome TEXT,
    target_prefix TEXT,
    actor_kind TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vault_id, name)
);

CREATE TABLE alert_deliveries (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
