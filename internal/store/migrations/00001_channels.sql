-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.
-- Times are unix milliseconds; ids are random text made in Go.

-- +goose Up
CREATE TABLE channels (
    id              TEXT    NOT NULL PRIMARY KEY,
    slug            TEXT    NOT NULL,
    display_name    TEXT    NOT NULL,
    -- Hex SHA-256 of the stream key; the key itself is never stored.
    stream_key_hash TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    key_rotated_at  BIGINT  NOT NULL,
    CONSTRAINT channels_slug_key UNIQUE (slug),
    CONSTRAINT channels_stream_key_hash_key UNIQUE (stream_key_hash)
);

-- +goose Down
DROP TABLE channels;
