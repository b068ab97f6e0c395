-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.

-- +goose Up
-- One row per channel that has ever had a chat room. last_seq is the room's
-- sequencer: every room event takes the next number in the same transaction
-- that stores it, so all nodes agree on one order.
CREATE TABLE rooms (
    channel_id TEXT   NOT NULL PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    last_seq   BIGINT NOT NULL DEFAULT 0,
    settings   TEXT   NOT NULL DEFAULT '{}'
);

-- Every sequenced room event: chat messages, deletions, moderator actions,
-- polls, questions and reaction windows. media_ms is the broadcast's media
-- time (the stream clock) when the event happened, -1 when off the air.
CREATE TABLE room_events (
    channel_id   TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    seq          BIGINT NOT NULL,
    kind         TEXT   NOT NULL,
    user_id      TEXT   NOT NULL DEFAULT '',
    broadcast_id TEXT   NOT NULL DEFAULT '',
    media_ms     BIGINT NOT NULL DEFAULT -1,
    created_at   BIGINT NOT NULL,
    payload      TEXT   NOT NULL,
    PRIMARY KEY (channel_id, seq)
);

CREATE INDEX room_events_broadcast ON room_events (broadcast_id, media_ms, seq);
CREATE INDEX room_events_created ON room_events (created_at);

CREATE TABLE room_moderators (
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

-- Bans and timeouts: until_ms is 0 for a ban, the end of a timeout otherwise.
CREATE TABLE room_bans (
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    until_ms   BIGINT NOT NULL,
    reason     TEXT   NOT NULL DEFAULT '',
    actor_id   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);

-- channel_id '' holds the server-wide list. action: block | hold.
CREATE TABLE blocked_terms (
    channel_id TEXT   NOT NULL,
    term       TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, term)
);

-- Messages held for review by a blocked term with action hold.
CREATE TABLE held_messages (
    id         TEXT   NOT NULL PRIMARY KEY,
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    term       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX held_messages_channel ON held_messages (channel_id, created_at);

CREATE TABLE mod_audit (
    id         TEXT   NOT NULL PRIMARY KEY,
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    actor_id   TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    target     TEXT   NOT NULL DEFAULT '',
    detail     TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE INDEX mod_audit_channel ON mod_audit (channel_id, created_at, id);

CREATE TABLE polls (
    id           TEXT    NOT NULL PRIMARY KEY,
    channel_id   TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    broadcast_id TEXT    NOT NULL DEFAULT '',
    question     TEXT    NOT NULL,
    options      TEXT    NOT NULL, -- JSON array of strings
    opened_by    TEXT    NOT NULL,
    opened_at    BIGINT  NOT NULL,
    closes_at    BIGINT  NOT NULL,
    closed_at    BIGINT,
    media_ms     BIGINT  NOT NULL DEFAULT -1
);

CREATE INDEX polls_channel ON polls (channel_id, opened_at);

-- One vote per account: the primary key refuses a second one.
CREATE TABLE poll_votes (
    poll_id    TEXT    NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    option_idx INTEGER NOT NULL,
    media_ms   BIGINT  NOT NULL DEFAULT -1,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (poll_id, user_id)
);

CREATE TABLE questions (
    id           TEXT    NOT NULL PRIMARY KEY,
    channel_id   TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    broadcast_id TEXT    NOT NULL DEFAULT '',
    user_id      TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    state        TEXT    NOT NULL, -- pending | approved | answered | dismissed
    pinned       INTEGER NOT NULL DEFAULT 0,
    votes        INTEGER NOT NULL DEFAULT 0,
    media_ms     BIGINT  NOT NULL DEFAULT -1,
    created_at   BIGINT  NOT NULL
);

CREATE INDEX questions_channel ON questions (channel_id, created_at);

CREATE TABLE question_votes (
    question_id TEXT   NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    user_id     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (question_id, user_id)
);

-- +goose Down
DROP TABLE question_votes;
DROP TABLE questions;
DROP TABLE poll_votes;
DROP TABLE polls;
DROP TABLE mod_audit;
DROP TABLE held_messages;
DROP TABLE blocked_terms;
DROP TABLE room_bans;
DROP TABLE room_moderators;
DROP TABLE room_events;
DROP TABLE rooms;
