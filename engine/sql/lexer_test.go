package sql

import (
	"fmt"
	"strings"
	"testing"
)

// dumpTokens renders tokens as "kind:val@line:col" for comparison.
func dumpTokens(toks []token) string {
	var parts []string
	for _, t := range toks {
		var s string
		switch t.kind {
		case tokEOF:
			s = "EOF"
		case tokIllegal:
			s = "ERR(" + t.text + ")"
		case tokIdent:
			s = "id:" + t.val
		case tokQuoted:
			s = "qid:" + t.val
		case tokKeyword:
			s = "kw:" + t.val
		case tokInt:
			s = "int:" + t.val
		case tokFloat:
			s = "float:" + t.val
		case tokString:
			s = fmt.Sprintf("str:%q", t.val)
		default:
			s = t.text
		}
		parts = append(parts, fmt.Sprintf("%s@%s", s, t.pos))
	}
	return strings.Join(parts, " ")
}

func TestLexer(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"", "EOF@1:1"},
		{"  \t\n ", "EOF@2:2"},
		{"select Select SELECT", "kw:SELECT@1:1 kw:SELECT@1:8 kw:SELECT@1:15 EOF@1:21"},
		{"a _b c1 温度", "id:a@1:1 id:_b@1:3 id:c1@1:6 id:温度@1:9 EOF@1:15"},
		{"create stream with except group", "id:create@1:1 id:stream@1:8 id:with@1:15 id:except@1:20 id:group@1:27 EOF@1:32"},
		// The clause words are recognised by position, not reserved.
		{"by having order asc desc limit join inner left right full outer cross on filter over",
			"id:by@1:1 id:having@1:4 id:order@1:11 id:asc@1:17 id:desc@1:21 id:limit@1:26 id:join@1:32 id:inner@1:37 id:left@1:43 id:right@1:48 id:full@1:54 id:outer@1:59 id:cross@1:65 id:on@1:71 id:filter@1:74 id:over@1:81 EOF@1:85"},
		{"`weird name` `a``b` `select`", "qid:weird name@1:1 qid:a`b@1:14 qid:select@1:21 EOF@1:29"},
		{"0 42 3.14 .5 1e3 2.5E-3 7e+2", "int:0@1:1 int:42@1:3 float:3.14@1:6 float:.5@1:11 float:1e3@1:14 float:2.5E-3@1:18 float:7e+2@1:25 EOF@1:29"},
		{"1.x", "int:1@1:1 .@1:2 id:x@1:3 EOF@1:4"},
		{`"a" 'b' "it's" 'say "hi"'`, `str:"a"@1:1 str:"b"@1:5 str:"it's"@1:9 str:"say \"hi\""@1:16 EOF@1:26`},
		{`'a\nb\tc\rd\0e\\f\'g\"h'`, `str:"a\nb\tc\rd\x00e\\f'g\"h"@1:1 EOF@1:25`},
		{`'50\% \_ \d+'`, `str:"50\\% \\_ \\d+"@1:1 EOF@1:14`},
		{`'it''s' "a""b"`, `str:"it's"@1:1 str:"a\"b"@1:9 EOF@1:15`},
		{"'multi\nline' x", `str:"multi\nline"@1:1 id:x@2:7 EOF@2:8`},
		{"( ) [ ] , ; . * + - / % = != <> < <= > >= ->", "(@1:1 )@1:3 [@1:5 ]@1:7 ,@1:9 ;@1:11 .@1:13 *@1:15 +@1:17 -@1:19 /@1:21 %@1:23 =@1:25 !=@1:27 <>@1:30 <@1:33 <=@1:35 >@1:38 >=@1:40 ->@1:43 EOF@1:45"},
		{"a->b a-b a - -1", "id:a@1:1 ->@1:2 id:b@1:4 id:a@1:6 -@1:7 id:b@1:8 id:a@1:10 -@1:12 -@1:14 int:1@1:15 EOF@1:16"},
		{"a -- comment\nb", "id:a@1:1 id:b@2:1 EOF@2:2"},
		{"a--b", "id:a@1:1 EOF@1:5"},
		{"a /* x\n y */ b /**/c", "id:a@1:1 id:b@2:7 id:c@2:13 EOF@2:14"},
		{"a / b", "id:a@1:1 /@1:3 id:b@1:5 EOF@1:6"},
		// Lexical errors end the token stream.
		{"a # b", "id:a@1:1 ERR(unexpected character '#')@1:3"},
		{"a ! b", "id:a@1:1 ERR(unexpected character '!')@1:3"},
		{"x 'abc", "id:x@1:1 ERR(unterminated string literal)@1:3"},
		{`"abc\"`, "ERR(unterminated string literal)@1:1"},
		{"`abc", "ERR(unterminated quoted identifier)@1:1"},
		{"``", "ERR(empty quoted identifier)@1:1"},
		{"a /* b", "id:a@1:1 ERR(unterminated comment)@1:3"},
		{"1e", `ERR(malformed number "1e")@1:1`},
		{"\n 2.5e+x", `ERR(malformed number "2.5e+")@2:2`},
		{"a \xff", "id:a@1:1 ERR(invalid UTF-8 byte 0xff)@1:3"},
	}
	for _, tt := range tests {
		if got := dumpTokens(tokenize(tt.src)); got != tt.want {
			t.Errorf("tokenize(%q)\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func TestIsBareIdent(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "_x1": true, "温度": true, "group": true, "self": false, "Select": false,
		"": false, "1a": false, "a b": false, "a-b": false, "a`b": false,
	} {
		if got := isBareIdent(s); got != want {
			t.Errorf("isBareIdent(%q) = %v, want %v", s, got, want)
		}
	}
}
