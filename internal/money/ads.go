package money

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/livehouse/livehouse/internal/hls"
	"github.com/livehouse/livehouse/internal/realtime"
	"github.com/livehouse/livehouse/internal/store"
)

// Markers marks ad breaks in a live channel's playlists.
type Markers interface {
	// SetDateRanges replaces the channel's marked ranges; false when the
	// channel is not live on this node.
	SetDateRanges(slug string, ranges []hls.DateRange) bool
}

// Ad break limits.
const (
	MinBreak = 30 * time.Second
	MaxBreak = 180 * time.Second
	// markerKeep is how long an ended break stays marked (its SCTE35-IN
	// tag) in playlists.
	markerKeep = 2 * time.Minute
)

// AdStore is what ad breaks need beyond Store.
type AdStore interface {
	RecentAdBreaks(ctx context.Context, since time.Time) ([]store.AdBreak, error)
	SettingsWithPrefix(ctx context.Context, prefix string) (map[string]string, error)
	ChannelBySlug(ctx context.Context, slug string) (store.Channel, error)
	ClaimAdBreakEnd(ctx context.Context, id string, now time.Time) (bool, error)
}

// CreativeView is an ad creative as players show it.
type CreativeView struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// BreakView is an ad break as the API and room events show it.
type BreakView struct {
	ID          string       `json:"id"`
	StartsAt    time.Time    `json:"starts_at"`
	EndsAt      time.Time    `json:"ends_at"`
	Duration    int          `json:"duration"`
	Creative    CreativeView `json:"creative"`
	Impressions int64        `json:"impressions"`
	Credited    int64        `json:"credited"`
	State       string       `json:"state"`
}

// ViewOfBreak renders a break with its creative.
func (s *Service) ViewOfBreak(ctx context.Context, b store.AdBreak) BreakView {
	v := BreakView{ID: b.ID, StartsAt: b.StartsAt, EndsAt: b.EndsAt, Duration: int(b.EndsAt.Sub(b.StartsAt).Round(time.Second).Seconds()),
		Impressions: b.Impressions, Credited: b.Credited, State: b.State}
	if c, err := s.cfg.Store.AdCreative(ctx, b.CreativeID); err == nil {
		v.Creative = CreativeView{Name: c.Name, Kind: c.Kind, URL: c.URL}
	}
	if v.State == store.BreakRunning && !s.now().Before(b.EndsAt) {
		v.State = "ended"
	}
	return v
}

// pickCreative chooses the best-paying active creative for a category.
func pickCreative(cs []store.AdCreative, category string) (store.AdCreative, bool) {
	var best store.AdCreative
	found := false
	for _, c := range cs {
		if len(c.Categories) > 0 && !slices.ContainsFunc(c.Categories, func(x string) bool { return strings.EqualFold(x, category) }) {
			continue
		}
		if !found || c.CPM > best.CPM {
			best, found = c, true
		}
	}
	return best, found
}

// StartBreak starts an ad break of d on a live channel now.
func (s *Service) StartBreak(ctx context.Context, ch store.Channel, d time.Duration) (BreakView, error) {
	if d < MinBreak || d > MaxBreak || d%time.Second != 0 {
		return BreakView{}, &store.FieldError{Field: "duration", Problem: "duration must be a whole number of seconds from 30 to 180"}
	}
	bid := s.broadcastOf(ctx, ch.ID)
	if s.cfg.Clock != nil && bid == "" {
		return BreakView{}, refuse("offline", "the channel is not live; start an ad break while you broadcast")
	}
	cs, err := s.cfg.Store.AdCreatives(ctx, true)
	if err != nil {
		return BreakView{}, err
	}
	c, ok := pickCreative(cs, ch.Profile.Category)
	if !ok {
		return BreakView{}, refuse("no_ads", "no ad creative targets the %s category; an admin adds creatives under Admin → Ads", ch.Profile.Category)
	}
	now := s.now()
	b, err := s.cfg.Store.StartAdBreak(ctx, store.AdBreak{ChannelID: ch.ID, BroadcastID: bid, CreativeID: c.ID, CPM: c.CPM,
		StartsAt: now, EndsAt: now.Add(d)})
	if errors.Is(err, store.ErrExists) {
		return BreakView{}, refuse("break_running", "an ad break is running already; wait for it to end")
	}
	if err != nil {
		return BreakView{}, err
	}
	s.refreshMarkers(ctx)
	v := s.ViewOfBreak(ctx, b)
	s.announce(ctx, ch, realtime.Announcement{Kind: realtime.KindAdBreak, Ad: v})
	s.log.Info("ad break started", "channel", ch.Slug, "break", b.ID, "seconds", d.Seconds(), "creative", c.ID)
	return v, nil
}

// CurrentBreak returns the channel's running break, if any.
func (s *Service) CurrentBreak(ctx context.Context, channelID string) (BreakView, bool, error) {
	bs, err := s.cfg.Store.AdBreaks(ctx, channelID, 1)
	if err != nil || len(bs) == 0 {
		return BreakView{}, false, err
	}
	b := bs[0]
	now := s.now()
	if b.State != store.BreakRunning || !now.Before(b.EndsAt) || now.Before(b.StartsAt) {
		return BreakView{}, false, nil
	}
	return s.ViewOfBreak(ctx, b), true, nil
}

