package kgencli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/engine/state"
)

var stateCmd = &command{
	name: "state",
	args: `[-host URL] show [-json] <rule>
[-host URL] reset <rule>`,
	summary: "show or reset the extension state of a rule in a running engine",
	help: `
State shows and resets the key-value state that a rule's extensions keep
(sdk.Context PutState, IncrCounter …), one scope per operator: the
function calls (func:<n>:<name>), the sources (source:<stream>) and the
sinks (sink:<n>:<type>).

show prints a table of operator, key, type and value; the type is the Go
type the value is stored with. With -json it prints the engine's JSON
instead, where list and map elements carry their types too. reset deletes
all of the rule's state; a running rule is stopped for the reset and
started again, so it goes on from empty state.` + hostHelp,
	example: `
kgen state show wordcount
kgen state show -json wordcount
kgen state reset wordcount`,
	setup: func(fs *flag.FlagSet) runFunc {
		asJSON := fs.Bool("json", false, "show: print the state as JSON")
		return clientCommand([]subcommand{
			{"show", 1, "<rule>", func(c *cli, cl *api.Client, args []string) error {
				st, err := cl.RuleState(c.ctx, args[0])
				if err != nil {
					return err
				}
				if *asJSON {
					return c.printJSON(st, nil)
				}
				return printState(c.stdout, st)
			}},
			{"reset", 1, "<rule>", func(c *cli, cl *api.Client, args []string) error {
				if *asJSON {
					return usageErrorf("reset: -json is for show only")
				}
				return c.println(cl.ResetRuleState(c.ctx, args[0]))
			}},
		})(fs)
	},
}

// printState prints one line per key: operator, key, type and value.
func printState(w io.Writer, st *api.RuleState) error {
	if len(st.Scopes) == 0 {
		_, err := fmt.Fprintf(w, "Rule %s has no state.\n", st.Rule)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "OP\tKEY\tTYPE\tVALUE")
	for _, sc := range st.Scopes {
		for _, k := range sc.Keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sc.Op, oneLine(k.Key), k.Type, formatState(k.Type, k.Value))
		}
	}
	return tw.Flush()
}

// formatState renders a value on one line: strings quoted, bytes in
// base64, a time in RFC 3339, lists and maps in brackets and braces.
func formatState(typ string, v any) string {
	switch v := v.(type) {
	case string:
		if typ == "string" {
			return strconv.Quote(v)
		}
		return v // bytes, time, a float's NaN or ±Inf
	case []state.TypedValue:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = formatState(x.Type, x.Value)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]state.TypedValue:
		keys := slices.Sorted(maps.Keys(v))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ": " + formatState(v[k].Type, v[k].Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	data, err := json.Marshal(v) // numbers, bools and null, as JSON has them
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// oneLine quotes a key that is empty or holds characters that would break
// the table or hide (tabs, newlines, quotes, non-printing ones).
func oneLine(s string) string {
	if q := strconv.Quote(s); s == "" || q != `"`+s+`"` {
		return q
	}
	return s
}
