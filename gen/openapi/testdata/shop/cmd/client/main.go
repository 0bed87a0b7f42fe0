// Command client runs the generated shop function plugins (package
// ../../client) in a kgen engine, for gen/openapi's tests: the blank import
// registers them, and each SQL argument becomes a rule over a memory stream
// that is sent one row. It prints, per statement, the row the rule output,
// the rule's exception, or why the engine refused to create it; then the
// addresses the plugins dialled.
//
// The engine root (-root) decides where the plugins call: the address and
// credentials of <root>/data/services/shop.json when it exists, else the
// address baked into them (http://localhost:8080/api/v1). -via
// host:port=addr reroutes a dialled address, as a hosts-file entry would, so
// that the baked-in address reaches a test server listening on port 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kgen-dev/kgen/engine"
	_ "github.com/kgen-dev/kgen/gen/openapi/testdata/shop/client"
)

// row is the one row each rule is sent.
var row = map[string]any{
	"item":  map[string]any{"name": "pen", "price": 1.5, "status": "available", "tags": []any{"blue"}},
	"tags":  []any{"blue"},
	"item2": map[string]any{"name": "ink", "price": 3.0, "status": "sold", "size": map[string]any{"width": 1.0, "height": 2.0, "unit": "cm"}},
}

// dialer records the addresses dialled and reroutes those named by -via.
type dialer struct {
	via    map[string]string
	mu     sync.Mutex
	dialed map[string]bool
}

func (d *dialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed[addr] = true
	d.mu.Unlock()
	if to, ok := d.via[addr]; ok {
		addr = to
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run() error {
	root := flag.String("root", "", "the engine root `folder`")
	via := flag.String("via", "", "reroute dials of `host:port=addr`")
	flag.Parse()
	d := &dialer{via: map[string]string{}, dialed: map[string]bool{}}
	if *via != "" {
		from, to, ok := strings.Cut(*via, "=")
		if !ok {
			return fmt.Errorf("-via %q: want host:port=addr", *via)
		}
		d.via[from] = to
	}
	// The plugins' HTTP clients use the default transport.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.dial
	http.DefaultTransport = t

	e, err := engine.Open(engine.Options{Root: *root})
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.CreateStream(`CREATE STREAM calls () WITH (DATASOURCE="in/calls", TYPE="memory")`); err != nil {
		return err
	}
	for i, sql := range flag.Args() {
		fmt.Println(sql)
		res, err := step(e, fmt.Sprintf("step%d", i), sql)
		if err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
		fmt.Println("  " + res)
	}
	fmt.Println("dialed:", slices.Sorted(maps.Keys(d.dialed)))
	return nil
}

// step runs sql as rule id over one row and says what came of it.
func step(e *engine.Engine, id, sql string) (string, error) {
	def := fmt.Sprintf(`{"id": %q, "sql": %q, "actions": [{"memory": {"topic": "out/%s"}}]}`, id, sql, id)
	if _, err := e.CreateRule([]byte(def)); err != nil {
		return "refused: " + err.Error(), nil
	}
	defer e.DeleteRule(id)
	out, cancel := e.MemoryHub().Subscribe("out/"+id, 4)
	defer cancel()
	if err := e.MemoryHub().Publish(context.Background(), "in/calls", row); err != nil {
		return "", err
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case r := <-out:
			return fmt.Sprint("= ", r), nil
		case <-tick.C:
			st, err := e.RuleStatus(id)
			if err != nil {
				return "", err
			}
			if st.Exceptions > 0 {
				return "exception: " + st.LastError, nil
			}
		case <-deadline:
			st, _ := e.RuleStatus(id)
			return "", fmt.Errorf("no row and no exception; status %+v", st)
		}
	}
}
