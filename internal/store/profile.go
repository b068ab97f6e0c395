package store

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on channel fields. Lengths count characters (runes), not bytes.
const (
	MaxDisplayName = 50
	MaxTitle       = 140
	MaxBio         = 2000
	MaxTags        = 10
	MaxTagLen      = 25
	MaxLanguage    = 16
)

// Profile is what a channel shows besides its slug. Text is stored verbatim
// (after trimming); it is never HTML and must be escaped by whatever
// renders it.
type Profile struct {
	DisplayName string
	Category    string // a Categories() slug
	Title       string
	Bio         string
	Tags        []string // normalised: lower case, unique, in the order given
	Language    string   // BCP 47-like tag such as "en" or "pt-br", or ""
	Mature      bool
}

// ProfilePatch changes the fields that are not nil.
type ProfilePatch struct {
	DisplayName *string
	Category    *string
	Title       *string
	Bio         *string
	Tags        *[]string
	Language    *string
	Mature      *bool
}

// Apply returns to with the patch's fields set.
func (p ProfilePatch) Apply(to Profile) Profile {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&to.DisplayName, p.DisplayName)
	set(&to.Category, p.Category)
	set(&to.Title, p.Title)
	set(&to.Bio, p.Bio)
	set(&to.Language, p.Language)
	if p.Tags != nil {
		to.Tags = *p.Tags
	}
	if p.Mature != nil {
		to.Mature = *p.Mature
	}
	return to
}

// normalize trims and checks every field, returning the profile as it will
// be stored, or a *FieldError naming the first bad field.
func (p Profile) normalize() (Profile, error) {
	p.DisplayName = strings.TrimSpace(p.DisplayName)
	p.Title = strings.TrimSpace(p.Title)
	p.Bio = strings.TrimSpace(p.Bio)
	p.Language = strings.ToLower(strings.TrimSpace(p.Language))
	if p.DisplayName == "" {
		return p, fieldErr("display_name", "must not be empty")
	}
	if err := checkText("display_name", p.DisplayName, MaxDisplayName, false); err != nil {
		return p, err
	}
	if err := checkText("title", p.Title, MaxTitle, false); err != nil {
		return p, err
	}
	if err := checkText("bio", p.Bio, MaxBio, true); err != nil {
		return p, err
	}
	if !IsCategory(p.Category) {
		return p, fieldErr("category", "%q is not a category; see GET /api/v1/categories", p.Category)
	}
	if p.Language != "" && (len(p.Language) > MaxLanguage || !languageRE.MatchString(p.Language)) {
		return p, fieldErr("language", "want a language tag such as \"en\" or \"pt-br\"")
	}
	tags, err := NormalizeTags(p.Tags)
	if err != nil {
		return p, err
	}
	p.Tags = tags
	return p, nil
}

var languageRE = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)

// checkText accepts valid UTF-8 of at most max characters without control
// characters (multiline text may hold newlines and tabs).
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return fieldErr(field, "is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fieldErr(field, "is %d characters long, at most %d allowed", n, max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\t' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) {
			return fieldErr(field, "contains the control character %U", r)
		}
	}
	return nil
}

// NormalizeTags lower-cases, de-duplicates and checks tags: at most MaxTags,
// each 1 to MaxTagLen letters, digits or '-'. The error is a *FieldError.
func NormalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if err := checkTag(t); err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, fieldErr("tags", "%d tags, at most %d allowed", len(out), MaxTags)
	}
	return out, nil
}

// NormalizeTag returns tag as it is stored, or a *FieldError.
func NormalizeTag(tag string) (string, error) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	return tag, checkTag(tag)
}

func checkTag(t string) error {
	if !utf8.ValidString(t) {
		return fieldErr("tags", "a tag is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(t); n < 1 || n > MaxTagLen {
		return fieldErr("tags", "tag %q: want 1 to %d characters", t, MaxTagLen)
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '-' {
			return fieldErr("tags", "tag %q: only letters, digits and '-' are allowed", t)
		}
	}
	return nil
}

// searchText is what channel search matches against.
func searchText(slug string, p Profile) string {
	return strings.ToLower(strings.Join([]string{slug, p.DisplayName, p.Title, strings.Join(p.Tags, " ")}, " "))
}

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
