-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.

-- +goose Up
-- The double-entry ledger. Amounts are integer minor units of the
-- account's currency (COIN for coins, or a fiat code such as USD in
-- cents); there are no floats. Every transaction's entries sum to zero per
-- currency, and balance is the running sum of the account's entries,
-- updated in the same database transaction that writes them. floored
-- accounts (wallets, earnings, payouts) may never go below zero.
CREATE TABLE ledger_accounts (
    id         TEXT    NOT NULL PRIMARY KEY,
    kind       TEXT    NOT NULL,
    owner_id   TEXT    NOT NULL DEFAULT '',
    currency   TEXT    NOT NULL,
    floored    INTEGER NOT NULL,
    balance    BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL
);

-- kind: purchase, refund, chargeback, gift, tip, subscription, ad,
-- payout.request, payout.approve, payout.paid, payout.reject, receivable.
-- amount is the headline figure (coins for spends) for reports; user_id
-- the account that caused it, channel_id the channel it concerns.
CREATE TABLE ledger_txns (
    id           TEXT   NOT NULL PRIMARY KEY,
    kind         TEXT   NOT NULL,
    user_id      TEXT   NOT NULL DEFAULT '',
    channel_id   TEXT   NOT NULL DEFAULT '',
    broadcast_id TEXT   NOT NULL DEFAULT '',
    amount       BIGINT NOT NULL,
    ref          TEXT   NOT NULL DEFAULT '',
    memo         TEXT   NOT NULL DEFAULT '{}',
    created_at   BIGINT NOT NULL
);

CREATE INDEX ledger_txns_channel ON ledger_txns (channel_id, kind, created_at);
CREATE INDEX ledger_txns_created ON ledger_txns (created_at);

CREATE TABLE ledger_entries (
    txn_id     TEXT   NOT NULL REFERENCES ledger_txns (id),
    account_id TEXT   NOT NULL REFERENCES ledger_accounts (id),
    amount     BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (txn_id, account_id)
);

CREATE INDEX ledger_entries_account ON ledger_entries (account_id, created_at);

-- Idempotency keys of money requests: the same (scope, key) with the same
-- request hash answers with the first result; a different hash is refused.
-- Written in the transaction that moves the money.
CREATE TABLE idempotency_keys (
    scope        TEXT   NOT NULL,
    idem_key     TEXT   NOT NULL,
    request_hash TEXT   NOT NULL,
    txn_id       TEXT   NOT NULL,
    result       TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

-- Coin packs and the gift catalog, defined by the admin.
CREATE TABLE coin_packs (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    coins      BIGINT  NOT NULL,
    price      BIGINT  NOT NULL,
    currency   TEXT    NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT  NOT NULL
);

CREATE TABLE gifts (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    image      TEXT    NOT NULL DEFAULT '',
    price      BIGINT  NOT NULL,
    tier       INTEGER NOT NULL DEFAULT 1,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT  NOT NULL
);

-- A purchase of a coin pack through a payment provider.
-- status: pending, requires_action, paid, declined, refunded, charged_back.
CREATE TABLE payment_orders (
    id           TEXT   NOT NULL PRIMARY KEY,
    user_id      TEXT   NOT NULL REFERENCES users (id),
    pack_id      TEXT   NOT NULL,
    coins        BIGINT NOT NULL,
    price        BIGINT NOT NULL,
    currency     TEXT   NOT NULL,
    provider     TEXT   NOT NULL,
    provider_ref TEXT   NOT NULL DEFAULT '',
    request_hash TEXT   NOT NULL DEFAULT '',
    status       TEXT   NOT NULL,
    detail       TEXT   NOT NULL DEFAULT '',
    txn_id       TEXT   NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE INDEX payment_orders_user ON payment_orders (user_id, created_at);
CREATE INDEX payment_orders_ref ON payment_orders (provider, provider_ref);

-- Provider webhook events already handled (replays are no-ops).
CREATE TABLE payment_events (
    provider   TEXT   NOT NULL,
    event_id   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- A channel's subscription tiers (1, 2, 3): coins per month.
CREATE TABLE sub_tiers (
    channel_id TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    tier       INTEGER NOT NULL,
    price      BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, tier)
);

-- One subscription per (channel, subscriber). status: active, expired.
-- renews: renew at period_end (0 once cancelled: access lasts to period_end).
-- payer_id is who pays renewals: the subscriber, or the gifter for a gifted
-- month (gifted subscriptions do not renew).
CREATE TABLE subscriptions (
    id         TEXT    NOT NULL PRIMARY KEY,
    channel_id TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    payer_id   TEXT    NOT NULL,
    tier       INTEGER NOT NULL,
    price      BIGINT  NOT NULL,
    status     TEXT    NOT NULL,
    renews     INTEGER NOT NULL,
    period_end BIGINT  NOT NULL,
    months     INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    UNIQUE (channel_id, user_id)
);

CREATE INDEX subscriptions_due ON subscriptions (status, period_end);
CREATE INDEX subscriptions_user ON subscriptions (user_id);

-- Ad inventory: creatives with a CPM in coins per thousand impressions and
-- the categories they target ('' for all).
CREATE TABLE ad_creatives (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    url        TEXT    NOT NULL,
    cpm        BIGINT  NOT NULL,
    categories TEXT    NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT  NOT NULL
);

-- An ad break on a channel. credited is the coins paid to the creator so
-- far (floor(impressions * cpm / 1000)); state: running, ended, credited.
CREATE TABLE ad_breaks (
    id           TEXT    NOT NULL PRIMARY KEY,
    channel_id   TEXT    NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    broadcast_id TEXT    NOT NULL DEFAULT '',
    creative_id  TEXT    NOT NULL,
    cpm          BIGINT  NOT NULL,
    splice_id    BIGINT  NOT NULL,
    starts_at    BIGINT  NOT NULL,
    ends_at      BIGINT  NOT NULL,
    impressions  BIGINT  NOT NULL DEFAULT 0,
    credited     BIGINT  NOT NULL DEFAULT 0,
    state        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);

CREATE INDEX ad_breaks_channel ON ad_breaks (channel_id, starts_at);
CREATE INDEX ad_breaks_state ON ad_breaks (state, ends_at);

CREATE TABLE ad_impressions (
    break_id   TEXT   NOT NULL,
    viewer     TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (break_id, viewer)
);

-- Payout requests. status: requested, approved, paid, rejected.
CREATE TABLE payouts (
    id         TEXT   NOT NULL PRIMARY KEY,
    channel_id TEXT   NOT NULL REFERENCES channels (id),
    amount     BIGINT NOT NULL,
    status     TEXT   NOT NULL,
    note       TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX payouts_status ON payouts (status, created_at);

ALTER TABLE channel_emotes ADD COLUMN subscriber_only INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE channel_emotes DROP COLUMN subscriber_only;
DROP TABLE payouts;
DROP TABLE ad_impressions;
DROP TABLE ad_breaks;
DROP TABLE ad_creatives;
DROP TABLE subscriptions;
DROP TABLE sub_tiers;
DROP TABLE payment_events;
DROP TABLE payment_orders;
DROP TABLE gifts;
DROP TABLE coin_packs;
DROP TABLE idempotency_keys;
DROP TABLE ledger_entries;
DROP TABLE ledger_txns;
DROP TABLE ledger_accounts;
