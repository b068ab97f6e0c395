-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.

-- +goose Up
-- One row per recipient; id names the event, shared by all its recipients.
CREATE TABLE notifications (
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id           TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    channel_id   TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    broadcast_id TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    read_at      BIGINT,
    PRIMARY KEY (user_id, id)
);

CREATE INDEX notifications_user_created ON notifications (user_id, created_at, id);

CREATE TABLE webhooks (
    id         TEXT   NOT NULL PRIMARY KEY,
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    url        TEXT   NOT NULL,
    events     TEXT   NOT NULL, -- event names joined by ','
    -- Kept in clear text: the server must sign every delivery with it.
    secret     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX webhooks_channel ON webhooks (channel_id);

-- The delivery queue (an outbox): rows survive restarts and are retried.
CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY,
    webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL, -- pending | delivered | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT  NOT NULL,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE settings (
    name       TEXT   NOT NULL PRIMARY KEY,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE notifications;
