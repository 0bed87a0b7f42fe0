// Package sql parses kgen's SQL and compiles SELECT statements to closures
// that filter and project rows.
//
// The pipeline is Parse (lexer.go, parser.go) → syntax tree (ast.go, which
// prints itself back as canonical SQL, format.go) → Compile (compile.go,
// functions*.go) → Program, whose Match and Project run once per row
// without walking the tree. Everything is hand-written; there is no parser
// generator.
//
// # Grammar
//
// Keywords are case-insensitive. Only the words listed as reserved below
// must be backquoted to name a field; CREATE, STREAM, WITH, EXCEPT, type
// names and the clause words GROUP, BY, HAVING, ORDER, ASC, DESC, LIMIT,
// JOIN, INNER, LEFT, RIGHT, FULL, OUTER, CROSS, ON, FILTER and OVER are
// recognised by position: they come only where an expression or a name has
// ended, and no expression goes on with a bare word.
//
//	Statement    = ( Select | CreateStream ) [ ";" ] .
//	CreateStream = "CREATE" "STREAM" Name "(" [ Column { "," Column } ] ")"
//	               [ "WITH" "(" Option { "," Option } ")" ] .
//	Column       = Name Type .
//	Type         = "BIGINT" | "FLOAT" | "STRING" | "DATETIME" | "BOOLEAN" | "BYTEA"
//	             | "ARRAY" "(" Type ")" | "STRUCT" "(" Column { "," Column } ")" .
//	Option       = Name "=" String .
//	Select       = "SELECT" Field { "," Field } "FROM" Source { Join } [ "WHERE" Expr ]
//	               [ "GROUP" "BY" GroupItem { "," GroupItem } ] [ "HAVING" Expr ]
//	               [ "ORDER" "BY" OrderItem { "," OrderItem } ] [ "LIMIT" Int ] .
//	Field        = Star | Expr [ "AS" Name ] .
//	Source       = Name [ "AS" Name ] .
//	Join         = [ "INNER" | ( "LEFT" | "RIGHT" | "FULL" ) [ "OUTER" ] ] "JOIN" Source "ON" Expr
//	             | "CROSS" "JOIN" Source .
//	GroupItem    = Window | Expr .
//	Window       = WindowCall [ "FILTER" "(" "WHERE" Expr ")" ] [ "OVER" "(" "WHEN" Expr ")" ] .
//	WindowCall   = "TUMBLINGWINDOW" "(" Unit "," Int ")"
//	             | "HOPPINGWINDOW" "(" Unit "," Int "," Int ")"
//	             | "SLIDINGWINDOW" "(" Unit "," Int [ "," Int ] ")"
//	             | "SESSIONWINDOW" "(" Unit "," Int "," Int ")"
//	             | "COUNTWINDOW" "(" Int [ "," Int ] ")" .
//	Unit         = "MS" | "SS" | "MI" | "HH" | "DD" .
//	OrderItem    = Expr [ "ASC" | "DESC" ] .
//	Star         = [ Name "." ] "*" [ "EXCEPT" "(" Name { "," Name } ")" ] .
//	Expr         = And { "OR" And } .
//	And          = Not { "AND" Not } .
//	Not          = "NOT" Not | Comparison .
//	Comparison   = Sum { CompareOp Sum | "IS" [ "NOT" ] "NULL"
//	             | [ "NOT" ] ( "IN" "(" Expr { "," Expr } ")" | "BETWEEN" Sum "AND" Sum | "LIKE" Sum ) } .
//	CompareOp    = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=" .
//	Sum          = Product { ( "+" | "-" ) Product } .
//	Product      = Unary { ( "*" | "/" | "%" ) Unary } .
//	Unary        = "-" Unary | Postfix .
//	Postfix      = Primary { "->" Name | "." Name | "[" Expr "]" } .
//	Primary      = Int | Float | String | "TRUE" | "FALSE" | "NULL" | "SELF"
//	             | Name | Call | Case | "(" Expr ")" .
//	Call         = Ident "(" [ ( Star | Expr ) { "," ( Star | Expr ) } ] ")" .
//	Case         = "CASE" [ Expr ] "WHEN" Expr "THEN" Expr { "WHEN" Expr "THEN" Expr }
//	               [ "ELSE" Expr ] "END" .
//	Name         = Ident | "`" any text, `` for ` "`" .
//
// Reserved words: SELECT FROM WHERE AS AND OR NOT IN BETWEEN LIKE IS CASE
// WHEN THEN ELSE END TRUE FALSE NULL SELF. Strings are written in double or
// single quotes; \n \t \r \0 \\ \' \" resolve, a doubled quote stands for
// itself, and any other backslash is kept with its character so that LIKE
// patterns ('50\%') and regular expressions ('\d+') read as written.
// Numbers are decimal; one with a fraction or exponent is a float. Comments
// are -- to the end of the line and /* ... */.
//
// In SELECT, s.x is the field x when s is the name or alias of a stream in
// FROM or JOIN, and nested access into field s otherwise; s->x is always
// nested access. The streams must go by distinct names: alias the same
// stream when it is joined twice.
//
// Output columns are named as eKuiper names them (Field.Name): an alias
// wins; a column, s.a or a.b, is named after its last name; a call after
// the function; self is "self"; a star gives the row's own keys. Any other
// unaliased field (a->b, a[0], f(x)->y, arithmetic, a literal, CASE) is
// kuiper_field_N, N counting those fields from 0 in select order: SELECT a,
// b->c, 1 + 1, count(*), d[0] gives a, kuiper_field_0, kuiper_field_1,
// count, kuiper_field_2. A name given twice is an error; alias one.
//
// # Windows and the clauses after WHERE
//
// JOIN, GROUP BY, HAVING, ORDER BY and LIMIT are parsed into Select
// (Joins, GroupBy, Window, Having, OrderBy, Limit) and print back as
// canonical SQL; Compile runs them as described under Grouped SELECTs and
// Joins.
//
// A window is a call among the GROUP BY items, at most one, and nowhere
// else, so no function can take a window's name; eKuiper's STATEWINDOW is
// reported as not supported. Other items are expressions. Window names and units are
// case-insensitive, units unquoted words, and the lengths, hops, delays,
// timeouts and counts positive integer literals. SLIDINGWINDOW's third
// argument is a delay and SESSIONWINDOW's are the maximum duration then the
// timeout; COUNTWINDOW's hop, n when left out, cannot exceed n. FILTER
// (WHERE cond) keeps the rows that enter the window; OVER (WHEN cond),
// only on a sliding window, says which rows trigger it. Plain JOIN is an
// inner join; every join but CROSS JOIN needs ON. LIMIT takes an integer
// literal, 0 or more. The canonical text writes INNER JOIN, drops OUTER and
// ASC, and puts the window first in GROUP BY.
//
// # Errors
//
// Errors about the SQL text, from Parse, Compile, Match and Project, are
// *Error values that read "line:col: message", with the line and the
// column (in bytes, 1-based) of the offending token: for an operator, the
// operator; for a call, the function name; for WHERE, its start. Messages
// are lower-case and quote what was found:
//
//	1:17: unexpected ")"
//	1:8: expected FROM, got end of input
//	2:3: unknown type "INTEGR"
//	1:8: unknown field "x" in stream "demo"
//	1:44: TUMBLINGWINDOW: want 2 arguments (unit, length), got 3
//	1:12: cannot apply "*" to string and int64
//
// # Values
//
// Rows are map[string]any holding int64, float64, string, bool, []byte,
// time.Time, map[string]any, []any or nil; other Go number types are read
// as int64 or float64. A missing field, key or index is nil (NULL), not an
// error.
//
// Arithmetic on two int64 stays int64 (integer division, overflow is an
// error); a float64 operand makes it float64. Division or modulo by zero is
// an error, as is + on strings (use concat). NULL operands give NULL.
//
// Comparisons order numbers numerically across int64 and float64, strings
// bytewise, time.Time by instant and []byte bytewise; ordering other pairs
// is an error. = and != compare any values, lists and maps deeply; values
// of different types are simply not equal. Any comparison with NULL is
// false, including = NULL and != NULL: test with IS [NOT] NULL or
// isnull(). IN, BETWEEN and LIKE, and their NOT forms, are false for a
// NULL operand. AND, OR and NOT use three-valued logic; WHERE keeps a row
// only when it is true.
//
// # Functions
//
// Built-in functions (see Builtins) are matched in any case and run as Go
// closures; their argument counts and constant arguments are checked at
// compile time. Math and string functions return NULL for a NULL argument
// (concat skips NULLs). Other names go to Env.Function, which returns an
// sdk.Function per call site; Compile calls its Validate with sdk.Arg
// descriptions of the arguments, and a failing or panicking Exec becomes an
// error of that row. A plugin function whose IsAggregate is true is an
// aggregate, run once per group like the built-in ones below.
//
// Constant subexpressions are evaluated once at compile time, LIKE patterns
// and regular expressions that are constants are compiled once.
//
// # Grouped SELECTs
//
// A SELECT is grouped (Program.Grouped) when it has GROUP BY keys, a window,
// an aggregate call, HAVING, ORDER BY or LIMIT. The engine keeps the rows
// that pass Match (WHERE) and, with a window, Filter (its FILTER (WHERE
// ...)); asks Trigger (a sliding window's OVER (WHEN ...), where NULL and
// non-bools are false) when to emit; and calls ProjectGroups on each result
// set, a window's rows with its bounds, which does the rest (group.go):
//
//   - Rows are grouped by the GROUP BY keys, in order of first appearance.
//     Keys are equal as by =, numbers across int64 and float64 (1 and 1.0,
//     0 and -0.0 are one group, shown with the first row's value), maps and
//     lists by content, and NULL is a key of its own. Without keys all rows
//     form one group when the SELECT aggregates or has HAVING; otherwise each
//     row is its own group, so a window without aggregates emits its rows one
//     by one, as in eKuiper. No rows give no output, also for an
//     aggregate-only SELECT (an empty result set, not a row of NULLs).
//     Env.MaxGroups (default 10000) bounds the groups of one result set;
//     beyond it ProjectGroups fails with an error wrapping ErrTooManyGroups.
//   - Aggregates are computed from the group's rows; then the select list,
//     HAVING and ORDER BY are evaluated on the group row, a copy of the
//     group's first row that also holds the aggregate results and window
//     bounds under hidden keys (which * and self do not show). So a plain
//     column beside an aggregate has the first row's value, as in eKuiper:
//     SELECT color, count(*) ... gives the first row's color.
//   - HAVING and ORDER BY can name SELECT aliases, as eKuiper allows in
//     practice (HAVING c > 1 for count(*) AS c); an alias is evaluated from
//     its expression and wins over a column of the same name. GROUP BY keys
//     and aggregate arguments cannot name aliases. HAVING keeps the groups
//     where it is true; NULL drops a group, other non-bools are errors.
//   - ORDER BY sorts the kept groups, stably, ascending unless DESC, with
//     NULLs first in both directions (eKuiper puts them last); values order
//     as comparisons do, and false before true; other pairs are errors.
//     LIMIT n then keeps the first n, LIMIT 0 none; without ORDER BY the
//     groups after the nth are not evaluated at all.
//
// Project on a grouped program treats its row as a result set of its own,
// as eKuiper treats a row without a window: an aggregate sees a group of
// one row, and the result is nil when HAVING or LIMIT 0 drops the row.
//
// window_start() and window_end() are the bounds ProjectGroups was given,
// int64 Unix milliseconds. They and the aggregates are allowed in SELECT,
// HAVING and ORDER BY only: not in WHERE, GROUP BY, FILTER or OVER, which
// see single rows, nor inside an aggregate's arguments; window_start() and
// window_end() also need a window. An unaliased field that is an aggregate
// call or a window bound is named after the function in lower case, as in
// eKuiper (count(*) gives "count", AVG(x) "avg"); two such fields of one
// function are a duplicate output column, where eKuiper lets the last one
// overwrite the first.
//
// # Incremental results
//
// ProjectGroups recomputes a result set from all its rows, so over a
// sliding window whose every row emits, the cost per row grows with the
// window. Program.Incremental gives, for a grouped SELECT without JOIN
// whose aggregates are all built-in count, sum, avg, min or max of one
// argument, an Incremental: rows enter it at the back (Add) and leave at
// the front in the same order (Remove), each costing O(1) amortised, and
// Result returns what ProjectGroups over the current rows would, in
// O(groups). Per group it keeps a FIFO of its rows (the front is the
// group's first row), a count, an exact int64 total with the total of
// absolute values (so an overflow ProjectGroups would report is noticed),
// an exact sum of the floats (floats are summed exactly and rounded once,
// so the running sum, with values added and subtracted, is the sum
// ProjectGroups gives), and for min and max a monotonic deque; groups stay
// in order of their oldest row in a linked list. Possible integer
// overflows, non-finite sums, NaN and non-numeric values are recomputed
// from the group's stored arguments by the aggregate itself while they are
// in the group, so results and errors stay identical; incremental.go has
// the details.
//
// # Joins
//
// Streams are joined per window, as in eKuiper: a SELECT with JOIN needs a
// window, and Compile reports one without at its first JOIN. The engine
// puts the rows of all the streams (Select.Streams) into the one window,
// each tagged with its stream (JoinInput), and on each emission calls Join,
// then Match on each joined row, then ProjectGroups: the order is window,
// join, WHERE, GROUP BY and aggregates, HAVING, ORDER BY, LIMIT, select
// list. So WHERE sees joined rows, also in processing time, where a
// SELECT without JOIN filters rows before they enter the window. FILTER
// (WHERE ...) and OVER (WHEN ...), which would see one stream's rows, are
// not supported with JOIN.
//
// Each stream is a side of the join, named by its alias or else its
// stream's name; a joined row maps each side's name to that stream's row,
// or to nil (NULL) where an outer join found no match:
//
//	SELECT d.color, demo1.hum FROM demo AS d LEFT JOIN demo1 ON d.ts = demo1.ts
//	joined row: {"d": {"color": "red", "ts": 1, ...}, "demo1": nil}
//
// The joins run left to right, each joining a stream to the rows joined
// so far; its ON sees the sides up to its own and is evaluated on each
// pair of a row so far and a row of the stream: true joins them, NULL and
// false do not, and another value is an error of the result set. INNER
// JOIN keeps the pairs; LEFT JOIN also each row so far without a match,
// NULL on the right; RIGHT JOIN the pairs and each right row without a
// match, NULL for every side before it, in the order of the right rows;
// FULL JOIN what LEFT JOIN keeps, then the right rows without a match;
// CROSS JOIN every pair. Otherwise rows come in the order of the rows so
// far, then of the right rows, each stream's rows in arrival order. A
// stream joined with itself under two aliases has its rows on both sides.
// Env.MaxJoinRows (default 100000) bounds the joined rows of one result
// set; beyond it Join fails with an error wrapping ErrTooManyRows.
//
// Columns:
//
//   - s.x reads column x of side s, NULL when the side is. s is an alias,
//     the name of a stream without one, or the name of an aliased stream
//     joined once.
//   - An unqualified x is resolved at compile time to the one side whose
//     schema (Env.Schema for FROM, Env.Streams for the others) has it; two
//     such sides are an error naming them. Where no schema has x, it is
//     looked up at run time in the schemaless sides, in FROM order: the
//     first side present whose row has the key. With neither, x is an
//     unknown field.
//   - * merges the rows of the sides in FROM order, a later side's column
//     winning over an earlier one of the same name, and a NULL side adding
//     nothing; s.* is the row of side s; EXCEPT applies to each. Both can
//     appear in one select list. self and * as an argument (collect(*),
//     to_json(*)) are the merged row as well; count(*) counts joined rows.
//   - An unaliased s.x is named x, as in eKuiper, so two such fields of
//     one name are a duplicate output column: alias one.
//   - meta(s.key) reads the metadata of side s, meta(key) that of the
//     first side, in FROM order, whose row is present and has the key.
//
// # Aggregate functions
//
// An aggregate's arguments are evaluated on each row of the group (* is the
// row), and it gets one []any per argument with one element per row, as an
// aggregate plugin does; literal arguments are evaluated per row too. A
// constant argument (percentile's p, last_value's ignoreNull) is read as
// its first non-NULL element; when it is a literal it is also checked at
// compile time. Built-in aggregate calls written alike are computed once
// per group. Every aggregate but collect and last_value returns NULL for an
// empty group, as in eKuiper, and the numeric ones skip NULLs. Where
// eKuiper fails with a bare message or silently returns NULL, these fail
// with the function and the offending value, positioned at the call:
//
//	1:15: function "sum": want number, got string "red"
//
// The built-in aggregates:
//
//   - count(x), count(*): the number of non-NULL values, int64.
//   - sum(x): an int64 total while the values are integers, integer
//     overflow an error, where eKuiper wraps around. With a float among
//     the values (eKuiper fails on a float after an integer) a float64:
//     the exact sum of all the values, integers included, correctly
//     rounded, as Python's math.fsum, so it does not depend on the order
//     of the rows (0.1 + 0.2 + 0.3 is 0.6, not 0.6000000000000001) and
//     only a sum that is itself past MaxFloat64 overflows. A non-finite
//     result (an infinity among the values, or a sum rounding past
//     MaxFloat64) is an error.
//   - avg(x): for integers the int64 total divided by the count in integer
//     division, truncated toward zero, as eKuiper does: avg of 1 and 2 is 1.
//     Write avg(cast(x, "float")) for a fractional mean. float64 when a
//     value is a float: the exactly rounded sum above divided by the count.
//   - min(x), max(x): numbers, strings or datetimes; the first value fixes
//     which. Numbers compare across int64 and float64, and the result is
//     float64 when any value is a float (eKuiper fails on such a mix).
//   - collect(x), collect(*): the list of the values, NULLs included, or of
//     the rows (less EXCEPT columns); an empty list for an empty group.
//     collect(*)[0]->color reads the first row's color.
//   - merge_agg(x), merge_agg(*): the shallow union of the maps, later keys
//     winning; NULL when there is none. A value that is neither a map nor
//     NULL is an error (eKuiper skips it).
//   - deduplicate(x, all): gets the rows too, as an implicit first argument
//     (deduplicate(*, x, all) is accepted as well). With all true, the rows
//     whose x was not seen on an earlier row; with false, the last row when
//     its x is new, else an empty map. Values are equal as GROUP BY keys are
//     (eKuiper compares their printed text, so 1 and "1" are equal).
//   - stddev(x), stddevs(x), var(x), vars(x): population and sample standard
//     deviation and variance, float64. The sample forms are NULL for fewer
//     than two values (eKuiper gives NaN, which JSON cannot carry).
//   - median(x): the middle value, or the mean of the two middle values,
//     int64 (truncated) when every value is an integer, else float64.
//   - percentile_cont(x, p), also named percentile: SQL's PERCENTILE_CONT,
//     linear interpolation at rank p·(n−1), float64. eKuiper computes
//     montanaflynn/stats' Percentile instead, which differs and fails for
//     p = 0. p is a number between 0 and 1.
//   - percentile_disc(x, p): SQL's PERCENTILE_DISC, the first value whose
//     cumulative share reaches p (nearest rank), keeping its type (eKuiper
//     converts it to float64).
//   - last_value(x, ignoreNull): the last value, or with ignoreNull the last
//     that is not NULL.
package sql
