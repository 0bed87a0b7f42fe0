package sql

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/engine/schema"
)

// maxDepth bounds expression nesting so that hostile input cannot exhaust
// the stack of the recursive-descent parser.
const maxDepth = 500

// MaxTypeDepth bounds the nesting of ARRAY and STRUCT column types: a
// stream's schema is walked for every row, and deeper types serve no
// payload a device sends.
const MaxTypeDepth = 32

// MaxLength bounds a statement, in bytes.
const MaxLength = 1 << 20

// tooLong is the error of a statement longer than MaxLength, nil else.
func tooLong(src string) error {
	if len(src) > MaxLength {
		return errorf(Pos{Line: 1, Col: 1}, "the statement is %d bytes, longer than the limit of %d", len(src), MaxLength)
	}
	return nil
}

// Parse parses one statement, SELECT or CREATE STREAM, optionally followed
// by ";". Every error is an *Error.
func Parse(src string) (Statement, error) {
	if err := tooLong(src); err != nil {
		return nil, err
	}
	p := newParser(src)
	switch {
	case p.isKeyword("SELECT"):
		return p.parseSelect()
	case p.isWord("CREATE"):
		return p.parseCreateStream()
	}
	return nil, p.expected("SELECT or CREATE STREAM")
}

// ParseSelect parses a SELECT statement.
func ParseSelect(src string) (*Select, error) {
	if err := tooLong(src); err != nil {
		return nil, err
	}
	p := newParser(src)
	if !p.isKeyword("SELECT") {
		return nil, p.expected("SELECT")
	}
	return p.parseSelect()
}

// ParseCreateStream parses a CREATE STREAM statement.
func ParseCreateStream(src string) (*CreateStream, error) {
	if err := tooLong(src); err != nil {
		return nil, err
	}
	p := newParser(src)
	if !p.isWord("CREATE") {
		return nil, p.expected("CREATE STREAM")
	}
	return p.parseCreateStream()
}

type parser struct {
	toks  []token
	i     int
	depth int
	// typeDepth is the nesting of the ARRAY and STRUCT types being parsed.
	typeDepth int
	// clause is where expressions are being parsed ("SELECT", "WHERE",
	// ...), for the error about a window call outside GROUP BY.
	clause string
}

func newParser(src string) *parser { return &parser{toks: tokenize(src)} }

func (p *parser) tok() token { return p.toks[p.i] }

// peek returns the token n after the current one; past the end, the last
// token (EOF or the lexical error).
func (p *parser) peek(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) is(k tokenKind) bool { return p.tok().kind == k }

func (p *parser) isKeyword(kw string) bool {
	t := p.tok()
	return t.kind == tokKeyword && t.val == kw
}

// isWord reports whether the current token is the unreserved word w (an
// unquoted identifier, any case).
func (p *parser) isWord(w string) bool {
	t := p.tok()
	return t.kind == tokIdent && strings.EqualFold(t.text, w)
}

func (p *parser) accept(k tokenKind) bool {
	if p.is(k) {
		p.next()
		return true
	}
	return false
}

// describe names a token for error messages.
func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokString:
		return "string " + strconv.Quote(t.val)
	}
	return strconv.Quote(t.text)
}

// unexpected reports the current token; a lexical error reports itself.
func (p *parser) unexpected() *Error {
	t := p.tok()
	if t.kind == tokIllegal {
		return errorf(t.pos, "%s", t.text)
	}
	return errorf(t.pos, "unexpected %s", describe(t))
}

// expected reports that what was wanted instead of the current token.
func (p *parser) expected(what string) *Error {
	t := p.tok()
	if t.kind == tokIllegal {
		return errorf(t.pos, "%s", t.text)
	}
	return errorf(t.pos, "expected %s, got %s", what, describe(t))
}

func (p *parser) expect(k tokenKind, what string) (token, error) {
	if !p.is(k) {
		return token{}, p.expected(what)
	}
	return p.next(), nil
}

func (p *parser) expectKeyword(kw string) error {
	if !p.isKeyword(kw) {
		return p.expected(kw)
	}
	p.next()
	return nil
}

// expectWord requires the unreserved word w.
func (p *parser) expectWord(w string) error {
	if !p.isWord(w) {
		return p.expected(w)
	}
	p.next()
	return nil
}

