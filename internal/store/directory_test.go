package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mustChannel creates an owned channel with a profile.
func mustChannel(t *testing.T, s *Store, slug, owner string, p Profile) Channel {
	t.Helper()
	ch, _, err := s.CreateChannelWith(t.Context(), NewChannel{Slug: slug, OwnerID: owner, Profile: p})
	if err != nil {
		t.Fatalf("CreateChannelWith(%q): %v", slug, err)
	}
	return ch
}

// goLive starts a session and records its viewers.
func goLive(t *testing.T, s *Store, ch Channel, viewers int) Session {
	t.Helper()
	sess, err := s.StartSession(t.Context(), ch.ID, "b-"+ch.Slug, "[]", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordViewers(t.Context(), []ViewerSample{{SessionID: sess.ID, Viewers: viewers, PeakViewers: viewers}}); err != nil {
		t.Fatal(err)
	}
	return sess
}

func slugs(ls []Listing) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.Slug)
	}
	return out
}

func TestCreateChannelWithOwnerStoresProfileTagsAndMakesTheOwnerACreator(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u := mustCreateUser(t, s, "owner@example.com")
		p := Profile{DisplayName: "  Jazz Nights ", Category: "music", Title: "<script>alert(1)</script>",
			Bio: "line one\nline two", Tags: []string{"Jazz", "jazz", "Late-Night", "日本語"}, Language: "PT-br", Mature: true}
		ch := mustChannel(t, s, "jazz-nights", u.ID, p)
		want := Profile{DisplayName: "Jazz Nights", Category: "music", Title: "<script>alert(1)</script>",
			Bio: "line one\nline two", Tags: []string{"jazz", "late-night", "日本語"}, Language: "pt-br", Mature: true}
		if !reflect.DeepEqual(ch.Profile, want) || ch.OwnerID != u.ID || ch.DisplayName != "Jazz Nights" {
			t.Errorf("created = %+v, want profile %+v", ch, want)
		}
		got, err := s.ChannelBySlug(ctx, "jazz-nights")
		if got.OwnerStatus != StatusActive {
			t.Errorf("ChannelBySlug owner status = %q, want active (read with the channel)", got.OwnerStatus)
		}
		got.OwnerStatus = ""
		if err != nil || !reflect.DeepEqual(got, ch) {
			t.Errorf("ChannelBySlug = %+v, %v; want %+v", got, err, ch)
		}
		if owner, _ := s.UserByID(ctx, u.ID); owner.Role != RoleCreator {
			t.Errorf("owner role = %q, want creator", owner.Role)
		}
		cli, _ := mustCreateChannel(t, s, "from-cli")
		if cli.OwnerID != "" || cli.Profile.Category != DefaultCategory || cli.Profile.Tags == nil {
			t.Errorf("CLI channel = %+v, want no owner, category other, empty tags", cli)
		}
		if _, _, err := s.CreateChannelWith(ctx, NewChannel{Slug: "ghost", OwnerID: "us_nobody"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown owner: %v, want ErrNotFound", err)
		}
	})
}

