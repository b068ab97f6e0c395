package account

import (
	"testing"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

func TestSessionCacheExpiresAndForgets(t *testing.T) {
	var c sessionCache
	t0 := time.Unix(1_000_000, 0)
	alice := Principal{User: store.User{ID: "us_alice"}, SessionToken: "a"}
	bob := Principal{User: store.User{ID: "us_bob"}, SessionToken: "b"}
	c.put("a", alice, t0)
	c.put("a2", alice, t0)
	c.put("b", bob, t0)
	tests := []struct {
		name  string
		token string
		at    time.Time
		want  bool
	}{
		{"fresh", "a", t0.Add(time.Second), true},
		{"at the TTL", "a", t0.Add(sessionCacheTTL), false},
		{"a clock that went back", "a", t0.Add(-time.Second), false},
		{"unknown token", "zzz", t0, false},
	}
	for _, tt := range tests {
		if _, ok := c.get(tt.token, tt.at); ok != tt.want {
			t.Errorf("%s: cached = %v, want %v", tt.name, ok, tt.want)
		}
	}
	c.forgetUser("us_alice")
	if _, ok := c.get("a2", t0); ok {
		t.Error("forgetUser kept one of the user's sessions")
	}
	if p, ok := c.get("b", t0); !ok || p.User.ID != "us_bob" {
		t.Error("forgetUser dropped another user's session")
	}
	c.forgetToken("b")
	if _, ok := c.get("b", t0); ok {
		t.Error("forgetToken kept the session")
	}
}
