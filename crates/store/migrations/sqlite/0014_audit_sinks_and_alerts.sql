-- Mirroring the audit log and alerting on it. Each sink (a JSON-lines file, an HTTP
-- endpoint, the alert matcher) reads every vault's entries in chain order and keeps its
-- own cursor per vault, so it resumes where it stopped and never skips an entry; a lease
-- lets one node at a time feed a sink. Alert rules match entries; each match becomes a
-- delivery, kept until it is delivered (with retries and backoff) so none is lost to a
-- restart. Keep in step with ../postgres/0014_audit_sinks_and_alerts.sql.

CREATE TABLE audit_sink_cursors (
    sink TEXT NOT NULL,
    vault_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (sink, vault_id)
) STRICT;

CREATE TABLE audit_sink_leases (
    sink TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
) STRICT;

CREATE TABLE alert_rules (
    id TEXT PRIMARY KEY,
    vault_id TEXT NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    channel TEXT NOT NULL,
    destination TEXT NOT NULL,
    sealed_secret BLOB,
    actions TEXT NOT NULL,
    min_severity TEXT,
    outcome TEXT,
    target_prefix TEXT,
    actor_kind TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (vault_id, name)
) STRICT;

CREATE TABLE alert_deliveries (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