func TestInvalidProfilesAreRefusedWithTheFieldAndStoreNothing(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) }
	elevenTags := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11"}
	cases := []struct {
		name  string
		p     Profile
		field string
	}{
		{"unknown category", Profile{Category: "cooking"}, "category"},
		{"title too long", Profile{Title: long(MaxTitle + 1)}, "title"},
		{"bio too long", Profile{Bio: long(MaxBio + 1)}, "bio"},
		{"display name too long", Profile{DisplayName: long(MaxDisplayName + 1)}, "display_name"},
		{"control character in title", Profile{Title: "a\x00b"}, "title"},
		{"newline in display name", Profile{DisplayName: "a\nb"}, "display_name"},
		{"invalid UTF-8", Profile{Title: "\xff\xfe"}, "title"},
		{"eleven tags", Profile{Tags: elevenTags}, "tags"},
		{"tag with a space", Profile{Tags: []string{"two words"}}, "tags"},
		{"tag with SQL", Profile{Tags: []string{"x';DROP"}}, "tags"},
		{"tag too long", Profile{Tags: []string{strings.Repeat("t", MaxTagLen+1)}}, "tags"},
		{"empty tag", Profile{Tags: []string{" "}}, "tags"},
		{"bad language", Profile{Language: "english!"}, "language"},
	}
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		existing := mustChannel(t, s, "existing", "", Profile{Title: "kept", Tags: []string{"keep"}})
		for _, c := range cases {
			_, _, err := s.CreateChannelWith(ctx, NewChannel{Slug: "new-one", Profile: c.p})
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: create error %v, want a FieldError on %q", c.name, err, c.field)
			}
			patch := ProfilePatch{Category: nilIfEmpty(c.p.Category), Title: nilIfEmpty(c.p.Title), Bio: nilIfEmpty(c.p.Bio),
				DisplayName: nilIfEmpty(c.p.DisplayName), Language: nilIfEmpty(c.p.Language)}
			if c.p.Tags != nil {
				patch.Tags = &c.p.Tags
			}
			if _, err := s.UpdateProfile(ctx, existing.ID, patch); !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("%s: update error %v, want a FieldError on %q", c.name, err, c.field)
			}
		}
		chs, _ := s.ListChannels(ctx)
		if len(chs) != 1 || !reflect.DeepEqual(chs[0], existing) {
			t.Errorf("after refusals, channels = %+v; want only the unchanged %+v", chs, existing)
		}
		if rows := dumpTable(t, s, "channel_tags"); strings.Count(rows, "\n") != 1 {
			t.Errorf("channel_tags after refusals:\n%s", rows)
		}
	})
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func TestUpdateProfileReplacesTagsAndSearchText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "changing", "", Profile{Title: "old title", Tags: []string{"old"}})
		title, tags := "Brand new", []string{"fresh", "new"}
		got, err := s.UpdateProfile(ctx, ch.ID, ProfilePatch{Title: &title, Tags: &tags})
		if err != nil || got.Profile.Title != title || !reflect.DeepEqual(got.Profile.Tags, tags) || got.Profile.Category != DefaultCategory {
			t.Fatalf("UpdateProfile = %+v, %v", got, err)
		}
		for q, want := range map[string]int{"old": 0, "brand": 1, "fresh": 1} {
			if ls, _, _ := s.Directory(ctx, DirectoryQuery{Search: q}); len(ls) != want {
				t.Errorf("search %q finds %d, want %d", q, len(ls), want)
			}
		}
		for tag, want := range map[string]int{"old": 0, "new": 1} {
			if ls, _, _ := s.Directory(ctx, DirectoryQuery{Tag: tag}); len(ls) != want {
				t.Errorf("tag %q finds %d, want %d", tag, len(ls), want)
			}
		}
	})
}

func TestDirectoryListsLiveChannelsByViewersThenOthersBySlug(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		music := Profile{Category: "music"}
		a := mustChannel(t, s, "aaa", "", music)
		b := mustChannel(t, s, "bbb", "", music)
		c := mustChannel(t, s, "ccc", "", Profile{Category: "games"})
		mustChannel(t, s, "ddd", "", music)
		mustChannel(t, s, "eee", "", Profile{Category: "games"})
		goLive(t, s, a, 5)
		goLive(t, s, b, 50)
		goLive(t, s, c, 5)
		all, next, err := s.Directory(ctx, DirectoryQuery{})
		if err != nil || next != "" {
			t.Fatal(err, next)
		}
		if got := slugs(all); !reflect.DeepEqual(got, []string{"bbb", "aaa", "ccc", "ddd", "eee"}) {
			t.Errorf("directory order = %v", got)
		}
		if !all[0].Live || all[0].Viewers != 50 || all[0].BroadcastID != "b-bbb" || all[3].Live {
			t.Errorf("live fields: %+v / %+v", all[0], all[3])
		}
		live, _, _ := s.Directory(ctx, DirectoryQuery{LiveOnly: true, Category: "music"})
		if got := slugs(live); !reflect.DeepEqual(got, []string{"bbb", "aaa"}) {
			t.Errorf("live music = %v", got)
		}
		counts, err := s.LiveCounts(ctx)
		if err != nil || counts["music"] != 2 || counts["games"] != 1 || len(counts) != 2 {
			t.Errorf("LiveCounts = %v, %v", counts, err)
		}
		// A category changed while live moves the channel between live pages.
		games := "games"
		if _, err := s.UpdateProfile(ctx, b.ID, ProfilePatch{Category: &games}); err != nil {
			t.Fatal(err)
		}
		live, _, _ = s.Directory(ctx, DirectoryQuery{LiveOnly: true, Category: "games"})
		if got := slugs(live); !reflect.DeepEqual(got, []string{"bbb", "ccc"}) {
			t.Errorf("live games after the change = %v", got)
		}
		inMusic, _, _ := s.Directory(ctx, DirectoryQuery{Category: "music"})
		if got := slugs(inMusic); !reflect.DeepEqual(got, []string{"aaa", "ddd"}) {
			t.Errorf("music after the change = %v", got)
		}
	})
}

