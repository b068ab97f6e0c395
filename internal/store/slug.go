package store

import (
	"fmt"
	"slices"
)

// Slug length limits, in bytes (slugs are ASCII).
const (
	MinSlugLen = 3
	MaxSlugLen = 40
)

// ValidateSlug reports whether slug is a valid channel slug: 3 to 40
// characters from a-z, 0-9 and '-', neither starting nor ending with '-'.
// Slugs appear in URLs and file paths, so anything else is rejected rather
// than escaped. The error wraps ErrInvalid and says which rule failed.
func ValidateSlug(slug string) error {
	if len(slug) < MinSlugLen || len(slug) > MaxSlugLen {
		return fmt.Errorf("slug %q: length %d, want %d to %d characters: %w",
			slug, len(slug), MinSlugLen, MaxSlugLen, ErrInvalid)
	}
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		if !isSlugByte(c) {
			return fmt.Errorf("slug %q: character %q at offset %d, want only a-z, 0-9 and '-': %w",
				slug, c, i, ErrInvalid)
		}
	}
	if slug[0] == '-' || slug[len(slug)-1] == '-' {
		return fmt.Errorf("slug %q: must not start or end with '-': %w", slug, ErrInvalid)
	}
	return nil
}

func isSlugByte(c byte) bool {
	return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-'
}

// reservedSlugs are words of the UI's and the server's paths (such as
// /dashboard/new) and names a visitor could mistake for the site's own.
var reservedSlugs = []string{
	"about", "account", "admin", "api", "assets", "auth", "avatars", "browse", "category", "create",
	"dashboard", "edit", "emotes", "following", "healthz", "help", "hls", "livehouse", "login", "logout",
	"metrics", "new", "notifications", "null", "overlay", "popout", "register", "root", "search",
	"settings", "signin", "signout", "signup", "static", "support", "system", "tag", "thumbnails",
	"undefined", "wallet",
}

// ValidateNewSlug is ValidateSlug for a channel being created: it also
// refuses reserved words such as "new" and "admin". Lookups use
// ValidateSlug, so a channel made before a word was reserved stays reachable.
func ValidateNewSlug(slug string) error {
	if err := ValidateSlug(slug); err != nil {
		return err
	}
	if slices.Contains(reservedSlugs, slug) {
		return fmt.Errorf("slug %q: is reserved for the site's own pages; choose another: %w", slug, ErrInvalid)
	}
	return nil
}
