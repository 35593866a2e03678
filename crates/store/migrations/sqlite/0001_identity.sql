-- Identity, audit, outbox, webhooks, jobs and idempotency: the platform foundation.
-- Instants are integer milliseconds since the Unix epoch (UTC); ids are UUIDv7 (16-byte blobs).

CREATE TABLE orgs (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE users (
    id             BLOB PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    locale         TEXT,
    timezone       TEXT,
    is_operator    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     INTEGER NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE memberships (
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    user_id     BLOB NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE invitations (
    id           BLOB PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES orgs(id),
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   BLOB NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER
);
CREATE INDEX invitations_org ON invitations(org_id, id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     BLOB NOT NULL REFERENCES users(id),
    org_id      BLOB REFERENCES orgs(id),
    csrf        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id            BLOB PRIMARY KEY,
    org_id        BLOB NOT NULL REFERENCES orgs(id),
    user_id       BLOB NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens(org_id, id);

CREATE TABLE grants (
    id              BLOB PRIMARY KEY,
    org_id          BLOB NOT NULL REFERENCES orgs(id),
    grantee_org_id  BLOB NOT NULL REFERENCES orgs(id),
    project_id      BLOB NOT NULL,
    entity_filter   TEXT NOT NULL,
    permissions     TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    created_by      BLOB NOT NULL REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE INDEX grants_org ON grants(org_id, id);
CREATE INDEX grants_grantee ON grants(grantee_org_id, project_id);

CREATE TABLE audit_log (
    id           BLOB PRIMARY KEY,
    org_id       BLOB,
    actor_id     BLOB,
    token_id     BLOB,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    BLOB,
    before       TEXT,
    after        TEXT,
    at           INTEGER NOT NULL
);
CREATE INDEX audit_org ON audit_log(org_id, id);

CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           BLOB NOT NULL UNIQUE,
    org_id       BLOB,
    kind         TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    BLOB,
    payload      TEXT NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX outbox_org ON outbox(org_id, seq);

CREATE TABLE consumer_offsets (
    consumer  TEXT PRIMARY KEY,
    seq       INTEGER NOT NULL
);

CREATE TABLE webhooks (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES orgs(id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX webhooks_org ON webhooks(org_id, id);

CREATE TABLE webhook_deliveries (
    id             BLOB PRIMARY KEY,
    org_id         BLOB NOT NULL,
    webhook_id     BLOB NOT NULL REFERENCES webhooks(id),
    event_id       BLOB NOT NULL,
    event_kind     TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    status_code    INTEGER,
    error          TEXT,
    duration_ms    INTEGER NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);

CREATE TABLE jobs (
    id                BLOB PRIMARY KEY,
    org_id            BLOB,
    kind              TEXT NOT NULL,
    payload           TEXT NOT NULL,
    priority          INTEGER NOT NULL,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    run_after         INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  INTEGER,
    last_error        TEXT,
    result            TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX jobs_ready ON jobs(status, priority DESC, run_after);
CREATE INDEX jobs_org ON jobs(org_id, id);

CREATE TABLE idempotency_keys (
    org_id        BLOB NOT NULL,
    user_id       BLOB NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id, key)
);