func TestDirectoryPagesWalkEveryChannelOnceAndRefuseForeignCursors(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		var want []string
		for i := range 23 {
			ch := mustChannel(t, s, fmt.Sprintf("ch-%02d", i), "", Profile{})
			if i%3 == 0 {
				goLive(t, s, ch, i%2) // ties on 0 and 1 viewers are broken by slug
			}
		}
		all, _, _ := s.Directory(ctx, DirectoryQuery{Page: Page{Limit: 100}})
		want = slugs(all)
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			ls, next, err := s.Directory(ctx, DirectoryQuery{Page: Page{After: after, Limit: 4}})
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, slugs(ls)...)
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			after = next
		}
		if !reflect.DeepEqual(got, want) || len(got) != 23 {
			t.Errorf("paged = %v\nwant    %v", got, want)
		}
		for _, bad := range []string{"x", "eyJyIjoieCJ9", strings.Repeat("A", 40)} {
			if _, _, err := s.Directory(ctx, DirectoryQuery{Page: Page{After: bad}}); !errors.Is(err, ErrInvalid) {
				t.Errorf("cursor %q: %v, want ErrInvalid", bad, err)
			}
		}
		for _, limit := range []int{-1, MaxPageLimit + 1} {
			if _, _, err := s.Directory(ctx, DirectoryQuery{Page: Page{Limit: limit}}); !errors.Is(err, ErrInvalid) {
				t.Errorf("limit %d: %v, want ErrInvalid", limit, err)
			}
		}
	})
}

