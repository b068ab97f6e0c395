package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/livehouse/livehouse/internal/store"
)

func TestChannelCardsListTagsEvenWhenThereAreNone(t *testing.T) {
	b, err := json.Marshal(cardView(store.Listing{Channel: store.Channel{Slug: "untagged"}}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"tags":[]`) {
		t.Errorf("card = %s, want \"tags\":[] (the UI reads it as a list)", b)
	}
}
