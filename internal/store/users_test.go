package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mustCreateUser(t *testing.T, s *Store, email string) User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), NewUser{Email: email, DisplayName: strings.SplitN(email, "@", 2)[0], PasswordHash: "$argon2id$test"})
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", email, err)
	}
	return u
}

func TestCreatedUserIsActiveViewerFoundByIDAndEmailWithItsHash(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u, err := s.CreateUser(ctx, NewUser{Email: "ada@example.com", DisplayName: "Ada", PasswordHash: "$argon2id$h"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != RoleViewer || u.Status != StatusActive || u.ID == "" || u.CreatedAt.IsZero() {
			t.Errorf("created user = %+v", u)
		}
		byID, err := s.UserByID(ctx, u.ID)
		if err != nil || byID != u {
			t.Errorf("UserByID = %+v, %v; want %+v", byID, err, u)
		}
		byEmail, hash, err := s.UserCredentials(ctx, "ada@example.com")
		if err != nil || byEmail != u || hash != "$argon2id$h" {
			t.Errorf("UserCredentials = %+v, %q, %v", byEmail, hash, err)
		}
		if _, err := s.CreateUser(ctx, NewUser{Email: "ada@example.com", DisplayName: "Other", PasswordHash: "x"}); !errors.Is(err, ErrExists) {
			t.Errorf("duplicate email: %v, want ErrExists", err)
		}
		if _, _, err := s.UserCredentials(ctx, "nobody@example.com"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown email: %v, want ErrNotFound", err)
		}
	})
}

func TestUpdateUserValidatesRoleAndStatusAndChangesNothingOnError(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u := mustCreateUser(t, s, "bob@example.com")
		bad, admin, banned := "owner", RoleAdmin, StatusBanned
		if _, err := s.UpdateUser(ctx, u.ID, UserPatch{Role: &admin, Status: &bad}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad status: %v, want ErrInvalid", err)
		}
		if got, _ := s.UserByID(ctx, u.ID); got.Role != RoleViewer {
			t.Errorf("a failed update changed the role to %q", got.Role)
		}
		got, err := s.UpdateUser(ctx, u.ID, UserPatch{Role: &admin, Status: &banned})
		if err != nil || got.Role != RoleAdmin || got.Status != StatusBanned {
			t.Errorf("UpdateUser = %+v, %v", got, err)
		}
		if _, err := s.UpdateUser(ctx, "us_nobody", UserPatch{Role: &admin}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown user: %v, want ErrNotFound", err)
		}
	})
}

func TestListUsersPagesNewestFirstAndSearchesLiterally(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		base := time.UnixMilli(1_760_000_000_000)
		for i := range 7 {
			fixedClock(s, base.Add(time.Duration(i)*time.Second))
			mustCreateUser(t, s, fmt.Sprintf("user%d@example.com", i))
		}
		fixedClock(s, base.Add(time.Minute))
		mustCreateUser(t, s, "100%_sure@example.com")
		var seen []string
		after := ""
		for range 10 {
			us, next, err := s.ListUsers(ctx, UserQuery{Page: Page{After: after, Limit: 3}})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range us {
				seen = append(seen, u.Email)
			}
			if next == "" {
				break
			}
			after = next
		}
		if len(seen) != 8 || seen[0] != "100%_sure@example.com" || seen[7] != "user0@example.com" {
			t.Errorf("pages = %v, want 8 users newest first", seen)
		}
		for q, want := range map[string]int{"%": 1, "_": 1, "USER3": 1, "example": 8, "' OR 1=1 --": 0} {
			us, _, err := s.ListUsers(ctx, UserQuery{Search: q})
			if err != nil || len(us) != want {
				t.Errorf("search %q: %d users, %v; want %d", q, len(us), err, want)
			}
		}
		if _, _, err := s.ListUsers(ctx, UserQuery{Page: Page{After: "garbage!"}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("bad cursor: %v, want ErrInvalid", err)
		}
	})
}

