package store

import (
	"encoding/base32"
	"strings"
	"testing"
)

func TestStreamKeysCarryAtLeast160RandomBitsInURLSafeText(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		key := newStreamKey()
		body, ok := strings.CutPrefix(key, "live_")
		if !ok {
			t.Fatalf("key %q lacks live_ prefix", key)
		}
		raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(body))
		if err != nil {
			t.Fatalf("key body %q is not unpadded base32: %v", body, err)
		}
		if bits := len(raw) * 8; bits < 160 {
			t.Fatalf("key carries %d bits, want >= 160", bits)
		}
		if strings.ToLower(body) != body {
			t.Fatalf("key body %q is not lowercase", body)
		}
		if seen[key] {
			t.Fatalf("duplicate key after %d keys", len(seen))
		}
		seen[key] = true
	}
}

func TestStreamKeyHashIsHexSHA256(t *testing.T) {
	// echo -n live_test | sha256sum
	const want = "7890e432d6a9e10ef4e17a84ea089fe75a04719cb82cdd30de329da26e08f877"
	got := hashStreamKey("live_test")
	if len(got) != 64 || strings.Trim(got, "0123456789abcdef") != "" {
		t.Fatalf("hash %q is not 64 lowercase hex characters", got)
	}
	if got != want {
		t.Errorf("hashStreamKey(live_test) = %s, want %s", got, want)
	}
}
