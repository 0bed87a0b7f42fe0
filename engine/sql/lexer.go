package sql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokEOF     tokenKind = iota
	tokIllegal           // a lexical error; text holds the message
	tokIdent             // bare identifier that is not a reserved word
	tokQuoted            // `backquoted identifier`
	tokKeyword           // reserved word; val is upper-case
	tokInt
	tokFloat
	tokString
	tokLParen
	tokRParen
	tokLBrack
	tokRBrack
	tokComma
	tokSemi
	tokDot
	tokStar
	tokPlus
	tokMinus
	tokSlash
	tokPercent
	tokEq
	tokNe // != or <>
	tokLt
	tokLe
	tokGt
	tokGe
	tokArrow
)

// token is one lexical token.
type token struct {
	kind tokenKind
	pos  Pos
	// text is the token as written; for tokIllegal, the error message.
	text string
	// val is the identifier's name, the keyword in upper case or the
	// string literal's value with escapes resolved.
	val string
}

// keywords are the reserved words: they cannot name a field unless
// backquoted. Words that only matter in one place (CREATE, STREAM, WITH,
// EXCEPT, type names, GROUP, ...) are recognised there and stay usable as
// names.
var keywords = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "AS": true,
	"AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true, "LIKE": true, "IS": true,
	"CASE": true, "WHEN": true, "THEN": true, "ELSE": true, "END": true,
	"TRUE": true, "FALSE": true, "NULL": true, "SELF": true,
}

func isKeyword(s string) bool { return keywords[strings.ToUpper(s)] }

// tokenize splits src into tokens. The last token is tokEOF, or tokIllegal at
// the first lexical error: the parser meets that token only after everything
// before it parsed, so errors are still reported in source order.
func tokenize(src string) []token {
	lx := lexer{src: src, line: 1}
	toks := make([]token, 0, len(src)/4+1)
	for {
		t := lx.next()
		toks = append(toks, t)
		if t.kind == tokEOF || t.kind == tokIllegal {
			return toks
		}
	}
}

type lexer struct {
	src       string
	off       int
	line      int
	lineStart int // offset of the first byte of the current line
}

func (lx *lexer) pos() Pos { return Pos{Line: lx.line, Col: lx.off - lx.lineStart + 1} }

// advance moves past n bytes, keeping line counts right.
func (lx *lexer) advance(n int) {
	for ; n > 0; n-- {
		if lx.src[lx.off] == '\n' {
			lx.line++
			lx.lineStart = lx.off + 1
		}
		lx.off++
	}
}

func (lx *lexer) peekByte(i int) byte {
	if lx.off+i < len(lx.src) {
		return lx.src[lx.off+i]
	}
	return 0
}

func (lx *lexer) illegal(pos Pos, format string, args ...any) token {
	return token{kind: tokIllegal, pos: pos, text: fmt.Sprintf(format, args...)}
}

// skipSpace skips white space and comments; it returns an illegal token for
// an unterminated block comment.
func (lx *lexer) skipSpace() (token, bool) {
	for lx.off < len(lx.src) {
		switch c := lx.src[lx.off]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.advance(1)
		case c == '-' && lx.peekByte(1) == '-':
			for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
				lx.off++
			}
		case c == '/' && lx.peekByte(1) == '*':
			start := lx.pos()
			end := strings.Index(lx.src[lx.off+2:], "*/")
			if end < 0 {
				return lx.illegal(start, "unterminated comment"), false
			}
			lx.advance(2 + end + 2)
		default:
			return token{}, true
		}
	}
	return token{}, true
}

var punct = [...]struct {
	text string
	kind tokenKind
}{
	// Two-byte operators first.
	{"!=", tokNe}, {"<>", tokNe}, {"<=", tokLe}, {">=", tokGe}, {"->", tokArrow},
	{"(", tokLParen}, {")", tokRParen}, {"[", tokLBrack}, {"]", tokRBrack},
	{",", tokComma}, {";", tokSemi}, {".", tokDot}, {"*", tokStar},
	{"+", tokPlus}, {"-", tokMinus}, {"/", tokSlash}, {"%", tokPercent},
	{"=", tokEq}, {"<", tokLt}, {">", tokGt},
}

