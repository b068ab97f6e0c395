-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.
-- Accounts, browser sign-in sessions and personal API tokens. Secrets are
-- stored only as hex SHA-256 (session and API tokens) or as an argon2id PHC
-- string (passwords).

-- +goose Up
CREATE TABLE users (
    id            TEXT   NOT NULL PRIMARY KEY,
    -- Normalised (trimmed, lower case) by the account layer.
    email         TEXT   NOT NULL,
    display_name  TEXT   NOT NULL,
    password_hash TEXT   NOT NULL,
    role          TEXT   NOT NULL, -- viewer | creator | admin
    status        TEXT   NOT NULL, -- active | suspended | banned
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE INDEX users_created ON users (created_at, id);

-- Named auth_sessions because live_sessions are broadcasts.
CREATE TABLE auth_sessions (
    token_hash TEXT   NOT NULL PRIMARY KEY,
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

CREATE TABLE api_tokens (
    id           TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    token_hash   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE auth_sessions;
DROP TABLE users;
