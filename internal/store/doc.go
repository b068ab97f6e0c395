// Package store owns Livehouse's persistent state: channels, their stream-key
// hashes and the history of live sessions. It runs on SQLite (single-node
// installs) or PostgreSQL with one set of embedded migrations and one set of
// portable SQL queries, so every feature behaves the same on both engines.
//
// Portability rules for SQL in this package (and for future migrations):
//   - ids are random text generated in Go;
//   - times are BIGINT unix milliseconds (UTC);
//   - placeholders are $1, $2, ... which both pgx and modernc.org/sqlite bind
//     by number;
//   - no engine-specific types (no BLOB/BYTEA, no SERIAL, no RETURNING),
//     no "::" casts; use CAST(x AS T).
package store
