package store

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// slugGrammar is the documented slug grammar, written independently of
// ValidateSlug to serve as its oracle.
var slugGrammar = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$`)

func TestValidateSlugAcceptsTheDocumentedGrammar(t *testing.T) {
	valid := []string{"abc", "a-b", "a--b", "123", "my-channel-1", "0-0", strings.Repeat("z", 40), "a" + strings.Repeat("-", 38) + "b"}
	for _, slug := range valid {
		if err := ValidateSlug(slug); err != nil {
			t.Errorf("ValidateSlug(%q) = %v, want nil", slug, err)
		}
	}
}

func TestValidateSlugRejectionsWrapErrInvalidAndNameTheRule(t *testing.T) {
	for _, tc := range invalidSlugs {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateSlug(tc.slug)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateSlug(%q) = %v, want ErrInvalid", tc.slug, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "length") && !strings.Contains(msg, "character") && !strings.Contains(msg, "start or end") {
				t.Errorf("error %q does not say which rule failed", msg)
			}
		})
	}
}

func FuzzValidateSlug(f *testing.F) {
	for _, tc := range invalidSlugs {
		f.Add(tc.slug)
	}
	for _, s := range []string{"abc", "a-b", "my-channel-1", strings.Repeat("a", 40), "a-", "\xff\xfe", "ａｂｃ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, slug string) {
		err := ValidateSlug(slug)
		accepted := err == nil
		if want := slugGrammar.MatchString(slug); accepted != want {
			t.Fatalf("ValidateSlug(%q) accepted=%v, grammar says %v (err %v)", slug, accepted, want, err)
		}
		if !accepted && !errors.Is(err, ErrInvalid) {
			t.Fatalf("ValidateSlug(%q) = %v, does not wrap ErrInvalid", slug, err)
		}
	})
}

func TestValidateNewSlugRefusesReservedWordsOfTheSitesPaths(t *testing.T) {
	for _, slug := range []string{"new", "admin", "dashboard", "settings", "api", "hls", "overlay", "category", "tag", "search", "signin"} {
		if err := ValidateNewSlug(slug); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("ValidateNewSlug(%q) = %v, want a reserved-word ErrInvalid", slug, err)
		}
		if err := ValidateSlug(slug); err != nil {
			t.Errorf("ValidateSlug(%q) = %v: lookups of channels made before the word was reserved must work", slug, err)
		}
	}
	for _, slug := range []string{"new-music", "admins", "my-dashboard"} {
		if err := ValidateNewSlug(slug); err != nil {
			t.Errorf("ValidateNewSlug(%q) = %v, want nil", slug, err)
		}
	}
	if err := ValidateNewSlug("a"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ValidateNewSlug keeps the grammar: %v", err)
	}
}

func TestCreateChannelRefusesAReservedSlugAsAFieldError(t *testing.T) {
	forEachEngine(t, func(t *testing.T, st *Store) {
		var fe *FieldError
		if _, _, err := st.CreateChannel(t.Context(), "new"); !errors.As(err, &fe) || fe.Field != "slug" {
			t.Errorf("CreateChannel(\"new\") = %v, want a FieldError on slug", err)
		}
	})
}
