package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestSessionIsLiveUntilEndedThenListedWithEndAndReason(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch, _ := mustCreateChannel(t, s, "sessions")
		start := time.Date(2026, 5, 1, 20, 0, 0, 999_999_999, time.Local)
		const ladder = `[{"name":"720p","bitrate":3000000},{"name":"480p","bitrate":1200000}]`
		sess, err := s.StartSession(ctx, ch.ID, "bc-1", ladder, start)
		if err != nil {
			t.Fatal(err)
		}
		if sess.ID == "" || sess.ChannelID != ch.ID || sess.BroadcastID != "bc-1" || sess.Ladder != ladder ||
			!sess.StartedAt.Equal(start.Truncate(time.Millisecond)) || !sess.Live() || sess.EndReason != "" {
			t.Errorf("started session = %+v", sess)
		}
		listed, err := s.ListSessions(ctx, ch.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != 1 || listed[0] != sess {
			t.Errorf("live ListSessions = %+v, want [%+v]", listed, sess)
		}

		end := start.Add(90 * time.Minute)
		if err := s.EndSession(ctx, sess.ID, end, "publisher disconnected"); err != nil {
			t.Fatal(err)
		}
		listed, err = s.ListSessions(ctx, ch.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := sess
		want.EndedAt = end.Truncate(time.Millisecond).UTC()
		want.EndReason = "publisher disconnected"
		if len(listed) != 1 || listed[0] != want || listed[0].Live() {
			t.Errorf("ended ListSessions = %+v, want [%+v]", listed, want)
		}
	})
}

func TestListSessionsIsNewestFirstLimitedAndPerChannel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch, _ := mustCreateChannel(t, s, "busy")
		other, _ := mustCreateChannel(t, s, "other")
		base := time.UnixMilli(1_750_000_000_000)
		var started []Session
		for _, offset := range []int{3, 1, 4, 0, 2} { // out of order on purpose
			sess, err := s.StartSession(ctx, ch.ID, "b", "[]", base.Add(time.Duration(offset)*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			started = append(started, sess)
		}
		if _, err := s.StartSession(ctx, other.ID, "b", "[]", base.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, err := s.ListSessions(ctx, ch.ID, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := []Session{started[2], started[0], started[4]} // offsets 4, 3, 2
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListSessions(limit 3) = %+v, want %+v", got, want)
		}
		none, err := s.ListSessions(ctx, "ch_unknown", 3)
		if err != nil || none == nil || len(none) != 0 {
			t.Errorf("ListSessions(unknown channel) = %#v, %v; want empty", none, err)
		}
	})
}

func TestListSessionsRejectsNonPositiveLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		for _, limit := range []int{0, -1} {
			if _, err := s.ListSessions(t.Context(), "any", limit); !errors.Is(err, ErrInvalid) {
				t.Errorf("ListSessions(limit %d) = %v, want ErrInvalid", limit, err)
			}
		}
	})
}

func TestStartSessionForUnknownChannelFailsWithErrNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		_, err := s.StartSession(t.Context(), "ch_doesnotexist", "b", "[]", time.Now())
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("StartSession(unknown channel) = %v, want ErrNotFound (foreign keys enforced?)", err)
		}
	})
}

func TestStartSessionRejectsInvalidInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ch, _ := mustCreateChannel(t, s, "strict")
		now := time.Now()
		cases := []struct {
			name                         string
			channelID, broadcast, ladder string
			at                           time.Time
		}{
			{"empty channel id", "", "b", "[]", now},
			{"empty broadcast id", ch.ID, "", "[]", now},
			{"empty ladder", ch.ID, "b", "", now},
			{"ladder not JSON", ch.ID, "b", "720p,480p", now},
			{"truncated ladder JSON", ch.ID, "b", `[{"name":`, now},
			{"zero start time", ch.ID, "b", "[]", time.Time{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.StartSession(t.Context(), tc.channelID, tc.broadcast, tc.ladder, tc.at)
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("StartSession = %v, want ErrInvalid", err)
				}
			})
		}
		if got, _ := s.ListSessions(t.Context(), ch.ID, 10); len(got) != 0 {
			t.Errorf("invalid StartSession calls stored sessions: %+v", got)
		}
	})
}

func TestEndSessionOfUnknownSessionFailsWithErrNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		if err := s.EndSession(t.Context(), "ls_nope", time.Now(), "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("EndSession(unknown) = %v, want ErrNotFound", err)
		}
	})
}

func TestEndingAnEndedSessionKeepsTheFirstEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch, _ := mustCreateChannel(t, s, "twice")
		start := time.UnixMilli(1_760_000_000_000).UTC()
		sess, err := s.StartSession(ctx, ch.ID, "b", "[]", start)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EndSession(ctx, sess.ID, start.Add(time.Minute), "first"); err != nil {
			t.Fatal(err)
		}
		if err := s.EndSession(ctx, sess.ID, start.Add(time.Hour), "second"); err != nil {
			t.Fatalf("second EndSession = %v, want nil", err)
		}
		got, err := s.ListSessions(ctx, ch.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].EndReason != "first" || !got[0].EndedAt.Equal(start.Add(time.Minute)) {
			t.Errorf("after two ends: %+v, want the first end kept", got)
		}
	})
}

func TestEndOpenSessionsEndsOnlyLiveSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		a, _ := mustCreateChannel(t, s, "chan-a")
		b, _ := mustCreateChannel(t, s, "chan-b")
		start := time.UnixMilli(1_770_000_000_000).UTC()
		liveA, _ := s.StartSession(ctx, a.ID, "1", "[]", start)
		liveB, _ := s.StartSession(ctx, b.ID, "2", "[]", start)
		done, _ := s.StartSession(ctx, a.ID, "3", "[]", start.Add(-time.Hour))
		if err := s.EndSession(ctx, done.ID, start.Add(-time.Minute), "publisher disconnected"); err != nil {
			t.Fatal(err)
		}

		crashAt := start.Add(10 * time.Minute)
		n, err := s.EndOpenSessions(ctx, crashAt, "server restarted")
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("EndOpenSessions ended %d sessions, want 2", n)
		}
		sessions := map[string]Session{}
		for _, ch := range []Channel{a, b} {
			list, err := s.ListSessions(ctx, ch.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, sess := range list {
				sessions[sess.ID] = sess
			}
		}
		for _, id := range []string{liveA.ID, liveB.ID} {
			if got := sessions[id]; !got.EndedAt.Equal(crashAt) || got.EndReason != "server restarted" {
				t.Errorf("formerly live session = %+v, want ended at %v by server restart", got, crashAt)
			}
		}
		if got := sessions[done.ID]; got.EndReason != "publisher disconnected" || !got.EndedAt.Equal(start.Add(-time.Minute)) {
			t.Errorf("already ended session was changed: %+v", got)
		}
		if n, err := s.EndOpenSessions(ctx, crashAt, "again"); err != nil || n != 0 {
			t.Errorf("second EndOpenSessions = %d, %v; want 0, nil", n, err)
		}
	})
}
