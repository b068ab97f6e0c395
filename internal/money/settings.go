package money

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/livehouse/livehouse/internal/store"
)

// Settings are the admin's money rules. Shares are basis points of the
// coins that go to the creator.
type Settings struct {
	GiftShareBPS int   `json:"gift_share_bps"`
	TipShareBPS  int   `json:"tip_share_bps"`
	SubShareBPS  int   `json:"sub_share_bps"`
	AdShareBPS   int   `json:"ad_share_bps"`
	TipMin       int64 `json:"tip_min"`
	TipMax       int64 `json:"tip_max"`
	PayoutMin    int64 `json:"payout_min"`
}

// DefaultSettings are the rules until the admin changes them.
var DefaultSettings = Settings{GiftShareBPS: 7000, TipShareBPS: 9000, SubShareBPS: 5000, AdShareBPS: 5500,
	TipMin: 10, TipMax: 100_000, PayoutMin: 1000}

// maxSpend bounds one spend, tip or pack: far below overflow in any sum.
const maxSpend = 1_000_000_000

const settingsKey = "monetization"

// Validate checks settings before they are stored.
func (st Settings) Validate() error {
	for name, v := range map[string]int{"gift_share_bps": st.GiftShareBPS, "tip_share_bps": st.TipShareBPS,
		"sub_share_bps": st.SubShareBPS, "ad_share_bps": st.AdShareBPS} {
		if v < 0 || v > 10000 {
			return &store.FieldError{Field: name, Problem: name + " must be 0 to 10000 basis points (0-100 %)"}
		}
	}
	switch {
	case st.TipMin < 1:
		return &store.FieldError{Field: "tip_min", Problem: "tip_min must be at least 1 coin"}
	case st.TipMax < st.TipMin || st.TipMax > maxSpend:
		return &store.FieldError{Field: "tip_max", Problem: fmt.Sprintf("tip_max must be between tip_min and %d", maxSpend)}
	case st.PayoutMin < 1 || st.PayoutMin > maxSpend:
		return &store.FieldError{Field: "payout_min", Problem: "payout_min must be at least 1 coin"}
	}
	return nil
}

// Settings returns the money rules in force.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	s.mu.Lock()
	if time.Since(s.loadedAt) < 30*time.Second { // other nodes' changes arrive within 30 s
		st := s.settings
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	st := DefaultSettings
	raw, err := s.cfg.Store.Setting(ctx, settingsKey)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return st, err
	default:
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			s.log.Warn("money: stored settings unreadable; using defaults", "err", err)
			st = DefaultSettings
		}
	}
	s.mu.Lock()
	s.settings, s.loadedAt = st, time.Now()
	s.mu.Unlock()
	return st, nil
}

// PutSettings replaces the money rules.
func (s *Service) PutSettings(ctx context.Context, st Settings) error {
	if err := st.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.PutSetting(ctx, settingsKey, string(b)); err != nil {
		return err
	}
	s.mu.Lock()
	s.settings, s.loadedAt = st, time.Now()
	s.mu.Unlock()
	return nil
}
