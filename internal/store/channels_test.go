package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCreatedChannelIsFoundBySlugByKeyAndInList(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		at := time.Date(2026, 3, 1, 12, 0, 0, 123_456_789, time.FixedZone("CET", 3600))
		fixedClock(s, at)
		ch, key, err := s.CreateChannel(ctx, "my-show")
		if err != nil {
			t.Fatal(err)
		}
		wantAt := time.UnixMilli(at.UnixMilli()).UTC()
		if ch.ID == "" || ch.Slug != "my-show" || ch.DisplayName != "my-show" ||
			!ch.CreatedAt.Equal(wantAt) || !ch.KeyRotatedAt.Equal(wantAt) || ch.CreatedAt.Location() != time.UTC {
			t.Errorf("created channel = %+v, want slug and display name my-show, times %v UTC", ch, wantAt)
		}
		if key == "" {
			t.Fatal("no stream key returned")
		}
		bySlug, err := s.ChannelBySlug(ctx, "my-show")
		if err != nil || !reflect.DeepEqual(bySlug, ch) {
			t.Errorf("ChannelBySlug = %+v, %v; want %+v", bySlug, err, ch)
		}
		byKey, err := s.ChannelByKey(ctx, key)
		if err != nil || !reflect.DeepEqual(byKey, ch) {
			t.Errorf("ChannelByKey = %+v, %v; want %+v", byKey, err, ch)
		}
		other, _ := mustCreateChannel(t, s, "another")
		list, err := s.ListChannels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []Channel{other, ch}; !reflect.DeepEqual(list, want) {
			t.Errorf("ListChannels = %+v, want %+v (ordered by slug)", list, want)
		}
	})
}

func TestListChannelsOfEmptyStoreIsEmptyNotNil(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		list, err := s.ListChannels(t.Context())
		if err != nil || list == nil || len(list) != 0 {
			t.Errorf("ListChannels = %#v, %v; want empty non-nil slice", list, err)
		}
	})
}

func TestCreateChannelWithTakenSlugFailsWithErrExists(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		_, firstKey := mustCreateChannel(t, s, "taken")
		_, key, err := s.CreateChannel(t.Context(), "taken")
		if !errors.Is(err, ErrExists) {
			t.Fatalf("second CreateChannel = %v, want ErrExists", err)
		}
		if key != "" {
			t.Error("a key was returned for a channel that was not created")
		}
		if _, err := s.ChannelByKey(t.Context(), firstKey); err != nil {
			t.Errorf("first channel's key stopped working: %v", err)
		}
	})
}

var invalidSlugs = []struct {
	name, slug string
}{
	{"empty", ""},
	{"too short", "ab"},
	{"too long", strings.Repeat("a", 41)},
	{"uppercase", "MyShow"},
	{"leading hyphen", "-show"},
	{"trailing hyphen", "show-"},
	{"only hyphens", "---"},
	{"underscore", "my_show"},
	{"space", "my show"},
	{"slash", "a/b"},
	{"dot dot", "..."},
	{"non-ascii", "café"},
	{"NUL byte", "abc\x00"},
	{"newline", "abc\n"},
	{"quote injection", "x'; DROP TABLE channels; --"},
	{"or-true injection", "' OR '1'='1"},
	{"double quote", `ab"c`},
	{"LIKE wildcard", "ab%"},
	{"LIKE single", "ab_"},
	{"semicolon", "abc;"},
	{"placeholder", "$1abc"},
	{"comment", "ab--"},
}

func TestInvalidSlugsAreRejectedWithErrInvalid(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustCreateChannel(t, s, "existing")
		for _, tc := range invalidSlugs {
			t.Run(tc.name, func(t *testing.T) {
				if _, _, err := s.CreateChannel(ctx, tc.slug); !errors.Is(err, ErrInvalid) {
					t.Errorf("CreateChannel(%q) = %v, want ErrInvalid", tc.slug, err)
				}
				if _, err := s.ChannelBySlug(ctx, tc.slug); !errors.Is(err, ErrInvalid) {
					t.Errorf("ChannelBySlug(%q) = %v, want ErrInvalid", tc.slug, err)
				}
				if _, err := s.RotateKey(ctx, tc.slug); !errors.Is(err, ErrInvalid) {
					t.Errorf("RotateKey(%q) = %v, want ErrInvalid", tc.slug, err)
				}
			})
		}
		list, err := s.ListChannels(ctx)
		if err != nil || len(list) != 1 || list[0].Slug != "existing" {
			t.Errorf("after invalid slugs, ListChannels = %+v, %v; want only \"existing\"", list, err)
		}
	})
}

