-- The audit log's hash chain. Each entry holds an HMAC over its own fields and the
-- previous entry's MAC (prev_mac), so a changed, removed, inserted or reordered entry
-- breaks the chain; seq numbers each vault's entries from 1 in chain order. audit_heads
-- holds each vault's last seq, MAC and time (entries' times never go back, so a
-- time bound is an entry-number bound): appends lock it, which orders a vault's entries
-- across nodes, and a truncated tail shows against it. Entries written before the chain
-- existed (seq 0) are chained when the store opens. Keep in step with
-- ../postgres/0013_audit_chain.sql.

ALTER TABLE audit_events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN prev_mac TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN mac TEXT NOT NULL DEFAULT '';

CREATE TABLE audit_heads (
    vault_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    mac TEXT NOT NULL,
    at INTEGER NOT NULL
) STRICT;

-- Queries run newest first (seq descending) within a vault, narrowed by one of these.
DROP INDEX audit_events_by_vault;
CREATE INDEX audit_events_by_seq ON audit_events (vault_id, seq);
CREATE INDEX audit_events_by_actor ON audit_events (vault_id, actor_id, seq);
CREATE INDEX audit_events_by_actor_name ON audit_events (vault_id, actor_name, seq);
CREATE INDEX audit_events_by_action ON audit_events (vault_id, action, seq);
CREATE INDEX audit_events_by_target ON audit_events (vault_id, target, seq);
CREATE INDEX audit_events_by_time ON audit_events (vault_id, at, seq);