// ImpressionsPerNetwork caps the viewers one client network counts for
// per break: a household's screens, not a script's made-up viewer ids.
const ImpressionsPerNetwork = 5

// Impression is a player's report that its viewer saw a break's ad.
type Impression struct {
	BreakID    string
	Viewer     string // "user:<id>" for a signed-in viewer, else "anon:<id>"
	UserID     string // the signed-in viewer; "" anonymous
	Network    string // the client's network: an IPv4 address, an IPv6 /64
	Subscriber bool
}

// Impression counts a viewer who saw the break's ad, once per break, and
// at most ImpressionsPerNetwork viewers from one network. Subscribers see
// no ads and the channel's owner is not an audience, so they count for
// nothing; what does not count is not an error, so a script learns nothing.
func (s *Service) Impression(ctx context.Context, im Impression) (bool, error) {
	b, err := s.cfg.Store.AdBreakByID(ctx, im.BreakID)
	if err != nil {
		return false, err
	}
	now := s.now()
	if b.State != store.BreakRunning || now.After(b.EndsAt.Add(5*time.Second)) || now.Before(b.StartsAt) {
		return false, refuse("break_over", "this ad break is over")
	}
	if im.Subscriber {
		return false, nil
	}
	if im.UserID != "" {
		ch, err := s.cfg.Store.ChannelByID(ctx, b.ChannelID)
		if err != nil {
			return false, err
		}
		if ch.OwnerID == im.UserID {
			return false, nil
		}
	}
	return s.cfg.Store.AddImpressionFrom(ctx, im.BreakID, im.Viewer, im.Network, ImpressionsPerNetwork)
}

// creditBreak pays an ended break's creator by CPM: floor(impressions ×
// cpm / 1000) coins from the advertisers' account, split by the ad share.
func (s *Service) creditBreak(ctx context.Context, b store.AdBreak, set Settings) error {
	coins := b.Impressions * b.CPM / 1000
	if coins <= 0 {
		return s.cfg.Store.CloseAdBreak(ctx, b.ID, b.Impressions)
	}
	creator, platform := split(coins, set.AdShareBPS)
	t := store.Txn{Kind: "ad", ChannelID: b.ChannelID, BroadcastID: b.BroadcastID, Amount: coins, Ref: b.ID,
		Memo: memo(map[string]any{"break": b.ID, "impressions": b.Impressions, "cpm": b.CPM, "share_bps": set.AdShareBPS}),
		Entries: entries(
			store.Entry{Account: platformAccount("ads"), Amount: -coins},
			store.Entry{Account: earningsAccount(b.ChannelID), Amount: creator},
			store.Entry{Account: platformAccount("revenue"), Amount: platform},
		)}
	_, err := s.post(ctx, store.Posting{Txn: t, Apply: store.CreditAdBreak(b.ID, b.Impressions, coins)})
	if errors.Is(err, store.ErrStateChanged) {
		return nil // credited by another node, or an impression raced: next pass
	}
	return err
}

// EndBreaks credits and announces the end of every break whose time is up.
func (s *Service) EndBreaks(ctx context.Context) error {
	bs, err := s.cfg.Store.RunningAdBreaks(ctx)
	if err != nil {
		return err
	}
	set, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for _, b := range bs {
		// Impressions may arrive for a few seconds after the end.
		if now.Before(b.EndsAt.Add(5 * time.Second)) {
			continue
		}
		if err := s.creditBreak(ctx, b, set); err != nil {
			return fmt.Errorf("credit ad break %s: %w", b.ID, err)
		}
	}
	return nil
}

// refreshMarkers gives every channel live on this node the date ranges of
// its recent breaks.
func (s *Service) refreshMarkers(ctx context.Context) {
	as, ok := s.cfg.Store.(AdStore)
	if s.cfg.Markers == nil || !ok {
		return
	}
	bs, err := as.RecentAdBreaks(ctx, s.now().Add(-markerKeep))
	if err != nil {
		s.log.Warn("money: ad markers not refreshed", "err", err)
		return
	}
	byChannel := map[string][]hls.DateRange{}
	for _, b := range bs {
		byChannel[b.ChannelID] = append(byChannel[b.ChannelID], hls.DateRange{ID: fmt.Sprintf("ad-%d", b.SpliceID),
			Class: "com.livehouse.ad", Start: b.StartsAt, Duration: b.EndsAt.Sub(b.StartsAt), SpliceID: uint32(b.SpliceID)})
	}
	s.mu.Lock()
	prev := s.marked
	s.marked = map[string]bool{}
	s.mu.Unlock()
	for id, ranges := range byChannel {
		ch, err := s.cfg.Store.ChannelByID(ctx, id)
		if err != nil {
			continue
		}
		if s.cfg.Markers.SetDateRanges(ch.Slug, ranges) {
			s.mu.Lock()
			s.marked[ch.Slug] = true
			s.mu.Unlock()
		}
	}
	for slug := range prev {
		s.mu.Lock()
		still := s.marked[slug]
		s.mu.Unlock()
		if !still {
			s.cfg.Markers.SetDateRanges(slug, nil)
		}
	}
}

