package kgencli

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/engine/api"
)

// hostFlag defines -host. An empty value means $KGEN_HOST, else
// api.DefaultHost.
func hostFlag(fs *flag.FlagSet) *string {
	return fs.String("host", "", "engine REST API `URL` (default $KGEN_HOST, else "+api.DefaultHost+")")
}

// clientFlags define -host, -token and -cacert and return the function
// that makes the client they describe.
func clientFlags(fs *flag.FlagSet) func() (*api.Client, error) {
	host := hostFlag(fs)
	token := fs.String("token", "", "bearer `TOKEN` the engine requires (rest.token; default $"+engine.TokenEnv+")")
	caFile := fs.String("cacert", "", "PEM `FILE` of the certificate authority to trust for an https -host (default $KGEN_REST_CACERT, else the system's)")
	return func() (*api.Client, error) {
		var hc *http.Client
		if f := cmp.Or(*caFile, os.Getenv("KGEN_REST_CACERT")); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("-cacert: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("-cacert %s: no PEM certificate in the file", f)
			}
			hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			}}
		}
		return api.NewClient(cmp.Or(*host, os.Getenv("KGEN_HOST")), hc,
			api.WithToken(cmp.Or(*token, os.Getenv(engine.TokenEnv))))
	}
}

const hostHelp = `

The stream, rule, state and service commands talk to a running engine
(kgen serve) through its REST API at -host, else $KGEN_HOST, else
` + api.DefaultHost + `. An engine with rest.token set wants that token:
-token, else $KGEN_REST_TOKEN. For an https engine whose certificate the
system does not trust, -cacert (else $KGEN_REST_CACERT) names the PEM file
of the authority that signed it. Errors print the engine's message and
exit with status 1.`

// subcommand is one action of a client command like `kgen stream list`.
type subcommand struct {
	name  string
	nargs int // exact number of arguments
	args  string
	run   func(c *cli, cl *api.Client, args []string) error
}

// clientCommand builds a command whose first argument picks a subcommand.
// -host may come before or after the subcommand name.
func clientCommand(subs []subcommand) func(fs *flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		newClient := clientFlags(fs)
		return func(c *cli, args []string) error {
			if len(args) == 0 {
				return usageErrorf("missing subcommand")
			}
			var sub *subcommand
			for i := range subs {
				if subs[i].name == args[0] {
					sub = &subs[i]
				}
			}
			if sub == nil {
				return usageErrorf("unknown subcommand %q", args[0])
			}
			if err := fs.Parse(args[1:]); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return err // Run prints the usage
				}
				return usageErrorf("%s: %v", sub.name, err)
			}
			args = fs.Args()
			if len(args) != sub.nargs {
				return usageErrorf("%s: want %s, got %d arguments", sub.name, sub.args, len(args))
			}
			cl, err := newClient()
			if err != nil {
				return err
			}
			return sub.run(c, cl, args)
		}
	}
}

// maxDefinition bounds a stream, rule or service definition read from a
// file or stdin.
const maxDefinition = 8 << 20

// readArg returns arg, or stdin when arg is "-".
func (c *cli) readArg(arg string) ([]byte, error) {
	if arg != "-" {
		return []byte(arg), nil
	}
	return readLimited(c.stdin, "stdin", maxDefinition)
}

// readFileArg returns the content of a file, or stdin for "-".
func (c *cli) readFileArg(arg string) ([]byte, error) {
	if arg == "-" {
		return readLimited(c.stdin, "stdin", maxDefinition)
	}
	return readFile(arg, maxDefinition)
}

// readFile reads a regular file of at most limit bytes: a device, a FIFO
// or a folder is refused before anything is read (/dev/zero would never
// end, a FIFO might never answer).
func readFile(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the limit of %d", path, st.Size(), limit)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, path, limit)
}

// readLimited reads r to its end, refusing more than limit bytes.
func readLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than the limit of %d bytes", name, limit)
	}
	return data, nil
}

func (c *cli) println(msg string, err error) error {
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, msg)
	return nil
}

// printLines prints one name a line.
func (c *cli) printLines(names []string, err error) error {
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(c.stdout, n)
	}
	return nil
}

func (c *cli) printJSON(v any, err error) error {
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s\n", data)
	return nil
}

