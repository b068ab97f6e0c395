package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
)

// streamKeyPrefix marks Livehouse stream keys so they are recognisable in
// configs and by secret scanners.
const streamKeyPrefix = "live_"

// streamKeyBytes is the key's entropy: 256 bits.
const streamKeyBytes = 32

// newStreamKey returns a fresh stream key: "live_" followed by 52 lowercase
// base32 characters.
func newStreamKey() string {
	return streamKeyPrefix + randomText(streamKeyBytes)
}

// hashStreamKey returns the value stored for key: hex SHA-256.
//
// A fast unsalted hash is right here, unlike for passwords: a stream key holds
// 256 random bits, so there is no dictionary to try and brute force is out of
// reach however fast the hash is. Slow salted hashes (bcrypt, argon2) exist to
// stretch low-entropy secrets, and a per-row salt would make lookup by key
// impossible. Being deterministic, the hash can carry a unique index, so a
// publish is authenticated with one indexed query and the database compares
// hashes, which an attacker cannot steer byte by byte.
func hashStreamKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// looksLikeStreamKey rejects obviously foreign input before a query.
func looksLikeStreamKey(key string) bool {
	return strings.HasPrefix(key, streamKeyPrefix) && len(key) > len(streamKeyPrefix)
}

// newID returns a random identifier such as "ch_" + 26 base32 characters
// (128 bits), unique without coordination between engines or replicas.
func newID(prefix string) string {
	return prefix + "_" + randomText(16)
}

// newSortedID is newID led by the time: ids made later sort later, so
// rows keyed by them are appended to the end of their indexes instead of
// landing on a random page each (a ledger transaction's id keys two
// indexes; at thousands of gifts a second that is most of the pages each
// commit writes to the log).
func newSortedID(prefix string, now time.Time) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(now.UnixMicro()))
	// base32hex keeps byte order: lexical order is time order.
	return prefix + "_" + strings.ToLower(base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])) + randomText(10)
}

// randomText returns n random bytes as lowercase unpadded base32.
func randomText(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand aborts the program instead (Go 1.24+)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
