// Package account owns who people are on Livehouse: sign-up and sign-in with
// email and password (argon2id), browser sessions and their CSRF tokens,
// personal API tokens, roles, and the rate limits that guard sign-in. It
// keeps secrets out of logs and out of the store: passwords are stored as
// argon2id hashes, session and API tokens as SHA-256 (by the store).
package account
