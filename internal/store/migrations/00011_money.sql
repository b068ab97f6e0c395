-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.

-- +goose Up
-- The client network (an IPv4 address, an IPv6 /64) an impression came
-- from, so that one network counts as a household of viewers per break,
-- not as many as a script makes up viewer ids.
ALTER TABLE ad_impressions ADD COLUMN network TEXT NOT NULL DEFAULT '';
CREATE INDEX ad_impressions_network ON ad_impressions (break_id, network);

-- +goose Down
DROP INDEX ad_impressions_network;
ALTER TABLE ad_impressions DROP COLUMN network;
