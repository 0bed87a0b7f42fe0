package sql

import (
	"strings"
	"unicode/utf8"
)

// likePattern is a compiled LIKE pattern.
type likePattern struct {
	elems []likeElem
	// Fast paths for the common shapes; exact when elems has no wildcard.
	kind   likeKind
	needle string
}

type likeKind uint8

const (
	likeGeneral  likeKind = iota
	likeExact             // abc
	likePrefix            // abc%
	likeSuffix            // %abc
	likeContains          // %abc%
)

type likeElem struct {
	r    rune // literal rune when !one && !many
	one  bool // _
	many bool // %
}

// compileLike parses a LIKE pattern: % is any run of characters, _ one
// character, and \ makes the next character literal (a trailing \ is
// itself).
func compileLike(pattern string) *likePattern {
	p := &likePattern{}
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		switch r {
		case '%':
			if n := len(p.elems); n == 0 || !p.elems[n-1].many {
				p.elems = append(p.elems, likeElem{many: true})
			}
			continue
		case '_':
			p.elems = append(p.elems, likeElem{one: true})
			continue
		case '\\':
			if i < len(pattern) {
				r, size = utf8.DecodeRuneInString(pattern[i:])
				i += size
			}
		}
		p.elems = append(p.elems, likeElem{r: r})
	}
	p.kind, p.needle = likeShape(p.elems)
	return p
}

// likeShape recognises patterns that are a literal with % at either end.
func likeShape(elems []likeElem) (likeKind, string) {
	lead := len(elems) > 0 && elems[0].many
	trail := len(elems) > 1 && elems[len(elems)-1].many
	mid := elems
	if lead {
		mid = mid[1:]
	}
	if trail {
		mid = mid[:len(mid)-1]
	}
	var b strings.Builder
	for _, e := range mid {
		if e.one || e.many || e.r == utf8.RuneError {
			return likeGeneral, ""
		}
		b.WriteRune(e.r)
	}
	switch {
	case lead && trail:
		return likeContains, b.String()
	case lead:
		return likeSuffix, b.String()
	case trail:
		return likePrefix, b.String()
	}
	return likeExact, b.String()
}

func (p *likePattern) match(s string) bool {
	switch p.kind {
	case likeExact:
		return s == p.needle
	case likePrefix:
		return strings.HasPrefix(s, p.needle)
	case likeSuffix:
		return strings.HasSuffix(s, p.needle)
	case likeContains:
		return strings.Contains(s, p.needle)
	}
	return p.matchGeneral(s)
}

// matchGeneral is the classic wildcard match with backtracking to the last
// %: O(len(s) * len(elems)) at worst.
func (p *likePattern) matchGeneral(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p.elems) {
			e := p.elems[pi]
			if e.many {
				starP, starS = pi, si
				pi++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[si:])
			if e.one || r == e.r {
				pi++
				si += size
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last % take one more character and retry.
		_, size := utf8.DecodeRuneInString(s[starS:])
		starS += size
		pi, si = starP+1, starS
	}
	for pi < len(p.elems) && p.elems[pi].many {
		pi++
	}
	return pi == len(p.elems)
}