func TestChannelBySlugOfUnknownChannelFailsWithErrNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		mustCreateChannel(t, s, "known")
		if _, err := s.ChannelBySlug(t.Context(), "unknown"); !errors.Is(err, ErrNotFound) {
			t.Errorf("ChannelBySlug(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestChannelByWrongKeyFailsWithErrNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		_, key := mustCreateChannel(t, s, "guarded")
		wrong := []string{
			"",
			"live_",
			"live",
			newStreamKey(),
			strings.ToUpper(key),
			key + "x",
			key[:len(key)-1],
			" " + key,
			strings.TrimPrefix(key, streamKeyPrefix),
			hashStreamKey(key), // the stored hash is not a key
			"' OR '1'='1",
		}
		for _, k := range wrong {
			ch, err := s.ChannelByKey(t.Context(), k)
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("ChannelByKey(wrong key #%d) = %+v, %v; want ErrNotFound", len(k), ch, err)
			}
			if err != nil && k != "" && strings.Contains(err.Error(), k) {
				t.Errorf("error %q quotes the presented key", err)
			}
		}
	})
}

func TestRotateKeyRetiresOldKeyAndActivatesNewOne(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		created := time.UnixMilli(1_700_000_000_000).UTC()
		fixedClock(s, created)
		ch, oldKey := mustCreateChannel(t, s, "rotating")
		_, bystanderKey := mustCreateChannel(t, s, "bystander")

		rotated := created.Add(time.Hour)
		fixedClock(s, rotated)
		newKey, err := s.RotateKey(ctx, "rotating")
		if err != nil {
			t.Fatal(err)
		}
		if newKey == oldKey || !strings.HasPrefix(newKey, streamKeyPrefix) {
			t.Fatalf("RotateKey returned %d-char key equal to old: %v", len(newKey), newKey == oldKey)
		}
		if _, err := s.ChannelByKey(ctx, oldKey); !errors.Is(err, ErrNotFound) {
			t.Errorf("old key after rotation: %v, want ErrNotFound", err)
		}
		got, err := s.ChannelByKey(ctx, newKey)
		if err != nil {
			t.Fatalf("new key after rotation: %v", err)
		}
		if got.ID != ch.ID || !got.CreatedAt.Equal(created) || !got.KeyRotatedAt.Equal(rotated) {
			t.Errorf("channel after rotation = %+v, want id %s created %v rotated %v", got, ch.ID, created, rotated)
		}
		if b, err := s.ChannelByKey(ctx, bystanderKey); err != nil || b.Slug != "bystander" {
			t.Errorf("another channel's key after rotation: %+v, %v", b, err)
		}
	})
}

func TestRotateKeyOfUnknownChannelFailsWithErrNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		if key, err := s.RotateKey(t.Context(), "nobody"); !errors.Is(err, ErrNotFound) || key != "" {
			t.Errorf("RotateKey(nobody) = %d-char key, %v; want ErrNotFound and no key", len(key), err)
		}
	})
}

func TestChannelValuesNeverCarryTheKeyOrItsHash(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		_, key1 := mustCreateChannel(t, s, "first")
		_, key2 := mustCreateChannel(t, s, "second")
		key2, err := s.RotateKey(ctx, "second")
		if err != nil {
			t.Fatal(err)
		}
		list, err := s.ListChannels(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byKey, err := s.ChannelByKey(ctx, key1)
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(append(list, byKey))
		if err != nil {
			t.Fatal(err)
		}
		dumps := []string{string(js), fmt.Sprintf("%+v %#v", list, list)}
		for _, key := range []string{key1, key2} {
			for _, secret := range secretForms(key) {
				for _, dump := range dumps {
					if strings.Contains(dump, secret) {
						t.Errorf("channel listing contains the stream key or its hash: %s", dump)
					}
				}
			}
		}
	})
}