// Schedule is a channel's automatic ad breaks while live.
type Schedule struct {
	EveryMinutes int `json:"every_minutes"` // 0: off
	Duration     int `json:"duration"`      // seconds
}

const schedulePrefix = "ad_schedule:"

// SetSchedule stores a channel's ad schedule.
func (s *Service) SetSchedule(ctx context.Context, channelID string, sc Schedule) error {
	if sc.EveryMinutes != 0 && (sc.EveryMinutes < 10 || sc.EveryMinutes > 240) {
		return &store.FieldError{Field: "every_minutes", Problem: "every_minutes must be 0 (off) or 10 to 240"}
	}
	if sc.Duration == 0 {
		sc.Duration = 60
	}
	if sc.Duration < 30 || sc.Duration > 180 {
		return &store.FieldError{Field: "duration", Problem: "duration must be 30 to 180 seconds"}
	}
	b, _ := json.Marshal(sc)
	return s.cfg.Store.PutSetting(ctx, schedulePrefix+channelID, string(b))
}

// ScheduleOf returns a channel's ad schedule.
func (s *Service) ScheduleOf(ctx context.Context, channelID string) (Schedule, error) {
	sc := Schedule{Duration: 60}
	raw, err := s.cfg.Store.Setting(ctx, schedulePrefix+channelID)
	if errors.Is(err, store.ErrNotFound) {
		return sc, nil
	}
	if err != nil {
		return sc, err
	}
	if err := json.Unmarshal([]byte(raw), &sc); err != nil {
		return Schedule{Duration: 60}, nil
	}
	return sc, nil
}

// runSchedules starts the scheduled breaks that are due: a channel on the
// air whose last break started at least every_minutes ago (or, for its
// first, every_minutes after the broadcast began).
func (s *Service) runSchedules(ctx context.Context) {
	as, ok := s.cfg.Store.(AdStore)
	if !ok || s.cfg.Clock == nil {
		return
	}
	all, err := as.SettingsWithPrefix(ctx, schedulePrefix)
	if err != nil {
		s.log.Warn("money: ad schedules not read", "err", err)
		return
	}
	now := s.now()
	for name, raw := range all {
		var sc Schedule
		if json.Unmarshal([]byte(raw), &sc) != nil || sc.EveryMinutes == 0 {
			continue
		}
		id := strings.TrimPrefix(name, schedulePrefix)
		_, started, live := s.cfg.Clock.Broadcast(ctx, id)
		if !live {
			continue
		}
		last := started
		if bs, err := s.cfg.Store.AdBreaks(ctx, id, 1); err == nil && len(bs) > 0 && bs[0].StartsAt.After(last) {
			last = bs[0].StartsAt
		}
		if now.Sub(last) < time.Duration(sc.EveryMinutes)*time.Minute {
			continue
		}
		ch, err := s.cfg.Store.ChannelByID(ctx, id)
		if err != nil {
			continue
		}
		if _, err := s.StartBreak(ctx, ch, time.Duration(sc.Duration)*time.Second); err != nil {
			var rf *Refusal
			if !errors.As(err, &rf) {
				s.log.Warn("money: scheduled ad break failed", "channel", ch.Slug, "err", err)
			}
		}
	}
}

func (s *Service) adLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.RunAdPass(ctx, n%10 == 0)
	}
}

// RunAdPass is one tick of the ad clock, which Start runs every second
// (schedules every tenth): it refreshes playlist markers, credits the
// breaks whose impressions are in, announces ended breaks and, with
// schedules, starts the scheduled breaks that are due. Every node may run
// it at once: each break starts, ends and is paid once.
func (s *Service) RunAdPass(ctx context.Context, schedules bool) {
	s.refreshMarkers(ctx)
	if err := s.EndBreaks(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("money: ending ad breaks failed", "err", err)
	}
	s.announceEnds(ctx)
	if schedules {
		s.runSchedules(ctx)
	}
}

// announceEnds tells rooms that their break ended. The store's claim
// makes it once per break, across restarts and nodes.
func (s *Service) announceEnds(ctx context.Context) {
	as, ok := s.cfg.Store.(AdStore)
	if !ok {
		return
	}
	now := s.now()
	bs, err := as.RecentAdBreaks(ctx, now.Add(-10*time.Second))
	if err != nil {
		return
	}
	for _, b := range bs {
		if now.Before(b.EndsAt) || b.EndAnnounced {
			continue
		}
		mine, err := as.ClaimAdBreakEnd(ctx, b.ID, now)
		if err != nil {
			s.log.Warn("money: ad break end not claimed", "break", b.ID, "err", err)
			continue
		}
		if !mine {
			continue
		}
		ch, err := s.cfg.Store.ChannelByID(ctx, b.ChannelID)
		if err != nil {
			continue
		}
		s.announce(ctx, ch, realtime.Announcement{Kind: realtime.KindAdEnd, Ad: map[string]string{"id": b.ID}})
	}
}
