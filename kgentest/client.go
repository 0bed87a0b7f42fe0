package kgentest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/kgencli"
)

// engineCommands are the commands that need the engine of Run.
var engineCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"engine":  cmdEngine,
	"stream":  cmdStream,
	"rule":    cmdRule,
	"state":   cmdState,
	"pub":     cmdPub,
	"expect":  cmdExpect,
	"service": cmdService,
}

// host is the running engine's REST URL.
func host(ts *testscript.TestScript, cmd string) string {
	s := scriptOf(ts, cmd)
	if s.eng == nil {
		ts.Fatalf("%s: no engine is running (engine start)", cmd)
	}
	return s.eng.host
}

// client is a REST client of the running engine, with its token.
func client(ts *testscript.TestScript, cmd string) *api.Client {
	h := host(ts, cmd)
	cl, err := api.NewClient(h, nil, api.WithToken(scriptOf(ts, cmd).eng.token))
	ts.Check(err)
	return cl
}

// kgen runs the kgen command line against the script's engine, with its
// output on the script's stdout and stderr: negated, it must fail.
func kgen(ts *testscript.TestScript, neg bool, stdin []byte, args ...string) {
	if s := scriptOf(ts, args[0]); s.eng != nil && s.eng.token != "" {
		args = append(append(args[:2:2], "-token", s.eng.token), args[2:]...)
	}
	err := kgencli.Run(context.Background(), args, bytes.NewReader(stdin), ts.Stdout(), ts.Stderr())
	if err != nil {
		fmt.Fprintln(ts.Stderr(), "kgen:", err)
	}
	switch {
	case neg && err == nil:
		ts.Fatalf("%s succeeded", args[0]+" "+args[1])
	case !neg && err != nil:
		ts.Fatalf("%s: %v", args[0]+" "+args[1], err)
	}
}

// fileOrText is the content of arg when it names a file, else arg.
func fileOrText(ts *testscript.TestScript, arg string, text func(string) bool) []byte {
	if !text(arg) {
		if _, err := os.Stat(ts.MkAbs(arg)); err == nil {
			return []byte(ts.ReadFile(arg))
		}
	}
	return []byte(arg)
}

func cmdStream(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || args[0] != "create" {
		ts.Fatalf("usage: stream create <sql|file>")
	}
	sql := fileOrText(ts, args[1], func(a string) bool { return strings.ContainsAny(a, " \n") })
	sql = bytes.TrimSuffix(bytes.TrimSpace(sql), []byte(";"))
	kgen(ts, neg, sql, "stream", "create", "-host", host(ts, "stream"), "-")
}

const ruleUsage = "usage: rule create <json|file> | rule status <id> [-want STATUS] [-timeout D] | rule stop <id>"

func cmdRule(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("%s", ruleUsage)
	}
	switch args[0] {
	case "create":
		if len(args) != 2 {
			ts.Fatalf("%s", ruleUsage)
		}
		def := fileOrText(ts, args[1], func(a string) bool { return strings.HasPrefix(strings.TrimSpace(a), "{") })
		kgen(ts, neg, def, "rule", "create", "-host", host(ts, "rule"), "-")
	case "stop":
		if len(args) != 2 {
			ts.Fatalf("%s", ruleUsage)
		}
		kgen(ts, neg, nil, "rule", "stop", "-host", host(ts, "rule"), args[1])
	case "status":
		var want string
		var timeout time.Duration
		fs := parse(ts, "rule status", ruleUsage, args[2:], func(fs *flag.FlagSet) {
			fs.StringVar(&want, "want", "", "wait for this status")
			fs.DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait")
		})
		if fs.NArg() != 0 || strings.HasPrefix(args[1], "-") {
			ts.Fatalf("%s", ruleUsage)
		}
		ruleStatus(ts, neg, args[1], want, timeout)
	default:
		ts.Fatalf("rule: unknown subcommand %q\n%s", args[0], ruleUsage)
	}
}

// ruleStatus prints the status of rule id, once it is want (waiting up to
// timeout). Negated, the rule must not be want now.
func ruleStatus(ts *testscript.TestScript, neg bool, id, want string, timeout time.Duration) {
	cl := client(ts, "rule status")
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := cl.RuleStatus(ctx, id)
		cancel()
		if err != nil {
			if neg {
				fmt.Fprintln(ts.Stderr(), "rule status:", err)
				return
			}
			ts.Fatalf("rule status: %v", err)
		}
		ok := want == "" || st.Status == want
		if !ok && !neg && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		data, _ := json.MarshalIndent(st, "", "  ")
		fmt.Fprintf(ts.Stdout(), "%s\n", data)
		switch {
		case ok && neg:
			ts.Fatalf("rule %q is %s", id, st.Status)
		case !ok && !neg:
			msg := ""
			if st.Message != "" {
				msg = " (" + st.Message + ")"
			}
			ts.Fatalf("rule %q is %s%s, want %s (waited %v)", id, st.Status, msg, want, timeout)
		}
		return
	}
}

func cmdState(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: state <rule> [key]")
	}
	h := host(ts, "state")
	if len(args) == 1 {
		kgen(ts, neg, nil, "state", "show", "-host", h, args[0])
		return
	}
	cl := client(ts, "state")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := cl.RuleState(ctx, args[0])
	if err != nil {
		if neg {
			fmt.Fprintln(ts.Stderr(), "state:", err)
			return
		}
		ts.Fatalf("state: %v", err)
	}
	found := false
	for _, sc := range st.Scopes {
		for _, k := range sc.Keys {
			if k.Key == args[1] {
				found = true
				data, err := json.Marshal(k.Value)
				ts.Check(err)
				fmt.Fprintf(ts.Stdout(), "%s\n", data)
			}
		}
	}
	switch {
	case found && neg:
		ts.Fatalf("state: rule %q has key %q", args[0], args[1])
	case !found && !neg:
		ts.Fatalf("state: rule %q has no key %q", args[0], args[1])
	}
}
