package aiservice_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/kgen-dev/kgen/engine"
	"github.com/kgen-dev/kgen/examples/aiservice"
	"github.com/kgen-dev/kgen/svc"
)

// running is a Server on 127.0.0.1: gRPC and REST on ports of their own.
type running struct {
	srv      *aiservice.Server
	grpcAddr string
	httpURL  string
	stop     func()
}

func serve(t testing.TB, grpcAddr, httpAddr string) *running {
	t.Helper()
	gl, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv := aiservice.NewServer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, aiservice.Listeners{GRPC: gl, HTTP: hl}) }()
	r := &running{srv: srv, grpcAddr: gl.Addr().String(), httpURL: "http://" + hl.Addr().String()}
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(r.stop)
	return r
}

// generated reads the service zip kgen gen service wrote (see generate.go).
func generated(t testing.TB) (*svc.Description, map[string][]byte) {
	t.Helper()
	data, err := os.ReadFile("service/aiservice.zip")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var desc *svc.Description
	schemas := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if rel, ok := strings.CutPrefix(f.Name, "schemas/"); ok {
			schemas[rel] = b
		} else if path.Ext(f.Name) == ".json" {
			if desc, err = svc.ParseDescription(b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if desc == nil {
		t.Fatal("no description in service/aiservice.zip")
	}
	return desc, schemas
}

// register adds the generated service as name, over protocol at address;
// prefix renames every function (prefix + rpc).
func register(t testing.TB, e *engine.Engine, name, protocol, address, prefix string) {
	t.Helper()
	desc, schemas := generated(t)
	for iname, iface := range desc.Interfaces {
		iface.Protocol = protocol
		iface.Address = address
		if protocol == "rest" && iname == "Features" {
			iface.Address = address + "/features"
		}
		if iface.Options == nil {
			iface.Options = &svc.Options{}
		}
		iface.Options.Timeout = svc.Duration(2 * time.Second)
		for i := range iface.Functions {
			iface.Functions[i].Name = prefix + iface.Functions[i].ServiceName
		}
	}
	raw, err := json.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Services().Add(name, raw, schemas); err != nil {
		t.Fatal(err)
	}
}

// e2eRules are the rules the suite runs over both transports; %s is the
// function prefix.
var e2eRules = map[string]string{
	"label": `SELECT id, %[1]sLabel(text, labels) AS l, %[1]sTokenize(text)->count AS n,
		%[1]sTokenize(text)->tokens[1] AS second FROM texts`,
	"whole":   `SELECT id, %[1]sLabel(*)->label AS label FROM texts WHERE id < 3`,
	"feature": `SELECT %[1]sGetFeature(self) AS f FROM images`,
	"score":   `SELECT %[1]sScore(value, weight) AS s, %[1]sReset() AS r FROM readings`,
	"books": `SELECT shelf, %[1]sGetShelf(shelf)->theme AS theme, %[1]sListBooks(parent, 5)->books AS books,
		%[1]sFindBook(title) AS found FROM shelves`,
}

func TestEndToEnd(t *testing.T) {
	srv := serve(t, "127.0.0.1:0", "127.0.0.1:0")
	e, err := engine.Open(engine.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	register(t, e, "ai_grpc", "grpc", srv.grpcAddr, "")
	register(t, e, "ai_rest", "rest", srv.httpURL, "rest_")
	for _, s := range []string{
		`CREATE STREAM texts (id BIGINT, text STRING, labels ARRAY(STRING)) WITH (DATASOURCE="in/texts", TYPE="memory")`,
		`CREATE STREAM images () WITH (DATASOURCE="in/images", TYPE="memory", FORMAT="BINARY")`,
		`CREATE STREAM readings (value FLOAT, weight FLOAT) WITH (DATASOURCE="in/readings", TYPE="memory")`,
		`CREATE STREAM shelves (shelf BIGINT, parent STRING, title STRING) WITH (DATASOURCE="in/shelves", TYPE="memory")`,
	} {
		if _, err := e.CreateStream(s); err != nil {
			t.Fatal(err)
		}
	}
	outs := map[string]<-chan map[string]any{}
	for id, sql := range e2eRules {
		for _, p := range []string{"", "rest_"} {
			rule := fmt.Sprintf(`{"id": %q, "sql": %q, "actions": [{"memory": {"topic": "out/%[1]s"}}]}`, p+id, fmt.Sprintf(sql, p))
			if _, err := e.CreateRule([]byte(rule)); err != nil {
				t.Fatalf("rule %s: %v", p+id, err)
			}
			ch, cancel := e.MemoryHub().Subscribe("out/"+p+id, 16)
			defer cancel()
			outs[p+id] = ch
		}
	}
	ctx := context.Background()
	hub := e.MemoryHub()
	for _, r := range []map[string]any{
		{"id": int64(1), "text": "The cat sat on the mat with another cat", "labels": []any{"dog", "cat"}},
		{"id": int64(2), "text": "Dogs: one dog, two dogs", "labels": []any{"dog", "cat"}},
		{"id": int64(3), "text": "", "labels": []any{"x"}},
	} {
		hub.Publish(ctx, "in/texts", r)
	}
	hub.PublishPayload(ctx, "in/images", []byte("\x89PNG\r\n\x1a\naaab"))
	hub.PublishPayload(ctx, "in/images", nil)
	for _, r := range []map[string]any{
		{"value": 2.5, "weight": 4.0},
		{"weight": 1.0}, // no value: INVALID_ARGUMENT, an exception
		{"value": -1.0, "weight": 0.5},
	} {
		hub.Publish(ctx, "in/readings", r)
	}
	for _, r := range []map[string]any{
		{"shelf": int64(2), "parent": "shelves/2", "title": "A Brief History of Time"},
		{"shelf": int64(1), "parent": "shelves/1", "title": "the left hand of darkness"},
	} {
		hub.Publish(ctx, "in/shelves", r)
	}
	want := map[string][]string{
		"label": {
			"map[id:1 l:map[confidence:0.222 hits:map[cat:2 dog:0] label:cat] n:9 second:map[start:4 text:cat vowels:[map[end:2 start:1]]]]",
			"map[id:2 l:map[confidence:0.2 hits:map[cat:0 dog:1] label:dog] n:5 second:map[start:6 text:one vowels:[map[end:1 start:0] map[end:3 start:2]]]]",
			"map[id:3 l:map[confidence:0 hits:map[x:0] label:x] n:0 second:<nil>]",
		},
		"whole": {"map[id:1 label:cat]", "map[id:2 label:dog]"},
		"feature": {
			"map[f:map[entropy:3.022 head:[137 80 78 71] sha256:6b4c909f2ee881bfaa6e026158714ee788babb4a97aaeccc62ab091ad436e577 size:12 top:[map[count:3 value:97] map[count:2 value:10] map[count:1 value:13]]]]",
			"map[f:map[entropy:0 head:[] sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 size:0 top:[]]]",
		},
		"score": {"map[r:<nil> s:10]", "map[r:<nil> s:-0.5]"},
		"books": {
			"map[books:[map[author:Stephen Hawking shelf:2 tags:[] title:A Brief History of Time]] found:map[author:Stephen Hawking shelf:2 tags:[] title:A Brief History of Time] shelf:2 theme:science]",
			"map[books:[map[author:Ursula K. Le Guin shelf:1 tags:[classic] title:The Left Hand of Darkness]] found:map[author:Ursula K. Le Guin shelf:1 tags:[classic] title:The Left Hand of Darkness] shelf:1 theme:fiction]",
		},
	}
	for id, rows := range want {
		for _, p := range []string{"", "rest_"} {
			for i, w := range rows {
				r, ok := receive(outs[p+id])
				if !ok {
					st, _ := e.RuleStatus(p + id)
					t.Fatalf("rule %s: no row %d within 10s; status %+v", p+id, i+1, st)
				}
				got := fmt.Sprint(r)
				if got != w {
					t.Errorf("rule %s row %d:\n got %s\nwant %s", p+id, i+1, got, w)
				}
			}
		}
	}
	for _, id := range []string{"score", "rest_score"} {
		st, _ := e.RuleStatus(id)
		if st.Exceptions != 1 || !strings.Contains(st.LastError, "value: required") {
			t.Errorf("%s: status %+v", id, st)
		}
	}
}

func receive(ch <-chan map[string]any) (map[string]any, bool) {
	select {
	case r := <-ch:
		return r, true
	case <-time.After(10 * time.Second):
		return nil, false
	}
}