// name parses an identifier, bare or backquoted.
func (p *parser) name(what string) (string, Pos, error) {
	t := p.tok()
	if t.kind != tokIdent && t.kind != tokQuoted {
		return "", t.pos, p.expected(what)
	}
	p.next()
	return t.val, t.pos, nil
}

// anyName is name that also takes a reserved word (as written), for places
// where nothing else could follow: member names, column and option names.
func (p *parser) anyName(what string) (string, Pos, error) {
	if t := p.tok(); t.kind == tokKeyword {
		p.next()
		return t.text, t.pos, nil
	}
	return p.name(what)
}

// end accepts an optional ";" and requires the end of input.
func (p *parser) end() error {
	p.accept(tokSemi)
	if !p.is(tokEOF) {
		return p.unexpected()
	}
	return nil
}

// CREATE STREAM

func (p *parser) parseCreateStream() (*CreateStream, error) {
	p.next() // CREATE
	if !p.isWord("STREAM") {
		return nil, p.expected("STREAM")
	}
	p.next()
	name, _, err := p.name("stream name")
	if err != nil {
		return nil, err
	}
	cs := &CreateStream{Name: name, Options: map[string]string{}}
	if _, err := p.expect(tokLParen, `"("`); err != nil {
		return nil, err
	}
	if !p.accept(tokRParen) {
		if cs.Schema, err = p.columns(); err != nil {
			return nil, err
		}
	}
	if p.isWord("WITH") {
		p.next()
		if cs.Options, err = p.options(); err != nil {
			return nil, err
		}
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return cs, nil
}

// columns parses `name type, ...)` after the "(".
func (p *parser) columns() ([]schema.Field, error) {
	var fields []schema.Field
	seen := map[string]bool{}
	for {
		name, pos, err := p.anyName("column name")
		if err != nil {
			return nil, err
		}
		if seen[name] {
			return nil, errorf(pos, "duplicate column %q", name)
		}
		seen[name] = true
		typ, err := p.columnType()
		if err != nil {
			return nil, err
		}
		fields = append(fields, schema.Field{Name: name, Type: typ})
		if p.accept(tokRParen) {
			return fields, nil
		}
		if _, err := p.expect(tokComma, `"," or ")"`); err != nil {
			return nil, err
		}
	}
}

func (p *parser) columnType() (schema.Type, error) {
	t := p.tok()
	if t.kind != tokIdent {
		return schema.Type{}, p.expected("column type")
	}
	kind, ok := schema.KindByName(t.text)
	if !ok {
		return schema.Type{}, errorf(t.pos, "unknown type %q", t.text)
	}
	if kind == schema.Array || kind == schema.Struct {
		if p.typeDepth >= MaxTypeDepth {
			return schema.Type{}, errorf(t.pos, "column type nested too deeply: ARRAY and STRUCT nest at most %d deep", MaxTypeDepth)
		}
		p.typeDepth++
		defer func() { p.typeDepth-- }()
	}
	p.next()
	switch kind {
	case schema.Array:
		if _, err := p.expect(tokLParen, `"("`); err != nil {
			return schema.Type{}, err
		}
		elem, err := p.columnType()
		if err != nil {
			return schema.Type{}, err
		}
		if _, err := p.expect(tokRParen, `")"`); err != nil {
			return schema.Type{}, err
		}
		return schema.Type{Kind: kind, Elem: &elem}, nil
	case schema.Struct:
		if _, err := p.expect(tokLParen, `"("`); err != nil {
			return schema.Type{}, err
		}
		fields, err := p.columns()
		if err != nil {
			return schema.Type{}, err
		}
		return schema.Type{Kind: kind, Fields: fields}, nil
	}
	return schema.Type{Kind: kind}, nil
}

// options parses `(KEY = "value", ...)`.
func (p *parser) options() (map[string]string, error) {
	if _, err := p.expect(tokLParen, `"("`); err != nil {
		return nil, err
	}
	opts := map[string]string{}
	for {
		key, pos, err := p.anyName("option name")
		if err != nil {
			return nil, err
		}
		key = strings.ToUpper(key)
		if _, dup := opts[key]; dup {
			return nil, errorf(pos, "duplicate option %q", key)
		}
		if _, err := p.expect(tokEq, `"="`); err != nil {
			return nil, err
		}
		v, err := p.expect(tokString, "string")
		if err != nil {
			return nil, err
		}
		opts[key] = v.val
		if p.accept(tokRParen) {
			return opts, nil
		}
		if _, err := p.expect(tokComma, `"," or ")"`); err != nil {
			return nil, err
		}
	}
}

// SELECT

func (p *parser) parseSelect() (*Select, error) {
	p.next() // SELECT
	sel := &Select{Limit: -1}
	p.clause = "SELECT"
	for {
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		sel.Fields = append(sel.Fields, f)
		if !p.accept(tokComma) {
			break
		}
	}
	if err := p.expectKeyword("FROM"); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var err error
	if sel.From, sel.Alias, err = p.source(seen); err != nil {
		return nil, err
	}
	for p.isJoin() {
		j, err := p.join(seen)
		if err != nil {
			return nil, err
		}
		sel.Joins = append(sel.Joins, j)
	}
	if p.isKeyword("WHERE") {
		p.next()
		p.clause = "WHERE"
		if sel.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.isWord("GROUP") {
		p.next()
		if err := p.groupBy(sel); err != nil {
			return nil, err
		}
	}
	if p.isWord("HAVING") {
		p.next()
		p.clause = "HAVING"
		if sel.Having, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if p.isWord("ORDER") {
		p.next()
		if sel.OrderBy, err = p.orderBy(); err != nil {
			return nil, err
		}
	}
	if p.isWord("LIMIT") {
		p.next()
		p.clause = "LIMIT"
		a, err := p.arg()
		if err != nil {
			return nil, err
		}
		n, ok := a.int()
		if !ok || n < 0 {
			return nil, errorf(a.tok.pos, "LIMIT: want a non-negative integer, got %s", a)
		}
		sel.Limit = n
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	if err := resolve(sel); err != nil {
		return nil, err
	}
	return sel, nil
}

// source parses `name [AS alias]` in FROM or JOIN. seen holds the names
// the streams before it go by (alias, else name), which must differ.
func (p *parser) source(seen map[string]bool) (name, alias string, err error) {
	name, pos, err := p.name("stream name")
	if err != nil {
		return "", "", err
	}
	if p.isKeyword("AS") {
		p.next()
		if alias, pos, err = p.name("alias"); err != nil {
			return "", "", err
		}
		if seen[alias] {
			return "", "", errorf(pos, "duplicate alias %q in FROM, want a distinct one", alias)
		}
		seen[alias] = true
		return name, alias, nil
	}
	if seen[name] {
		return "", "", errorf(pos, "duplicate stream %q in FROM, want an alias with AS", name)
	}
	seen[name] = true
	return name, "", nil
}

// joinKinds are the words that start a join.
var joinKinds = map[string]JoinKind{
	"JOIN": InnerJoin, "INNER": InnerJoin, "LEFT": LeftJoin, "RIGHT": RightJoin, "FULL": FullJoin, "CROSS": CrossJoin,
}

func (p *parser) isJoin() bool {
	t := p.tok()
	if t.kind != tokIdent {
		return false
	}
	_, ok := joinKinds[strings.ToUpper(t.text)]
	return ok
}

// join parses `[INNER|LEFT [OUTER]|RIGHT [OUTER]|FULL [OUTER]|CROSS] JOIN
// stream [AS alias] [ON expr]` at its first word.
func (p *parser) join(seen map[string]bool) (Join, error) {
	t := p.next()
	word := strings.ToUpper(t.text)
	j := Join{node: at(t.pos), Kind: joinKinds[word]}
	if word != "JOIN" {
		if j.Kind == LeftJoin || j.Kind == RightJoin || j.Kind == FullJoin {
			if p.isWord("OUTER") {
				p.next()
			}
		}
		if err := p.expectWord("JOIN"); err != nil {
			return Join{}, err
		}
	}
	var err error
	if j.Stream, j.Alias, err = p.source(seen); err != nil {
		return Join{}, err
	}
	if j.Kind == CrossJoin {
		if p.isWord("ON") {
			return Join{}, errorf(p.tok().pos, "CROSS JOIN takes no ON; write INNER JOIN for a join condition")
		}
		return j, nil
	}
	if err := p.expectWord("ON"); err != nil {
		return Join{}, err
	}
	p.clause = "ON"
	if j.On, err = p.expr(); err != nil {
		return Join{}, err
	}
	return j, nil
}

// groupBy parses `BY item, ...` after GROUP: expressions and at most one
// window.
func (p *parser) groupBy(sel *Select) error {
	if err := p.expectWord("BY"); err != nil {
		return err
	}
	for {
		t := p.tok()
		if kind, ok := windowKinds[strings.ToUpper(t.text)]; ok && t.kind == tokIdent && p.peek(1).kind == tokLParen {
			if kind == stateWindow {
				return errStateWindow(t)
			}
			if w := sel.Window; w != nil {
				return errorf(t.pos, "%s: GROUP BY already has a window (%s at %s), want one at most", kind, w.Kind, w.pos)
			}
			w, err := p.window(kind)
			if err != nil {
				return err
			}
			sel.Window = w
		} else {
			p.clause = "a GROUP BY expression"
			e, err := p.expr()
			if err != nil {
				return err
			}
			sel.GroupBy = append(sel.GroupBy, e)
		}
		if !p.accept(tokComma) {
			return nil
		}
	}
}

// orderBy parses `BY expr [ASC|DESC], ...` after ORDER.
func (p *parser) orderBy() ([]OrderItem, error) {
	if err := p.expectWord("BY"); err != nil {
		return nil, err
	}
	p.clause = "ORDER BY"
	var items []OrderItem
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		item := OrderItem{Expr: e}
		if p.isWord("ASC") {
			p.next()
		} else if p.isWord("DESC") {
			p.next()
			item.Desc = true
		}
		items = append(items, item)
		if !p.accept(tokComma) {
			return items, nil
		}
	}
}

// stateWindow is eKuiper's STATEWINDOW, which kgen recognises only to say
// that it has no such window.
const stateWindow WindowKind = -1

var windowKinds = map[string]WindowKind{
	"TUMBLINGWINDOW": TumblingWindow, "HOPPINGWINDOW": HoppingWindow, "SLIDINGWINDOW": SlidingWindow,
	"SESSIONWINDOW": SessionWindow, "COUNTWINDOW": CountWindow, "STATEWINDOW": stateWindow,
}

func errStateWindow(name token) error {
	return errorf(name.pos, "STATEWINDOW is not supported, want TUMBLINGWINDOW, HOPPINGWINDOW, SLIDINGWINDOW, SESSIONWINDOW or COUNTWINDOW")
}

// windowParams are the parameters of each kind of window: the names used
// in messages, how many are required, and the signature.
var windowParams = [...]struct {
	names     []string
	required  int
	signature string
}{
	TumblingWindow: {[]string{"unit", "length"}, 2, "2 arguments (unit, length)"},
	HoppingWindow:  {[]string{"unit", "length", "hop"}, 3, "3 arguments (unit, length, hop)"},
	SlidingWindow:  {[]string{"unit", "length", "delay"}, 2, "2 or 3 arguments (unit, length[, delay])"},
	SessionWindow:  {[]string{"unit", "maxDuration", "timeout"}, 3, "3 arguments (unit, maxDuration, timeout)"},
	CountWindow:    {[]string{"n", "hop"}, 1, "1 or 2 arguments (n[, hop])"},
}

var timeUnits = map[string]bool{"ms": true, "ss": true, "mi": true, "hh": true, "dd": true}

// window parses a window call at its name, then FILTER (WHERE cond) and
// OVER (WHEN cond). The arguments are parsed as expressions first, so that
// an error can say what was written and how many there are.
func (p *parser) window(kind WindowKind) (*Window, error) {
	name := p.next()
	p.next() // (
	p.clause = "a window argument"
	var args []arg
	for !p.is(tokRParen) {
		a, err := p.arg()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
		if p.is(tokRParen) {
			break
		}
		if _, err := p.expect(tokComma, `"," or ")"`); err != nil {
			return nil, err
		}
		if p.is(tokRParen) {
			return nil, p.unexpected()
		}
	}
	rparen := p.next().pos

	w := &Window{node: at(name.pos), Kind: kind}
	params := windowParams[kind]
	var ints []int64
	for i, a := range args {
		if i == len(params.names) {
			return nil, errorf(a.tok.pos, "%s: want %s, got %d", kind, params.signature, len(args))
		}
		if params.names[i] == "unit" {
			if a.n != 1 || a.tok.kind != tokIdent {
				return nil, errorf(a.tok.pos, "%s: argument 1 (unit): want a time unit (ms, ss, mi, hh or dd), got %s", kind, a)
			}
			if w.Unit = strings.ToLower(a.tok.text); !timeUnits[w.Unit] {
				return nil, errorf(a.tok.pos, "%s: unknown time unit %q, want ms, ss, mi, hh or dd", kind, a.tok.text)
			}
			continue
		}
		n, ok := a.int()
		if !ok || n <= 0 {
			return nil, errorf(a.tok.pos, "%s: argument %d (%s): want a positive integer, got %s", kind, i+1, params.names[i], a)
		}
		ints = append(ints, n)
	}
	if len(args) < params.required {
		return nil, errorf(rparen, "%s: want %s, got %d", kind, params.signature, len(args))
	}
	w.Length = ints[0]
	if len(ints) > 1 {
		w.Interval = ints[1]
	}
	if kind == CountWindow {
		if len(ints) == 1 {
			w.Interval = w.Length
		} else if w.Interval > w.Length {
			return nil, errorf(args[1].tok.pos, "%s: argument 2 (hop): want at most %d (n), got %s", kind, w.Length, args[1])
		}
	}

	var err error
	if p.isWord("FILTER") {
		p.next()
		if w.Filter, err = p.windowCond("WHERE", "FILTER"); err != nil {
			return nil, err
		}
	}
	if p.isWord("OVER") {
		t := p.next()
		if kind != SlidingWindow {
			return nil, errorf(t.pos, "%s: OVER (WHEN ...) is for SLIDINGWINDOW only", kind)
		}
		if w.Trigger, err = p.windowCond("WHEN", "OVER"); err != nil {
			return nil, err
		}
		if p.isWord("FILTER") {
			return nil, errorf(p.tok().pos, "%s: FILTER after OVER, want FILTER (WHERE ...) before OVER (WHEN ...)", kind)
		}
	}
	return w, nil
}

// windowCond parses `(kw expr)` after FILTER or OVER.
func (p *parser) windowCond(kw, clause string) (Expr, error) {
	if _, err := p.expect(tokLParen, `"("`); err != nil {
		return nil, err
	}
	if err := p.expectKeyword(kw); err != nil {
		return nil, err
	}
	p.clause = clause
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokRParen, `")"`); err != nil {
		return nil, err
	}
	return e, nil
}

// arg is a window argument or the LIMIT count: parsed as any expression,
// then checked to be a bare word (a unit) or an integer literal, and kept
// with its first token so that errors can quote what was written.
type arg struct {
	tok token // the first token
	n   int   // how many tokens it spans
	e   Expr
}

func (p *parser) arg() (arg, error) {
	start, t := p.i, p.tok()
	e, err := p.expr()
	return arg{tok: t, n: p.i - start, e: e}, err
}

// int returns the value of an integer literal.
func (a arg) int() (int64, bool) {
	if l, ok := a.e.(*Literal); ok {
		n, ok := l.Value.(int64)
		return n, ok
	}
	return 0, false
}

// String describes the argument for messages: the token, or the
// expression in canonical form, quoted.
func (a arg) String() string {
	if a.n == 1 {
		return describe(a.tok)
	}
	return strconv.Quote(a.e.String())
}

func (p *parser) field() (Field, error) {
	t := p.tok()
	if t.kind == tokStar {
		s, err := p.star(t.pos, "")
		return Field{Expr: s}, err
	}
	if (t.kind == tokIdent || t.kind == tokQuoted) && p.peek(1).kind == tokDot && p.peek(2).kind == tokStar {
		p.next()
		p.next()
		s, err := p.star(t.pos, t.val)
		return Field{Expr: s}, err
	}
	e, err := p.expr()
	if err != nil {
		return Field{}, err
	}
	f := Field{Expr: e}
	if p.isKeyword("AS") {
		p.next()
		if f.Alias, _, err = p.name("alias"); err != nil {
			return Field{}, err
		}
	}
	return f, nil
}

// star parses `*` [EXCEPT(name, ...)] at the "*"; pos is where the star
// (or its qualifier) starts.
func (p *parser) star(pos Pos, stream string) (*Star, error) {
	p.next()
	s := &Star{node: at(pos), Stream: stream}
	if !p.isWord("EXCEPT") {
		return s, nil
	}
	p.next()
	if _, err := p.expect(tokLParen, `"("`); err != nil {
		return nil, err
	}
	for {
		n, _, err := p.name("column name")
		if err != nil {
			return nil, err
		}
		s.Except = append(s.Except, n)
		if p.accept(tokRParen) {
			return s, nil
		}
		if _, err := p.expect(tokComma, `"," or ")"`); err != nil {
			return nil, err
		}
	}
}

// Expressions, lowest precedence first.

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return errorf(p.tok().pos, "expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) expr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.or()
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	for err == nil && p.isKeyword("OR") {
		pos := p.next().pos
		var r Expr
		if r, err = p.and(); err == nil {
			l = &Binary{node: at(pos), Op: OpOr, L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) and() (Expr, error) {
	l, err := p.not()
	for err == nil && p.isKeyword("AND") {
		pos := p.next().pos
		var r Expr
		if r, err = p.not(); err == nil {
			l = &Binary{node: at(pos), Op: OpAnd, L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) not() (Expr, error) {
	if !p.isKeyword("NOT") {
		return p.comparison()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	pos := p.next().pos
	x, err := p.not()
	if err != nil {
		return nil, err
	}
	return &Unary{node: at(pos), Op: OpNot, X: x}, nil
}

var comparisonOps = map[tokenKind]Op{
	tokEq: OpEq, tokNe: OpNe, tokLt: OpLt, tokLe: OpLe, tokGt: OpGt, tokGe: OpGe,
}

func (p *parser) comparison() (Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	for {
		t := p.tok()
		if op, ok := comparisonOps[t.kind]; ok {
			p.next()
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			l = &Binary{node: at(t.pos), Op: op, L: l, R: r}
			continue
		}
		if t.kind != tokKeyword {
			return l, nil
		}
		negated := false
		switch t.val {
		case "IS":
			p.next()
			neg := false
			if p.isKeyword("NOT") {
				p.next()
				neg = true
			}
			if err := p.expectKeyword("NULL"); err != nil {
				return nil, err
			}
			l = &IsNull{node: at(t.pos), X: l, Not: neg}
			continue
		case "NOT":
			p.next()
			if !p.isKeyword("IN") && !p.isKeyword("BETWEEN") && !p.isKeyword("LIKE") {
				return nil, p.expected("IN, BETWEEN or LIKE")
			}
			negated = true
		case "IN", "BETWEEN", "LIKE":
		default:
			return l, nil
		}
		switch p.next().val {
		case "IN":
			l, err = p.in(t.pos, l, negated)
		case "BETWEEN":
			l, err = p.between(t.pos, l, negated)
		case "LIKE":
			var pat Expr
			if pat, err = p.additive(); err == nil {
				l = &Like{node: at(t.pos), X: l, Pattern: pat, Not: negated}
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *parser) in(pos Pos, x Expr, negated bool) (Expr, error) {
	if _, err := p.expect(tokLParen, `"("`); err != nil {
		return nil, err
	}
	list, err := p.exprList()
	if err != nil {
		return nil, err
	}
	return &In{node: at(pos), X: x, List: list, Not: negated}, nil
}

// exprList parses `expr, ... )` after the "(".
func (p *parser) exprList() ([]Expr, error) {
	var list []Expr
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if p.accept(tokRParen) {
			return list, nil
		}
		if _, err := p.expect(tokComma, `"," or ")"`); err != nil {
			return nil, err
		}
	}
}

func (p *parser) between(pos Pos, x Expr, negated bool) (Expr, error) {
	lo, err := p.additive()
	if err != nil {
		return nil, err
	}
	if err := p.expectKeyword("AND"); err != nil {
		return nil, err
	}
	hi, err := p.additive()
	if err != nil {
		return nil, err
	}
	return &Between{node: at(pos), X: x, Lo: lo, Hi: hi, Not: negated}, nil
}

func (p *parser) additive() (Expr, error) {
	l, err := p.multiplicative()
	for err == nil && (p.is(tokPlus) || p.is(tokMinus)) {
		t := p.next()
		op := OpAdd
		if t.kind == tokMinus {
			op = OpSub
		}
		var r Expr
		if r, err = p.multiplicative(); err == nil {
			l = &Binary{node: at(t.pos), Op: op, L: l, R: r}
		}
	}
	return l, err
}

func (p *parser) multiplicative() (Expr, error) {
	l, err := p.unary()
	for err == nil && (p.is(tokStar) || p.is(tokSlash) || p.is(tokPercent)) {
		t := p.next()
		op := OpMul
		switch t.kind {
		case tokSlash:
			op = OpDiv
		case tokPercent:
			op = OpMod
		}
		var r Expr
		if r, err = p.unary(); err == nil {
			l = &Binary{node: at(t.pos), Op: op, L: l, R: r}
		}
	}
	return l, err
}

func isPostfix(k tokenKind) bool { return k == tokArrow || k == tokDot || k == tokLBrack }

func (p *parser) unary() (Expr, error) {
	if !p.is(tokMinus) {
		return p.postfix()
	}
	// "-(" is one level, counted by the "(": the printer writes - -a as
	// -(-a), which must stay within maxDepth wherever - -a did.
	if p.peek(1).kind != tokLParen {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
	}
	t := p.next()
	// -5 is a literal, so that -9223372036854775808 can be written; -5[0]
	// stays -(5[0]) as precedence says.
	if n := p.tok(); (n.kind == tokInt || n.kind == tokFloat) && !isPostfix(p.peek(1).kind) {
		p.next()
		return p.number(n, t.pos, "-")
	}
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	return &Unary{node: at(t.pos), Op: OpNeg, X: x}, nil
}

func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	for err == nil {
		t := p.tok()
		switch t.kind {
		case tokArrow, tokDot:
			p.next()
			var name string
			if name, _, err = p.anyName("field name"); err == nil {
				x = &Member{node: at(t.pos), X: x, Name: name, Arrow: t.kind == tokArrow}
			}
		case tokLBrack:
			p.next()
			var i Expr
			if i, err = p.expr(); err == nil {
				if _, err = p.expect(tokRBrack, `"]"`); err == nil {
					x = &Index{node: at(t.pos), X: x, Index: i}
				}
			}
		default:
			return x, nil
		}
	}
	return nil, err
}

func (p *parser) primary() (Expr, error) {
	t := p.tok()
	switch t.kind {
	case tokInt, tokFloat:
		p.next()
		return p.number(t, t.pos, "")
	case tokString:
		p.next()
		return &Literal{node: at(t.pos), Value: t.val}, nil
	case tokQuoted:
		p.next()
		return &FieldRef{node: at(t.pos), Name: t.val}, nil
	case tokIdent:
		p.next()
		if p.is(tokLParen) {
			if kind, ok := windowKinds[strings.ToUpper(t.text)]; ok {
				if kind == stateWindow {
					return nil, errStateWindow(t)
				}
				return nil, errorf(t.pos, "%s: window call in %s, want it as a GROUP BY item", kind, p.clause)
			}
			return p.call(t)
		}
		return &FieldRef{node: at(t.pos), Name: t.val}, nil
	case tokLParen:
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, `")"`); err != nil {
			return nil, err
		}
		return e, nil
	case tokKeyword:
		switch t.val {
		case "TRUE", "FALSE":
			p.next()
			return &Literal{node: at(t.pos), Value: t.val == "TRUE"}, nil
		case "NULL":
			p.next()
			return &Literal{node: at(t.pos)}, nil
		case "SELF":
			p.next()
			return &Self{node: at(t.pos)}, nil
		case "CASE":
			return p.caseExpr()
		}
	}
	return nil, p.unexpected()
}

// number converts a numeric token; sign is "" or "-".
func (p *parser) number(t token, pos Pos, sign string) (Expr, error) {
	text := sign + t.text
	if t.kind == tokInt {
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, errorf(pos, "integer %s out of range", text)
		}
		return &Literal{node: at(pos), Value: v}, nil
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return nil, errorf(pos, "number %s out of range", text)
	}
	return &Literal{node: at(pos), Value: v}, nil
}

// call parses the arguments of name( ... ).
func (p *parser) call(name token) (Expr, error) {
	p.next() // (
	c := &Call{node: at(name.pos), Name: name.val}
	if p.accept(tokRParen) {
		return c, nil
	}
	for {
		var arg Expr
		var err error
		if p.is(tokStar) {
			arg, err = p.star(p.tok().pos, "")
		} else {
			arg, err = p.expr()
		}
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, arg)
		if p.accept(tokRParen) {
			return c, nil
		}
		if _, err := p.expect(tokComma, `"," or ")"`); err != nil {
			return nil, err
		}
	}
}

func (p *parser) caseExpr() (Expr, error) {
	c := &Case{node: at(p.next().pos)}
	var err error
	if !p.isKeyword("WHEN") {
		if c.Operand, err = p.expr(); err != nil {
			return nil, err
		}
	}
	for p.isKeyword("WHEN") {
		p.next()
		var w When
		if w.Cond, err = p.expr(); err != nil {
			return nil, err
		}
		if err := p.expectKeyword("THEN"); err != nil {
			return nil, err
		}
		if w.Result, err = p.expr(); err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, w)
	}
	if len(c.Whens) == 0 {
		return nil, p.expected("WHEN")
	}
	if p.isKeyword("ELSE") {
		p.next()
		if c.Else, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if err := p.expectKeyword("END"); err != nil {
		return nil, err
	}
	return c, nil
}

// resolve finishes a parsed SELECT once its streams are known: s.x, where
// s is the name or alias of a stream in FROM or JOIN, becomes a qualified
// field reference (any other a.b is nested access); a qualified star must
// name one of the streams; and every field gets its output name.
func resolve(sel *Select) error {
	streams := map[string]bool{}
	add := func(name, alias string) {
		streams[name] = true
		if alias != "" {
			streams[alias] = true
		}
	}
	add(sel.From, sel.Alias)
	for _, j := range sel.Joins {
		add(j.Stream, j.Alias)
	}
	qualify := func(e Expr) Expr {
		if m, ok := e.(*Member); ok && !m.Arrow {
			if f, ok := m.X.(*FieldRef); ok && f.Stream == "" && streams[f.Name] {
				return &FieldRef{node: f.node, Stream: f.Name, Name: m.Name}
			}
		}
		return e
	}
	q := func(e *Expr) { *e = rewrite(*e, qualify) }
	for i := range sel.Fields {
		f := &sel.Fields[i]
		if s, ok := f.Expr.(*Star); ok && s.Stream != "" && !streams[s.Stream] {
			return errorf(s.pos, "unknown stream %q", s.Stream)
		}
		q(&f.Expr)
	}
	for i, name := range outputNames(sel.Fields) {
		sel.Fields[i].Name = name
	}
	for i := range sel.Joins {
		q(&sel.Joins[i].On)
	}
	q(&sel.Where)
	for i := range sel.GroupBy {
		q(&sel.GroupBy[i])
	}
	if w := sel.Window; w != nil {
		q(&w.Filter)
		q(&w.Trigger)
	}
	q(&sel.Having)
	for i := range sel.OrderBy {
		q(&sel.OrderBy[i].Expr)
	}
	return nil
}

// outputNames names the fields of a select list as eKuiper does; see
// Field.Name. Stream qualifiers must be resolved first, so that s.a is a
// field reference.
func outputNames(fields []Field) []string {
	names := make([]string, len(fields))
	n := 0
	for i, f := range fields {
		if _, ok := f.Expr.(*Star); ok {
			continue
		}
		names[i] = plainName(f)
		if names[i] == "" {
			names[i] = fmt.Sprintf("kuiper_field_%d", n)
			n++
		}
	}
	return names
}

// plainName is the name a field has without counting: its alias, a
// column's name, a function's name or "self"; "" for anything else.
func plainName(f Field) string {
	if f.Alias != "" {
		return f.Alias
	}
	switch x := f.Expr.(type) {
	case *FieldRef:
		return x.Name
	case *Member:
		if !x.Arrow {
			return x.Name // eKuiper reads a.b as the column b of a
		}
	case *Call:
		return x.Name
	case *Self:
		return "self"
	}
	return ""
}
