-- Portable SQL only: this file runs unchanged on SQLite and PostgreSQL.

-- +goose Up
-- The provider's hosted payment page for an order that waits on it, so a
-- repeated purchase request (same idempotency key) answers with it too.
ALTER TABLE payment_orders ADD COLUMN checkout_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE payment_orders DROP COLUMN checkout_url;
