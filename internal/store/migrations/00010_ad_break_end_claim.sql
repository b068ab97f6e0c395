-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.

-- +goose Up
-- 1 once a node has claimed the announcement of a break's end, so the room
-- hears ad.end once however many nodes watch the clock.
ALTER TABLE ad_breaks ADD COLUMN end_announced BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE ad_breaks DROP COLUMN end_announced;
