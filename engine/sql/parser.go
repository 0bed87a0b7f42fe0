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

// Parse parses one statement, SELECT or CREATE STREAM, optionally followed
// by ";". Every error is an *Error.
func Parse(src string) (Statement, error) {
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
	p := newParser(src)
	if !p.isKeyword("SELECT") {
		return nil, p.expected("SELECT")
	}
	return p.parseSelect()
}

// ParseCreateStream parses a CREATE STREAM statement.
func ParseCreateStream(src string) (*CreateStream, error) {
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
	var err error
	if sel.From, _, err = p.name("stream name"); err != nil {
		return nil, err
	}
	if err := p.unsupported(true); err != nil {
		return nil, err
	}
	if p.isKeyword("AS") {
		p.next()
		if sel.Alias, _, err = p.name("alias"); err != nil {
			return nil, err
		}
	}
	if p.isKeyword("WHERE") {
		p.next()
		if sel.Where, err = p.expr(); err != nil {
			return nil, err
		}
	}
	if err := p.unsupported(sel.Where == nil); err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	if err := resolve(sel); err != nil {
		return nil, err
	}
	return sel, nil
}

// unsupported reports the clauses that are designed but not implemented;
// joins only where they could start, after the stream.
func (p *parser) unsupported(joins bool) error {
	t := p.tok()
	if t.kind != tokIdent {
		return nil
	}
	switch strings.ToUpper(t.text) {
	case "GROUP":
		return errorf(t.pos, "GROUP BY is not supported yet")
	case "HAVING":
		return errorf(t.pos, "HAVING is not supported yet")
	case "ORDER":
		return errorf(t.pos, "ORDER BY is not supported yet")
	case "LIMIT":
		return errorf(t.pos, "LIMIT is not supported yet")
	case "JOIN", "LEFT", "RIGHT", "INNER", "FULL", "CROSS":
		if joins {
			return errorf(t.pos, "JOIN is not supported yet")
		}
	}
	return nil
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
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
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

// resolve finishes a parsed SELECT once the stream is known: s.x, where s
// is the stream name or alias, becomes a qualified field reference (any
// other a.b is nested access); a qualified star must name the stream; and
// every field gets its output name.
func resolve(sel *Select) error {
	isStream := func(n string) bool { return n == sel.From || sel.Alias != "" && n == sel.Alias }
	qualify := func(e Expr) Expr {
		if m, ok := e.(*Member); ok && !m.Arrow {
			if f, ok := m.X.(*FieldRef); ok && f.Stream == "" && isStream(f.Name) {
				return &FieldRef{node: f.node, Stream: f.Name, Name: m.Name}
			}
		}
		return e
	}
	for i := range sel.Fields {
		f := &sel.Fields[i]
		if s, ok := f.Expr.(*Star); ok && s.Stream != "" && !isStream(s.Stream) {
			return errorf(s.pos, "unknown stream %q", s.Stream)
		}
		f.Expr = rewrite(f.Expr, qualify)
		f.Name = outputName(*f, i)
	}
	if sel.Where != nil {
		sel.Where = rewrite(sel.Where, qualify)
	}
	return nil
}

// outputName is the column name of field number i; see Field.Name.
func outputName(f Field, i int) string {
	if f.Alias != "" {
		return f.Alias
	}
	for e := f.Expr; ; {
		switch x := e.(type) {
		case *FieldRef:
			return x.Name
		case *Member:
			return x.Name
		case *Call:
			return x.Name
		case *Self:
			return "self"
		case *Star:
			return ""
		case *Index:
			e = x.X
			continue
		}
		return fmt.Sprintf("kgen_field_%d", i)
	}
}
