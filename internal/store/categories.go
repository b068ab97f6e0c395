package store

// Category is one of the fixed channel categories.
type Category struct {
	Slug string // lower-case name, used in URLs and stored on channels
	Name string
}

// DefaultCategory is the category of channels made without one, such as by
// `livehouse channel create`.
const DefaultCategory = "other"

var categories = []Category{
	{"sports", "Sports"}, {"art", "Art"}, {"causes", "Causes"}, {"crafts", "Crafts"},
	{"dance", "Dance"}, {"drinks", "Drinks"}, {"film", "Film"}, {"fitness", "Fitness"},
	{"food", "Food"}, {"games", "Games"}, {"gardening", "Gardening"}, {"health", "Health"},
	{"home", "Home"}, {"literature", "Literature"}, {"music", "Music"}, {"networking", "Networking"},
	{"other", "Other"}, {"party", "Party"}, {"shopping", "Shopping"}, {"theater", "Theater"},
	{"wellness", "Wellness"},
}

// Categories returns the 21 categories in their display order. The slice is
// a copy.
func Categories() []Category {
	return append([]Category(nil), categories...)
}

// IsCategory reports whether slug names a category.
func IsCategory(slug string) bool {
	for _, c := range categories {
		if c.Slug == slug {
			return true
		}
	}
	return false
}