func TestAuthSessionsAreFoundByTokenUntilExpiryOrDeletionAndStoredHashed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u := mustCreateUser(t, s, "carol@example.com")
		now := time.UnixMilli(1_760_000_000_000)
		fixedClock(s, now)
		token, err := s.CreateAuthSession(ctx, u.ID, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.UserBySession(ctx, token); err != nil || got.ID != u.ID {
			t.Errorf("UserBySession = %+v, %v", got, err)
		}
		if rows := dumpTable(t, s, "auth_sessions"); strings.Contains(rows, token) || !strings.Contains(rows, hashStreamKey(token)) {
			t.Errorf("auth_sessions must hold only the token's SHA-256:\n%s", rows)
		}
		for _, bad := range []string{"", "lhs_nope", token + "x", strings.TrimPrefix(token, sessionTokenPrefix)} {
			if _, err := s.UserBySession(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("UserBySession(%q): %v, want ErrNotFound", bad, err)
			}
		}
		fixedClock(s, now.Add(time.Hour))
		if _, err := s.UserBySession(ctx, token); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired session: %v, want ErrNotFound", err)
		}
		if n, err := s.DeleteExpiredAuthSessions(ctx); err != nil || n != 1 {
			t.Errorf("DeleteExpiredAuthSessions = %d, %v; want 1", n, err)
		}
		fixedClock(s, now)
		t2, _ := s.CreateAuthSession(ctx, u.ID, now.Add(time.Hour))
		if err := s.DeleteAuthSession(ctx, t2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UserBySession(ctx, t2); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted session still works: %v", err)
		}
	})
}

func TestAPITokensAreShownOnceStoredHashedListedWithoutSecretAndRevocable(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u := mustCreateUser(t, s, "dan@example.com")
		other := mustCreateUser(t, s, "eve@example.com")
		tok, secret, err := s.CreateAPIToken(ctx, u.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, apiTokenPrefix) || len(secret) < 50 {
			t.Errorf("token %d chars, want lht_ + 52", len(secret))
		}
		if rows := dumpTable(t, s, "api_tokens"); strings.Contains(rows, secret) {
			t.Errorf("api_tokens holds the raw token:\n%s", rows)
		}
		got, gotTok, err := s.UserByAPIToken(ctx, secret)
		if err != nil || got.ID != u.ID || gotTok.ID != tok.ID || !gotTok.LastUsedAt.IsZero() {
			t.Errorf("UserByAPIToken = %+v %+v %v", got, gotTok, err)
		}
		list, err := s.ListAPITokens(ctx, u.ID)
		if err != nil || len(list) != 1 || list[0].Name != "ci" || strings.Contains(fmt.Sprintf("%+v", list), secret) {
			t.Errorf("ListAPITokens = %+v, %v", list, err)
		}
		if err := s.DeleteAPIToken(ctx, other.ID, tok.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("another user deleting the token: %v, want ErrNotFound", err)
		}
		if err := s.DeleteAPIToken(ctx, u.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UserByAPIToken(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoked token still works: %v", err)
		}
		if _, _, err := s.CreateAPIToken(ctx, u.ID, "  "); !errors.Is(err, ErrInvalid) {
			t.Errorf("empty name: %v, want ErrInvalid", err)
		}
	})
}

func TestListUsersSearchFoldsNonASCIICaseAlikeOnBothEngines(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		for _, nu := range []NewUser{
			{Email: "elodie@example.com", DisplayName: "Élodie Ærø", PasswordHash: "h"},
			{Email: "straße@example.com", DisplayName: "ÖMER", PasswordHash: "h"},
			{Email: "plain@example.com", DisplayName: "Plain", PasswordHash: "h"},
		} {
			if _, err := s.CreateUser(ctx, nu); err != nil {
				t.Fatal(err)
			}
		}
		for q, want := range map[string]string{"élodie": "elodie@example.com", "ÆRØ": "elodie@example.com", "ömer": "straße@example.com", "STRASSE": "", "straße": "straße@example.com"} {
			us, _, err := s.ListUsers(ctx, UserQuery{Search: q})
			got := ""
			if len(us) == 1 {
				got = us[0].Email
			}
			if err != nil || len(us) > 1 || got != want {
				t.Errorf("search %q: %v, %v; want %q", q, us, err, want)
			}
		}
	})
}

func TestListUsersSearchPagesPastABatchOfNonMatches(t *testing.T) {
	s := openTestStore(t, filepath.Join(t.TempDir(), "lh.db"))
	ctx := t.Context()
	base := time.UnixMilli(1_760_000_000_000)
	for i := range userSearchBatch + 20 {
		fixedClock(s, base.Add(time.Duration(i)*time.Millisecond))
		email := fmt.Sprintf("noise%04d@example.com", i)
		if i%250 == 0 {
			email = fmt.Sprintf("needle%04d@example.com", i)
		}
		mustCreateUser(t, s, email)
	}
	var got []string
	after := ""
	for range 5 {
		us, next, err := s.ListUsers(ctx, UserQuery{Search: "needle", Page: Page{After: after, Limit: 1}})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			got = append(got, u.Email)
		}
		if after = next; next == "" {
			break
		}
	}
	if strings.Join(got, " ") != "needle0500@example.com needle0250@example.com needle0000@example.com" {
		t.Errorf("needles = %v", got)
	}
}
