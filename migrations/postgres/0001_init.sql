-- TapPass schema, PostgreSQL flavour. Keep in step with migrations/sqlite/0001_init.sql:
-- the same tables, columns and meaning; only types differ.

CREATE TABLE agents (
    agent_id    TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- Every key: agent keys (agent_id set) and control-plane keys (admin, auditor).
-- Only the SHA-256 of the token is stored.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    agent_id    TEXT NULL REFERENCES agents (agent_id),
    role        TEXT NOT NULL CHECK (role IN ('agent', 'admin', 'auditor')),
    key_hash    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at  TEXT NOT NULL,
    revoked_at  TEXT NULL,
    replaced_by TEXT NULL
);
CREATE INDEX api_keys_agent ON api_keys (agent_id);

-- The audit chain. `canonical` holds the RFC 8785 bytes exactly as hashed; the other columns
-- are copies for filtering only and are never used for verification.
CREATE TABLE audit_events (
    seq        BIGINT PRIMARY KEY,
    audit_id   TEXT NOT NULL UNIQUE,
    ts         TEXT NOT NULL,
    event_type TEXT NOT NULL,
    agent_id   TEXT NULL,
    canonical  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_events_agent ON audit_events (agent_id, seq);
CREATE INDEX audit_events_type ON audit_events (event_type, seq);
CREATE INDEX audit_events_ts ON audit_events (ts);

-- The recorded chain head (last seq and hash): a deleted tail is detected against it. Its row
-- is also the lock every chain append takes first, which serializes appends across processes.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, NULL);
