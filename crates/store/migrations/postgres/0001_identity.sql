-- Identity, audit, outbox, webhooks, jobs and idempotency: the platform foundation.
-- Instants are integer milliseconds since the Unix epoch (UTC); ids are UUIDv7 (native uuid).

CREATE TABLE orgs (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    timezone    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE users (
    id             UUID PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    locale         TEXT,
    timezone       TEXT,
    is_operator    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE memberships (
    org_id      UUID NOT NULL REFERENCES orgs(id),
    user_id     UUID NOT NULL REFERENCES users(id),
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE invitations (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES orgs(id),
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   UUID NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    accepted_at  BIGINT
);
CREATE INDEX invitations_org ON invitations(org_id, id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users(id),
    org_id      UUID REFERENCES orgs(id),
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id            UUID PRIMARY KEY,
    org_id        UUID NOT NULL REFERENCES orgs(id),
    user_id       UUID NOT NULL REFERENCES users(id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX api_tokens_org ON api_tokens(org_id, id);

CREATE TABLE grants (
    id              UUID PRIMARY KEY,
    org_id          UUID NOT NULL REFERENCES orgs(id),
    grantee_org_id  UUID NOT NULL REFERENCES orgs(id),
    project_id      UUID NOT NULL,
    entity_filter   TEXT NOT NULL,
    permissions     TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    created_by      UUID NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX grants_org ON grants(org_id, id);
CREATE INDEX grants_grantee ON grants(grantee_org_id, project_id);

CREATE TABLE audit_log (
    id           UUID PRIMARY KEY,
    org_id       UUID,
    actor_id     UUID,
    token_id     UUID,
    action       TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    UUID,
    before       TEXT,
    after        TEXT,
    at           BIGINT NOT NULL
);
CREATE INDEX audit_org ON audit_log(org_id, id);

CREATE TABLE outbox (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           UUID NOT NULL UNIQUE,
    org_id       UUID,
    kind         TEXT NOT NULL,
    entity_type  TEXT NOT NULL,
    entity_id    UUID,
    payload      TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX outbox_org ON outbox(org_id, seq);

CREATE TABLE consumer_offsets (
    consumer  TEXT PRIMARY KEY,
    seq       BIGINT NOT NULL
);

CREATE TABLE webhooks (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES orgs(id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX webhooks_org ON webhooks(org_id, id);

CREATE TABLE webhook_deliveries (
    id             UUID PRIMARY KEY,
    org_id         UUID NOT NULL,
    webhook_id     UUID NOT NULL REFERENCES webhooks(id),
    event_id       UUID NOT NULL,
    event_kind     TEXT NOT NULL,
    attempt        BIGINT NOT NULL,
    status_code    BIGINT,
    error          TEXT,
    duration_ms    BIGINT NOT NULL,
    at             BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(webhook_id, id);

CREATE TABLE jobs (
    id                UUID PRIMARY KEY,
    org_id            UUID,
    kind              TEXT NOT NULL,
    payload           TEXT NOT NULL,
    priority          BIGINT NOT NULL,
    status            TEXT NOT NULL,
    attempts          BIGINT NOT NULL DEFAULT 0,
    max_attempts      BIGINT NOT NULL,
    run_after         BIGINT NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  BIGINT,
    last_error        TEXT,
    result            TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(status, priority DESC, run_after);
CREATE INDEX jobs_org ON jobs(org_id, id);

CREATE TABLE idempotency_keys (
    org_id        UUID NOT NULL,
    user_id       UUID NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id, key)
);