// secretForms are the strings that must never leave the store for a key:
// the key, its random part, and its stored hash.
func secretForms(key string) []string {
	return []string{key, strings.TrimPrefix(key, streamKeyPrefix), hashStreamKey(key)}
}

func TestStreamKeysAreStoredOnlyAsHashes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		_, key := mustCreateChannel(t, s, "hashed")
		checkRows := func(current string) {
			t.Helper()
			rows := dumpTable(t, s, "channels")
			if !strings.Contains(rows, hashStreamKey(current)) {
				t.Errorf("channels rows do not hold SHA-256 hex of the current key:\n%s", rows)
			}
			for _, raw := range secretForms(current)[:2] {
				if strings.Contains(rows, raw) {
					t.Errorf("channels rows contain the raw stream key:\n%s", rows)
				}
			}
		}
		checkRows(key)
		rotated, err := s.RotateKey(ctx, "hashed")
		if err != nil {
			t.Fatal(err)
		}
		checkRows(rotated)
		if rows := dumpTable(t, s, "channels"); strings.Contains(rows, hashStreamKey(key)) {
			t.Errorf("the old key's hash survived rotation:\n%s", rows)
		}
	})
}

// dumpTable renders every column of every row of table as text.
func dumpTable(t *testing.T, s *Store, table string) string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), "SELECT * FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			fmt.Fprintf(&out, "%s=%v ", cols[i], v)
		}
		out.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestSQLiteFilesNeverContainTheRawKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "livehouse.db")
	s, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, key := mustCreateChannel(t, s, "on-disk")
	rotated, err := s.RotateKey(t.Context(), "on-disk")
	if err != nil {
		t.Fatal(err)
	}
	// Read the files while the WAL still holds the writes, then after Close
	// has checkpointed them into the main file.
	check := func(when string) {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		var all []byte
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if !bytes.Contains(all, []byte(hashStreamKey(rotated))) {
			t.Fatalf("%s: files %v do not contain the key hash; is this check looking at the data?", when, files)
		}
		for _, k := range []string{key, rotated} {
			for _, raw := range secretForms(k)[:2] {
				if bytes.Contains(all, []byte(raw)) {
					t.Errorf("%s: database files contain a raw stream key", when)
				}
			}
		}
	}
	check("before Close")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("after Close")
}

func TestStoreNeverLogsStreamKeys(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, dsn string) {
		s, logs := openTestStoreWithLogs(t, dsn)
		ctx := t.Context()
		ch, key := mustCreateChannel(t, s, "quiet")
		rotated, err := s.RotateKey(ctx, "quiet")
		if err != nil {
			t.Fatal(err)
		}
		s.ChannelByKey(ctx, key)
		s.ChannelByKey(ctx, rotated)
		sess, _ := s.StartSession(ctx, ch.ID, "b", "[]", time.Now())
		s.EndSession(ctx, sess.ID, time.Now(), "done")
		out := logs.String()
		if !strings.Contains(out, "quiet") {
			t.Fatalf("logs do not mention the channel; is logging wired? logs:\n%s", out)
		}
		for _, k := range []string{key, rotated} {
			for _, secret := range secretForms(k) {
				if strings.Contains(out, secret) {
					t.Errorf("logs contain a stream key or its hash:\n%s", out)
				}
			}
		}
	})
}

func TestConcurrentChannelCreationsCannotPassTheOwnersLimitTogether(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u, err := s.CreateUser(ctx, NewUser{Email: "racer@example.com", DisplayName: "Racer", PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		const limit, tries = 3, 12
		errs := make(chan error, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := s.CreateChannelWith(ctx, NewChannel{Slug: fmt.Sprintf("race-%02d", i), OwnerID: u.ID, MaxOwned: limit})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		made := 0
		for err := range errs {
			switch {
			case err == nil:
				made++
			case !errors.Is(err, ErrTooManyChannels):
				t.Errorf("create: %v", err)
			}
		}
		owned, _ := s.ChannelsOf(ctx, u.ID)
		if made != limit || len(owned) != limit {
			t.Errorf("%d creations succeeded, %d channels owned; want the limit %d", made, len(owned), limit)
		}
	})
}