var streamCmd = &command{
	name: "stream",
	args: `[-host URL] create "<CREATE STREAM ...>" | -
[-host URL] update <name> "<CREATE STREAM ...>" | -
[-host URL] list | show <name> | drop <name>`,
	summary: "manage the streams of a running engine",
	help: `
Stream creates, replaces, lists, shows and drops streams. create and update
take the statement as one argument, or read it from stdin for "-". list
prints one name per line; show prints the stream as JSON.` + hostHelp,
	example: `
kgen stream create 'CREATE STREAM demo (temp FLOAT) WITH (DATASOURCE="demo", TYPE="mqtt")'
kgen stream show demo`,
	setup: clientCommand([]subcommand{
		{"create", 1, "<sql>", func(c *cli, cl *api.Client, args []string) error {
			sql, err := c.readArg(args[0])
			if err != nil {
				return err
			}
			return c.println(cl.CreateStream(c.ctx, string(sql)))
		}},
		{"update", 2, "<name> <sql>", func(c *cli, cl *api.Client, args []string) error {
			sql, err := c.readArg(args[1])
			if err != nil {
				return err
			}
			return c.println(cl.ReplaceStream(c.ctx, args[0], string(sql)))
		}},
		{"list", 0, "no arguments", func(c *cli, cl *api.Client, args []string) error {
			return c.printLines(cl.Streams(c.ctx))
		}},
		{"show", 1, "<name>", func(c *cli, cl *api.Client, args []string) error {
			return c.printJSON(cl.Stream(c.ctx, args[0]))
		}},
		{"drop", 1, "<name>", func(c *cli, cl *api.Client, args []string) error {
			return c.println(cl.DropStream(c.ctx, args[0]))
		}},
	}),
}

var ruleCmd = &command{
	name: "rule",
	args: `[-host URL] create <file.json> | -
[-host URL] update <id> <file.json> | -
[-host URL] list | show <id> | status <id> | topo <id>
[-host URL] start <id> | stop <id> | restart <id> | drop <id>`,
	summary: "manage the rules of a running engine",
	help: `
Rule creates (and starts), replaces, lists, shows, starts, stops, restarts
and drops rules, and shows their status and metrics and their topology.
create and update read rule JSON from a file, or from stdin for "-". list
prints "<id> <status>" lines; show, status and topo print JSON. topo gives
the path rows take, in eKuiper's shape: {"sources": [...], "edges": {node:
[next nodes]}}, with nodes source_<stream>, op_<n>_<step> and
sink_<type>_<index>.` + hostHelp,
	example: `
kgen rule create rules/r1.json
kgen rule status r1
kgen rule topo r1
kgen rule stop r1`,
	setup: clientCommand([]subcommand{
		{"create", 1, "<file.json>", func(c *cli, cl *api.Client, args []string) error {
			data, err := c.readFileArg(args[0])
			if err != nil {
				return err
			}
			return c.println(cl.CreateRule(c.ctx, data))
		}},
		{"update", 2, "<id> <file.json>", func(c *cli, cl *api.Client, args []string) error {
			data, err := c.readFileArg(args[1])
			if err != nil {
				return err
			}
			return c.println(cl.UpdateRule(c.ctx, args[0], data))
		}},
		{"list", 0, "no arguments", func(c *cli, cl *api.Client, args []string) error {
			rules, err := cl.Rules(c.ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
			for _, r := range rules {
				fmt.Fprintf(tw, "%s\t%s\n", r.ID, r.Status)
			}
			return tw.Flush()
		}},
		{"show", 1, "<id>", func(c *cli, cl *api.Client, args []string) error {
			return c.printJSON(cl.Rule(c.ctx, args[0]))
		}},
		{"status", 1, "<id>", func(c *cli, cl *api.Client, args []string) error {
			return c.printJSON(cl.RuleStatus(c.ctx, args[0]))
		}},
		{"topo", 1, "<id>", func(c *cli, cl *api.Client, args []string) error {
			return c.printJSON(cl.RuleTopo(c.ctx, args[0]))
		}},
		{"start", 1, "<id>", func(c *cli, cl *api.Client, args []string) error {
			return c.println(cl.StartRule(c.ctx, args[0]))
		}},
		{"stop", 1, "<id>", func(c *cli, cl *api.Client, args []string) error {
			return c.println(cl.StopRule(c.ctx, args[0]))
		}},
		{"restart", 1, "<id>", func(c *cli, cl *api.Client, args []string) error {
			return c.println(cl.RestartRule(c.ctx, args[0]))
		}},
		{"drop", 1, "<id>", func(c *cli, cl *api.Client, args []string) error {
			return c.println(cl.DropRule(c.ctx, args[0]))
		}},
	}),
}
