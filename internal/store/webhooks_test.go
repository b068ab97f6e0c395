package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestCreateWebhookValidatesURLAndEventsAndCapsThePerChannelCount(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "hooked", "", Profile{})
		bad := []struct {
			url    string
			events []string
			field  string
		}{
			{"ftp://example.com/x", []string{"live"}, "url"},
			{"/relative", []string{"live"}, "url"},
			{"https://user:pw@example.com/", []string{"live"}, "url"},
			{"javascript:alert(1)", []string{"live"}, "url"},
			{"https://example.com/" + strings.Repeat("a", MaxWebhookURL), []string{"live"}, "url"},
			{"https://example.com/", nil, "events"},
			{"https://example.com/", []string{"live", "deleted"}, "events"},
		}
		for _, b := range bad {
			var fe *FieldError
			if _, _, err := s.CreateWebhook(ctx, ch.ID, b.url, b.events); !errors.As(err, &fe) || fe.Field != b.field {
				t.Errorf("CreateWebhook(%.40q, %v) = %v, want FieldError on %s", b.url, b.events, err, b.field)
			}
		}
		for i := range MaxWebhooks {
			w, secret, err := s.CreateWebhook(ctx, ch.ID, fmt.Sprintf("https://example.com/%d", i), []string{"live", "live", "offline"})
			if err != nil || !strings.HasPrefix(secret, "whsec_") || len(w.Events) != 2 {
				t.Fatalf("CreateWebhook %d = %+v, %v", i, w, err)
			}
		}
		if _, _, err := s.CreateWebhook(ctx, ch.ID, "https://example.com/more", []string{"live"}); !errors.Is(err, ErrLimit) {
			t.Errorf("one webhook too many: %v, want ErrLimit", err)
		}
		hooks, _ := s.Webhooks(ctx, ch.ID)
		if len(hooks) != MaxWebhooks {
			t.Errorf("%d webhooks listed", len(hooks))
		}
		if err := s.DeleteWebhook(ctx, "ch_other", hooks[0].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleting through another channel: %v, want ErrNotFound", err)
		}
	})
}

func TestDeliveriesAreQueuedPerSubscribedWebhookClaimedOnceAndRetried(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "hooked", "", Profile{})
		live, secret, _ := s.CreateWebhook(ctx, ch.ID, "https://example.com/live", []string{"live"})
		s.CreateWebhook(ctx, ch.ID, "https://example.com/off", []string{"offline"})
		now := time.UnixMilli(1_760_000_000_000)
		fixedClock(s, now)
		n, err := s.EnqueueDeliveries(ctx, ch.ID, EventLive, func(id string) []byte { return []byte(`{"id":"` + id + `"}`) })
		if err != nil || n != 1 {
			t.Fatalf("EnqueueDeliveries = %d, %v; want 1", n, err)
		}
		due, err := s.DueDeliveries(ctx, now, 10)
		if err != nil || len(due) != 1 || due[0].URL != live.URL || due[0].Secret != secret ||
			due[0].Payload != `{"id":"`+due[0].ID+`"}` || due[0].State != DeliveryPending {
			t.Fatalf("DueDeliveries = %+v, %v", due, err)
		}
		d := due[0].Delivery
		if ok, _ := s.ClaimDelivery(ctx, d, now.Add(time.Minute)); !ok {
			t.Fatal("first claim failed")
		}
		if ok, _ := s.ClaimDelivery(ctx, d, now.Add(time.Minute)); ok {
			t.Fatal("a second worker claimed the same delivery")
		}
		if due, _ := s.DueDeliveries(ctx, now, 10); len(due) != 0 {
			t.Errorf("a claimed delivery is still due: %+v", due)
		}
		s.RecordDeliveryAttempt(ctx, d.ID, DeliveryAttempt{Status: 500, Error: "receiver answered 500", RetryAt: now.Add(10 * time.Second)})
		due, _ = s.DueDeliveries(ctx, now.Add(10*time.Second), 10)
		if len(due) != 1 || due[0].Attempts != 1 || due[0].LastStatus != 500 {
			t.Fatalf("retry not due: %+v", due)
		}
		s.ClaimDelivery(ctx, due[0].Delivery, now.Add(time.Minute))
		s.RecordDeliveryAttempt(ctx, d.ID, DeliveryAttempt{Status: 204, Delivered: true})
		ds, _ := s.Deliveries(ctx, live.ID, 10)
		if len(ds) != 1 || ds[0].State != DeliveryDelivered || ds[0].Attempts != 2 {
			t.Errorf("Deliveries = %+v", ds)
		}
		if due, _ := s.DueDeliveries(ctx, now.Add(time.Hour), 10); len(due) != 0 {
			t.Errorf("delivered delivery still due: %+v", due)
		}
		if n, err := s.PruneDeliveries(ctx, now.Add(time.Hour)); err != nil || n != 1 {
			t.Errorf("PruneDeliveries = %d, %v", n, err)
		}
	})
}

func TestDeliveriesPageWalksEveryDeliveryOfOneMillisecondOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *Store) {
		ctx := t.Context()
		ch := mustChannel(t, s, "paged-hooks", "", Profile{})
		hook, _, _ := s.CreateWebhook(ctx, ch.ID, "https://example.com/live", []string{"live"})
		fixedClock(s, time.UnixMilli(1_760_000_000_000)) // every delivery in one millisecond
		want := map[string]bool{}
		for range 7 {
			if _, err := s.EnqueueDeliveries(ctx, ch.ID, EventLive, func(id string) []byte { want[id] = true; return []byte(`{}`) }); err != nil {
				t.Fatal(err)
			}
		}
		seen, cursor, pages := map[string]bool{}, "", 0
		for {
			ds, next, err := s.DeliveriesPage(ctx, hook.ID, Page{Limit: 3, After: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, d := range ds {
				if seen[d.ID] {
					t.Errorf("delivery %s listed twice", d.ID)
				}
				seen[d.ID] = true
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != len(want) || pages != 3 {
			t.Errorf("walked %d of %d deliveries in %d pages; want all in 3", len(seen), len(want), pages)
		}
		if _, _, err := s.DeliveriesPage(ctx, hook.ID, Page{After: "garbage"}); err == nil {
			t.Error("a garbage cursor was accepted")
		}
	})
}
