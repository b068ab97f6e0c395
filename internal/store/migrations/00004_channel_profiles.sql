-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.
-- What a channel shows (owner, category, title, tags...), follows, the
-- pointer from a channel to its live session, and viewer figures per
-- broadcast. The profile is a table of its own, one row per channel, so the
-- core channels table (and its key index) stays as the video core made it.

-- +goose Up
CREATE TABLE channel_profiles (
    channel_id  TEXT    NOT NULL PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    -- A copy of channels.slug (which never changes), so that directory
    -- pages are read in (category, slug) index order.
    slug        TEXT    NOT NULL,
    -- NULL for channels made with `livehouse channel create`.
    owner_id    TEXT    REFERENCES users (id) ON DELETE SET NULL,
    category    TEXT    NOT NULL,
    title       TEXT    NOT NULL DEFAULT '',
    bio         TEXT    NOT NULL DEFAULT '',
    -- Normalised tags joined by single spaces (tags never contain spaces);
    -- channel_tags holds the same tags for browsing by tag.
    tags        TEXT    NOT NULL DEFAULT '',
    language    TEXT    NOT NULL DEFAULT '',
    mature      INTEGER NOT NULL DEFAULT 0,
    avatar      TEXT    NOT NULL DEFAULT '',
    suspended   INTEGER NOT NULL DEFAULT 0,
    -- Lower-case slug, display name, title and tags, for search.
    search_text TEXT    NOT NULL DEFAULT '',
    updated_at  BIGINT  NOT NULL
);

CREATE INDEX channel_profiles_owner ON channel_profiles (owner_id);
CREATE INDEX channel_profiles_slug ON channel_profiles (slug);
CREATE INDEX channel_profiles_category_slug ON channel_profiles (category, slug);

INSERT INTO channel_profiles (channel_id, slug, category, search_text, updated_at)
SELECT id, slug, 'other', LOWER(slug || ' ' || display_name), created_at FROM channels;

CREATE TABLE channel_tags (
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    tag        TEXT NOT NULL,
    PRIMARY KEY (channel_id, tag)
);

CREATE INDEX channel_tags_tag ON channel_tags (tag, channel_id);

CREATE TABLE follows (
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id TEXT   NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

CREATE INDEX follows_channel ON follows (channel_id);

ALTER TABLE live_sessions ADD COLUMN viewers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE live_sessions ADD COLUMN peak_viewers INTEGER NOT NULL DEFAULT 0;
-- Sum of viewers x milliseconds; divided by the duration it is the average.
ALTER TABLE live_sessions ADD COLUMN viewer_ms BIGINT NOT NULL DEFAULT 0;

-- At most one row per channel: the session the directory shows as live,
-- with copies of the sort keys (viewers, slug) and the category, so that a
-- page of live channels is read in index order and stops at the page size.
CREATE TABLE live_channels (
    channel_id TEXT    NOT NULL PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    session_id TEXT    NOT NULL REFERENCES live_sessions (id) ON DELETE CASCADE,
    viewers    INTEGER NOT NULL DEFAULT 0,
    slug       TEXT    NOT NULL,
    category   TEXT    NOT NULL
);

CREATE INDEX live_channels_rank ON live_channels (viewers DESC, slug);
CREATE INDEX live_channels_category_rank ON live_channels (category, viewers DESC, slug);
CREATE INDEX live_channels_session ON live_channels (session_id);

INSERT INTO live_channels (channel_id, session_id, slug, category)
SELECT o.channel_id, o.session_id, c.slug, 'other'
FROM (SELECT channel_id, MAX(id) AS session_id FROM live_sessions WHERE ended_at IS NULL GROUP BY channel_id) o
JOIN channels c ON c.id = o.channel_id;

-- +goose Down
DROP TABLE live_channels;
ALTER TABLE live_sessions DROP COLUMN viewer_ms;
ALTER TABLE live_sessions DROP COLUMN peak_viewers;
ALTER TABLE live_sessions DROP COLUMN viewers;
DROP TABLE follows;
DROP TABLE channel_tags;
DROP TABLE channel_profiles;
