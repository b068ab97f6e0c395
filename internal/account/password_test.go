package account

import (
	"strings"
	"testing"
)

var cheap = Params{Time: 1, MemoryKiB: 64, Threads: 1}

func TestHashIsSaltedArgon2idPHCAndVerifiesOnlyThePassword(t *testing.T) {
	h1 := HashPassword("correct horse battery", cheap)
	h2 := HashPassword("correct horse battery", cheap)
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=64,t=1,p=1$") || h1 == h2 {
		t.Fatalf("hashes %q and %q: want argon2id PHC strings with distinct salts", h1, h2)
	}
	if strings.Contains(h1, "correct") {
		t.Fatal("the hash contains the password")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		ok, p, err := VerifyPassword(pw, h1)
		if err != nil || ok != want || p != cheap {
			t.Errorf("VerifyPassword(%q) = %v, %+v, %v; want %v", pw, ok, p, err, want)
		}
	}
	if ok, p, err := VerifyPassword("x", HashPassword("x", DefaultParams())); !ok || err != nil || p != DefaultParams() {
		t.Errorf("default parameters: %v %+v %v", ok, p, err)
	}
}

func TestVerifyRefusesMalformedOrAbusiveStoredHashes(t *testing.T) {
	good := HashPassword("pw", cheap)
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"old version":   strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":   strings.Replace(good, "m=64", "m=99999999", 1),
		"many passes":   strings.Replace(good, "t=1", "t=1000", 1),
		"zero lanes":    strings.Replace(good, "p=1", "p=0", 1),
		"bad salt":      strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"short key":     strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"missing parts": strings.Join(parts[:4], "$"),
	} {
		if ok, _, err := VerifyPassword("pw", h); ok || err == nil {
			t.Errorf("%s: VerifyPassword = %v, %v; want an error", name, ok, err)
		}
	}
}
