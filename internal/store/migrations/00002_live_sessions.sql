-- Named live_sessions so that "sessions" stays free for login sessions.

-- +goose Up
CREATE TABLE live_sessions (
    id           TEXT   NOT NULL PRIMARY KEY,
    channel_id   TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    broadcast_id TEXT   NOT NULL,
    ladder       TEXT   NOT NULL,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT,
    end_reason   TEXT   NOT NULL DEFAULT ''
);

CREATE INDEX live_sessions_channel_started ON live_sessions (channel_id, started_at DESC);

-- Small: only sessions still live. Used by EndOpenSessions at startup.
CREATE INDEX live_sessions_open ON live_sessions (channel_id) WHERE ended_at IS NULL;

-- +goose Down
DROP TABLE live_sessions;