func (lx *lexer) next() token {
	if t, ok := lx.skipSpace(); !ok {
		return t
	}
	pos := lx.pos()
	if lx.off >= len(lx.src) {
		return token{kind: tokEOF, pos: pos}
	}
	c := lx.src[lx.off]
	switch {
	case isDigit(c) || c == '.' && isDigit(lx.peekByte(1)):
		return lx.number(pos)
	case c == '"' || c == '\'':
		return lx.quoted(pos, c)
	case c == '`':
		return lx.quoted(pos, c)
	}
	if r, size := utf8.DecodeRuneInString(lx.src[lx.off:]); isIdentStart(r) {
		start := lx.off
		lx.off += size
		for lx.off < len(lx.src) {
			r, size := utf8.DecodeRuneInString(lx.src[lx.off:])
			if !isIdentPart(r) {
				break
			}
			lx.off += size
		}
		text := lx.src[start:lx.off]
		if up := strings.ToUpper(text); keywords[up] {
			return token{kind: tokKeyword, pos: pos, text: text, val: up}
		}
		return token{kind: tokIdent, pos: pos, text: text, val: text}
	}
	for _, p := range punct {
		if strings.HasPrefix(lx.src[lx.off:], p.text) {
			lx.off += len(p.text)
			return token{kind: p.kind, pos: pos, text: p.text}
		}
	}
	r, _ := utf8.DecodeRuneInString(lx.src[lx.off:])
	if r == utf8.RuneError {
		return lx.illegal(pos, "invalid UTF-8 byte %#x", c)
	}
	return lx.illegal(pos, "unexpected character %q", r)
}

// number lexes digits [ "." digits ] [ exponent ] or "." digits [ exponent ].
func (lx *lexer) number(pos Pos) token {
	start := lx.off
	kind := tokInt
	for isDigit(lx.peekByte(0)) {
		lx.off++
	}
	if lx.peekByte(0) == '.' && isDigit(lx.peekByte(1)) {
		kind = tokFloat
		lx.off++
		for isDigit(lx.peekByte(0)) {
			lx.off++
		}
	}
	if c := lx.peekByte(0); c == 'e' || c == 'E' {
		n := 1
		if s := lx.peekByte(1); s == '+' || s == '-' {
			n = 2
		}
		if !isDigit(lx.peekByte(n)) {
			return lx.illegal(pos, "malformed number %q", lx.src[start:lx.off+n])
		}
		kind = tokFloat
		lx.off += n
		for isDigit(lx.peekByte(0)) {
			lx.off++
		}
	}
	text := lx.src[start:lx.off]
	return token{kind: kind, pos: pos, text: text, val: text}
}

// quoted lexes a string literal ('...' or "...") or a backquoted
// identifier. In both, a doubled quote stands for itself. String literals
// also resolve the escapes \n \t \r \0 \\ \' \" and \`; any other backslash
// is kept with the byte after it, so that LIKE patterns ('50\%') and regular
// expressions ('\d+') read as written.
func (lx *lexer) quoted(pos Pos, q byte) token {
	start := lx.off
	lx.advance(1)
	var b strings.Builder
	for {
		if lx.off >= len(lx.src) {
			if q == '`' {
				return lx.illegal(pos, "unterminated quoted identifier")
			}
			return lx.illegal(pos, "unterminated string literal")
		}
		c := lx.src[lx.off]
		switch {
		case c == q && lx.peekByte(1) == q:
			b.WriteByte(q)
			lx.advance(2)
			continue
		case c == q:
			lx.advance(1)
			text := lx.src[start:lx.off]
			if q == '`' {
				if b.Len() == 0 {
					return lx.illegal(pos, "empty quoted identifier")
				}
				return token{kind: tokQuoted, pos: pos, text: text, val: b.String()}
			}
			return token{kind: tokString, pos: pos, text: text, val: b.String()}
		case c == '\\' && q != '`' && lx.off+1 < len(lx.src):
			e := lx.src[lx.off+1]
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case '\\', '\'', '"', '`':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
			lx.advance(2)
			continue
		}
		b.WriteByte(c)
		lx.advance(1)
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdentStart(r rune) bool {
	return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r >= utf8.RuneSelf && unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || '0' <= r && r <= '9' || r >= utf8.RuneSelf && unicode.IsDigit(r)
}

// isBareIdent reports whether s can be written without backquotes.
func isBareIdent(s string) bool {
	if s == "" || isKeyword(s) {
		return false
	}
	for i, r := range s {
		if r == utf8.RuneError || !isIdentPart(r) || i == 0 && !isIdentStart(r) {
			return false
		}
	}
	return true
}
