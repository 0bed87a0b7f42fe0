// Package suggest finds the valid name closest to a mistyped one, so that
// errors about unknown keys can say what was probably meant:
//
//	sink "mqtt": unknown property "qoss", did you mean "qos"?
package suggest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Closest returns the candidate nearest to word: one that differs only in
// case, else the one with the smallest edit distance (Levenshtein, case
// folded) if that distance is small for the word's length (at most a third
// of it, and at least 1 for short words). Of equally near candidates the
// first wins. ok is false when none is near enough.
func Closest(word string, candidates []string) (best string, ok bool) {
	lw := strings.ToLower(word)
	for _, c := range candidates {
		if strings.ToLower(c) == lw && c != word {
			return c, true
		}
	}
	limit := max(1, utf8.RuneCountInString(word)/3)
	bestDist := limit + 1
	for _, c := range candidates {
		if c == word {
			continue
		}
		if d := Distance(lw, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best, bestDist <= limit
}

// DidYouMean is `, did you mean "x"?` for the closest candidate, or "" when
// none is close.
func DidYouMean(word string, candidates []string) string {
	if c, ok := Closest(word, candidates); ok {
		return fmt.Sprintf(", did you mean %q?", c)
	}
	return ""
}

// Distance is the Levenshtein distance between a and b, in runes: the
// fewest single-rune insertions, deletions and substitutions that turn one
// into the other.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
