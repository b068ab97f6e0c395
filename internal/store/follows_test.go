package store

import (
	"errors"
	"testing"
	"time"
)

func TestFollowIsIdempotentAndCounted(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		u := mustCreateUser(t, s, "fan@example.com")
		ch := mustChannel(t, s, "star", "", Profile{})
		for range 2 {
			if err := s.Follow(ctx, u.ID, ch.ID); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := s.FollowerCount(ctx, ch.ID); n != 1 {
			t.Errorf("followers = %d, want 1", n)
		}
		if ok, _ := s.IsFollowing(ctx, u.ID, ch.ID); !ok {
			t.Error("IsFollowing = false after Follow")
		}
		if ls, _, _ := s.Directory(ctx, DirectoryQuery{FollowedBy: u.ID}); len(ls) != 1 {
			t.Errorf("following directory = %v", slugs(ls))
		}
		if err := s.Follow(ctx, u.ID, "ch_nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("following an unknown channel: %v, want ErrNotFound", err)
		}
		s.Unfollow(ctx, u.ID, ch.ID)
		s.Unfollow(ctx, u.ID, ch.ID)
		if ok, _ := s.IsFollowing(ctx, u.ID, ch.ID); ok {
			t.Error("IsFollowing = true after Unfollow")
		}
	})
}

func TestGoLiveNotifiesActiveFollowersOncePerBroadcast(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		fan := mustCreateUser(t, s, "fan@example.com")
		gone := mustCreateUser(t, s, "gone@example.com")
		bystander := mustCreateUser(t, s, "by@example.com")
		ch := mustChannel(t, s, "star", "", Profile{})
		s.Follow(ctx, fan.ID, ch.ID)
		s.Follow(ctx, gone.ID, ch.ID)
		banned := StatusBanned
		s.UpdateUser(ctx, gone.ID, UserPatch{Status: &banned})
		at := time.UnixMilli(1_760_000_000_000)
		for i, bc := range []string{"b1", "b1", "b2", "b3"} {
			n, err := s.NotifyFollowers(ctx, NotificationLive, ch.ID, bc, at.Add(time.Duration(i)*time.Minute))
			want := 1
			if i == 1 {
				want = 0 // the same broadcast again
			}
			if err != nil || n != want {
				t.Errorf("NotifyFollowers(%s) = %d, %v; want %d", bc, n, err, want)
			}
		}
		ns, next, unread, err := s.Notifications(ctx, fan.ID, Page{Limit: 2})
		if err != nil || len(ns) != 2 || next == "" || unread != 3 || ns[0].BroadcastID != "b3" || ns[0].Read {
			t.Fatalf("first page = %+v next=%q unread=%d %v", ns, next, unread, err)
		}
		rest, next, _, _ := s.Notifications(ctx, fan.ID, Page{After: next, Limit: 2})
		if len(rest) != 1 || rest[0].BroadcastID != "b1" || next != "" {
			t.Errorf("second page = %+v next=%q", rest, next)
		}
		if err := s.MarkNotificationsRead(ctx, fan.ID); err != nil {
			t.Fatal(err)
		}
		ns, _, unread, _ = s.Notifications(ctx, fan.ID, Page{})
		if unread != 0 || !ns[0].Read {
			t.Errorf("after read: unread=%d first=%+v", unread, ns[0])
		}
		for _, u := range []User{gone, bystander} {
			if ns, _, _, _ := s.Notifications(ctx, u.ID, Page{}); len(ns) != 0 {
				t.Errorf("%s got notifications: %+v", u.Email, ns)
			}
		}
	})
}

func TestSettingsAreUpsertedAndMissingOnesAreNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		if _, err := s.Setting(ctx, "ladder"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing setting: %v", err)
		}
		s.PutSetting(ctx, "ladder", `{"a":1}`)
		s.PutSetting(ctx, "ladder", `{"a":2}`)
		if v, err := s.Setting(ctx, "ladder"); err != nil || v != `{"a":2}` {
			t.Errorf("Setting = %q, %v", v, err)
		}
	})
}
