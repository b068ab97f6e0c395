package account

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
}

// DefaultParams follow RFC 9106's second recommendation scaled to a small
// server: 64 MiB, 2 passes, 2 lanes (about 60 ms on one core of a 2020s CPU).
func DefaultParams() Params { return Params{Time: 2, MemoryKiB: 64 * 1024, Threads: 2} }

const (
	saltLen = 16
	keyLen  = 32
)

// Bounds on parameters read back from stored hashes, so a tampered row
// cannot make verification take minutes or gigabytes.
const (
	maxMemoryKiB = 1024 * 1024
	maxTime      = 16
)

// HashPassword returns password's argon2id hash in the PHC string format:
// $argon2id$v=19$m=65536,t=2,p=2$<salt>$<key>, base64 without padding.
func HashPassword(password string, p Params) string {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (Go 1.24+)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash reports a stored hash this package cannot read.
var errBadHash = errors.New("stored password hash is not an argon2id PHC string")

// VerifyPassword reports whether password matches the encoded hash, in time
// independent of where they differ, and the parameters the hash used.
func VerifyPassword(password, encoded string) (bool, Params, error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, Params{}, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}

func parseHash(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters %q", errBadHash, parts[3])
	}
	if p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB {
		return Params{}, nil, nil, fmt.Errorf("%w: parameters out of range", errBadHash)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, fmt.Errorf("%w: salt", errBadHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, fmt.Errorf("%w: key", errBadHash)
	}
	return p, salt, key, nil
}