func TestDirectorySearchTreatsSQLAndLikeMetacharactersLiterally(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		mustChannel(t, s, "percent", "", Profile{Title: "100% fun"})
		mustChannel(t, s, "under", "", Profile{Title: "snake_case talk"})
		mustChannel(t, s, "quote", "", Profile{Title: "it's o'clock"})
		mustChannel(t, s, "slash", "", Profile{Title: `back\slash`})
		mustChannel(t, s, "plain", "", Profile{Title: "Plain Title", DisplayName: "Ünïcode Näme"})
		cases := map[string][]string{
			"%":                         {"percent"},
			"_":                         {"under"},
			"'":                         {"quote"},
			`\`:                         {"slash"},
			`\%`:                        {},
			"' OR '1'='1":               {},
			"'; DROP TABLE channels;--": {},
			"PLAIN":                     {"plain"},
			"ünïcode":                   {"plain"},
			"100% FUN":                  {"percent"},
		}
		for q, want := range cases {
			ls, _, err := s.Directory(ctx, DirectoryQuery{Search: q})
			if err != nil {
				t.Errorf("search %q: %v", q, err)
				continue
			}
			if got := slugs(ls); !reflect.DeepEqual(got, append([]string{}, want...)) {
				t.Errorf("search %q = %v, want %v", q, got, want)
			}
		}
		if chs, _ := s.ListChannels(ctx); len(chs) != 5 {
			t.Errorf("%d channels after hostile searches, want 5", len(chs))
		}
	})
}

func TestSuspendedChannelsAndChannelsOfInactiveOwnersAreHiddenAndTheirKeysRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u := mustCreateUser(t, s, "host@example.com")
		owned, ownedKey, _ := s.CreateChannelWith(ctx, NewChannel{Slug: "owned", OwnerID: u.ID})
		solo, soloKey, _ := s.CreateChannelWith(ctx, NewChannel{Slug: "solo"})
		goLive(t, s, owned, 1)
		if err := s.SetSuspended(ctx, solo.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChannelByKey(ctx, soloKey); !errors.Is(err, ErrSuspended) {
			t.Errorf("suspended channel's key: %v, want ErrSuspended", err)
		}
		banned := StatusBanned
		if _, err := s.UpdateUser(ctx, u.ID, UserPatch{Status: &banned}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChannelByKey(ctx, ownedKey); !errors.Is(err, ErrSuspended) {
			t.Errorf("banned owner's key: %v, want ErrSuspended", err)
		}
		if ls, _, _ := s.Directory(ctx, DirectoryQuery{}); len(ls) != 0 {
			t.Errorf("directory shows %v; want nothing", slugs(ls))
		}
		if counts, _ := s.LiveCounts(ctx); len(counts) != 0 {
			t.Errorf("LiveCounts counts hidden channels: %v", counts)
		}
		if ls, _, _ := s.Directory(ctx, DirectoryQuery{Moderation: true}); len(ls) != 2 {
			t.Errorf("moderation directory = %v, want both", slugs(ls))
		}
		active := StatusActive
		s.UpdateUser(ctx, u.ID, UserPatch{Status: &active})
		s.SetSuspended(ctx, solo.ID, false)
		for _, k := range []string{ownedKey, soloKey} {
			if _, err := s.ChannelByKey(ctx, k); err != nil {
				t.Errorf("reinstated key refused: %v", err)
			}
		}
	})
}

func TestLiveStateFollowsSessionsAndEndsWithThem(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "onair", "", Profile{})
		first := goLive(t, s, ch, 3)
		second := goLive(t, s, ch, 7) // a newer session replaces the pointer
		l, err := s.ListingOf(ctx, ch.ID)
		if err != nil || !l.Live || l.SessionID != second.ID || l.Viewers != 7 {
			t.Errorf("listing = %+v, %v; want live on the second session", l, err)
		}
		if err := s.EndSession(ctx, first.ID, time.Now(), "old"); err != nil {
			t.Fatal(err)
		}
		if l, _ := s.ListingOf(ctx, ch.ID); !l.Live {
			t.Error("ending an older session took the channel off the air")
		}
		if n, err := s.EndOpenSessions(ctx, time.Now(), "restart"); err != nil || n != 1 {
			t.Fatalf("EndOpenSessions = %d, %v", n, err)
		}
		if l, _ := s.ListingOf(ctx, ch.ID); l.Live {
			t.Error("EndOpenSessions left the channel live")
		}
	})
}

func TestRecordViewersKeepsPeakAndAverageOnTheSession(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "counted", "", Profile{})
		start := time.UnixMilli(1_760_000_000_000)
		sess, _ := s.StartSession(ctx, ch.ID, "bc", "[]", start)
		// 10 viewers for 60 s then 40 for 60 s: 3,000,000 viewer-ms over 120 s.
		if err := s.RecordViewers(ctx, []ViewerSample{{SessionID: sess.ID, Viewers: 40, PeakViewers: 42, ViewerMillis: 3_000_000}}); err != nil {
			t.Fatal(err)
		}
		s.EndSession(ctx, sess.ID, start.Add(2*time.Minute), "done")
		last, err := s.LastEndedSession(ctx, ch.ID)
		if err != nil || last.PeakViewers != 42 || last.AvgViewers(time.Now()) != 25 {
			t.Errorf("last session = %+v (avg %v), %v; want peak 42, average 25", last, last.AvgViewers(time.Now()), err)
		}
		if err := s.RecordViewers(ctx, []ViewerSample{{SessionID: sess.ID, Viewers: 5, PeakViewers: 1}}); !errors.Is(err, ErrInvalid) {
			t.Errorf("peak below current: %v, want ErrInvalid", err)
		}
		page, next, err := s.ListSessionsPage(ctx, ch.ID, Page{Limit: 1})
		if err != nil || len(page) != 1 || next != "" || page[0].ID != sess.ID {
			t.Errorf("ListSessionsPage = %+v %q %v", page, next, err)
		}
	})
}
