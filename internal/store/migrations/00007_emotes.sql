-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.

-- +goose Up
-- A channel's chat emotes: :name: in a message shows the image file.
CREATE TABLE channel_emotes (
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    file       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, name)
);

-- +goose Down
DROP TABLE channel_emotes;
