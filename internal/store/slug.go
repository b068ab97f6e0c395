package store

import "fmt"

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
