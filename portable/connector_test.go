package portable

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	portablev1 "github.com/kgen-dev/kgen/portable/proto/kgen/portable/v1"
	"github.com/kgen-dev/kgen/sdk"
)

// tpush pushes props["rows"] rows {"i": i} with meta {"at": i} and time
// 1970 + i seconds, then an error, then its end; it reports its
// connection through its status handler.
type tpush struct {
	rows   int64
	status sdk.StatusHandler
	eof    sdk.EOFIngest
}

func (s *tpush) Provision(_ sdk.Context, props map[string]any) error {
	n, ok := props["rows"].(int64)
	if !ok {
		return fmt.Errorf("property %q: want an integer, got %T", "rows", props["rows"])
	}
	s.rows = n
	return nil
}
func (s *tpush) SetStatusHandler(h sdk.StatusHandler) { s.status = h }
func (s *tpush) SetEOFIngest(eof sdk.EOFIngest)       { s.eof = eof }
func (s *tpush) Connect(sdk.Context) error {
	s.status(sdk.StatusConnected, "up")
	return nil
}
func (s *tpush) Close(sdk.Context) error { return nil }
func (s *tpush) Subscribe(ctx sdk.Context, ingest sdk.Ingest, ingestErr sdk.ErrorIngest) error {
	go func() {
		for i := range s.rows {
			ingest(ctx, map[string]any{"i": i}, map[string]any{"at": i}, time.Unix(i, 0))
		}
		ingest(ctx, 42, nil, time.Time{}) // not a row: an error event
		ingestErr(ctx, errors.New("a bad message"))
		s.eof(ctx, "done")
	}()
	return nil
}

// tpull ingests a list of two rows per pull.
type tpull struct{ pulls int }

func (*tpull) Provision(sdk.Context, map[string]any) error { return nil }
func (*tpull) Connect(sdk.Context) error                   { return nil }
func (*tpull) Close(sdk.Context) error                     { return nil }
func (s *tpull) Pull(ctx sdk.Context, trigger time.Time, ingest sdk.Ingest, _ sdk.ErrorIngest) {
	s.pulls++
	ingest(ctx, []map[string]any{{"pull": s.pulls}, {"pull": s.pulls}}, nil, trigger)
}

// tsink takes rows whose v is not negative; a negative v fails, retryably
// when retry is true. Provision panics when props["panic"] is set.
type tsink struct{ got []int64 }

func (*tsink) Provision(_ sdk.Context, props map[string]any) error {
	if props["panic"] != nil {
		panic("provision went wrong")
	}
	return nil
}
func (*tsink) Connect(sdk.Context) error { return nil }
func (*tsink) Close(sdk.Context) error   { return nil }
func (s *tsink) Collect(_ sdk.Context, row map[string]any) error {
	v := row["v"].(int64)
	if v < 0 {
		err := fmt.Errorf("v %d is negative", v)
		if row["retry"] == true {
			return sdk.Retryable(err)
		}
		return err
	}
	s.got = append(s.got, v)
	return nil
}
func (s *tsink) CollectList(ctx sdk.Context, rows []map[string]any) error {
	for _, r := range rows {
		if err := s.Collect(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func init() {
	sdk.RegisterSource("tpush", func() sdk.Source { return &tpush{} })
	sdk.RegisterSource("tpull", func() sdk.Source { return &tpull{} })
	sdk.RegisterSink("tsink", func() sdk.Sink { return &tsink{} })
}

// serve serves the plugin's server over gRPC on a unix socket and returns
// a client of it.
func serve(t *testing.T) *portablev1.PluginClient {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "p.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	portablev1.RegisterPluginServer(gs, newServer(nil))
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	cc, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return portablev1.NewPluginClient(cc)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func props(t *testing.T, m map[string]any) *portablev1.MapValue {
	v, err := portablev1.ToValue(m)
	if err != nil {
		t.Fatal(err)
	}
	return v.GetMapValue()
}

func TestDescribeListsSourcesAndSinks(t *testing.T) {
	c := serve(t)
	resp, err := c.Describe(testCtx(t), &portablev1.DescribeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range resp.GetExtensions() {
		got = append(got, fmt.Sprintf("%v %s pull=%v bounded=%v", x.GetKind(), x.GetName(), x.GetPull(), x.GetBounded()))
	}
	want := "KIND_SOURCE tpull pull=true bounded=false|KIND_SOURCE tpush pull=false bounded=true|KIND_SINK tsink pull=false bounded=false"
	if strings.Join(got, "|") != want {
		t.Fatalf("extensions:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.ReplaceAll(want, "|", "\n"))
	}
}

// A push source's stream: the empty first message, then its rows with
// their meta and time, a bad ingest and an error as error events, its
// status and its end.
func TestPushSourceStreamsItsEvents(t *testing.T) {
	c := serve(t)
	ctx := testCtx(t)
	inst := &portablev1.Instance{Id: 7, RuleId: "r"}
	if _, err := c.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SOURCE, Name: "tpush", Instance: inst, Props: props(t, map[string]any{"rows": 2})}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(ctx, &portablev1.ConnectRequest{InstanceId: 7}); err != nil {
		t.Fatal(err)
	}
	stream, err := c.Subscribe(ctx, &portablev1.SubscribeRequest{InstanceId: 7})
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || len(first.GetEvents()) != 0 {
		t.Fatalf("first message %v, %v; want an empty one", first, err)
	}
	var got []string
	for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "eof") {
		evs, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		for _, ev := range evs.GetEvents() {
			switch e := ev.GetEvent().(type) {
			case *portablev1.SourceEvent_Data:
				got = append(got, fmt.Sprintf("row %v meta %v at %d", mapOf(e.Data.GetRow()), mapOf(e.Data.GetMeta()), e.Data.GetTimestampUnixNano()))
			case *portablev1.SourceEvent_Error:
				got = append(got, "error "+e.Error)
			case *portablev1.SourceEvent_Status:
				got = append(got, "status "+e.Status.GetStatus()+" "+e.Status.GetMessage())
			case *portablev1.SourceEvent_Eof:
				got = append(got, "eof "+e.Eof)
			}
		}
	}
	want := []string{
		"status connected up",
		"row map[i:0] meta map[at:0] at 0",
		"row map[i:1] meta map[at:1] at 1000000000",
		"error ingest: data: want map[string]any, []map[string]any or []byte, got int",
		"error a bad message",
		"eof done",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Close ends the stream.
	if _, err := c.Close(ctx, &portablev1.CloseRequest{InstanceId: 7}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			break
		}
	}
	if _, err := c.Connect(ctx, &portablev1.ConnectRequest{InstanceId: 7}); err == nil || status.Convert(err).Message() != "instance 7 is not provisioned" {
		t.Fatalf("connect after close: %v", err)
	}
}

func mapOf(m *portablev1.MapValue) map[string]any {
	return portablev1.FromValue(&portablev1.Value{Kind: &portablev1.Value_MapValue{MapValue: m}}).(map[string]any)
}

func TestPullSourceAnswersEachPull(t *testing.T) {
	c := serve(t)
	ctx := testCtx(t)
	if _, err := c.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SOURCE, Name: "tpull", Instance: &portablev1.Instance{Id: 1}}); err != nil {
		t.Fatal(err)
	}
	for pull := int64(1); pull <= 2; pull++ {
		evs, err := c.Pull(ctx, &portablev1.PullRequest{InstanceId: 1, TriggerUnixNano: pull})
		if err != nil {
			t.Fatal(err)
		}
		d := evs.GetEvents()[0].GetData()
		if len(evs.GetEvents()) != 1 || len(d.GetRows().GetValues()) != 2 || d.GetTimestampUnixNano() != pull ||
			portablev1.FromValue(d.GetRows().GetValues()[1]).(map[string]any)["pull"] != pull {
			t.Fatalf("pull %d: %v", pull, evs)
		}
	}
	if _, err := c.Subscribe(ctx, &portablev1.SubscribeRequest{InstanceId: 1}); err != nil {
		t.Fatal(err)
	}
}

// A sink's batch stops at the first failing row and says how many went
// through and whether to retry.
func TestSinkCollectStopsAtTheFailedRow(t *testing.T) {
	c := serve(t)
	ctx := testCtx(t)
	if _, err := c.Provision(ctx, &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SINK, Name: "tsink", Instance: &portablev1.Instance{Id: 3}}); err != nil {
		t.Fatal(err)
	}
	rows := func(list ...map[string]any) []*portablev1.MapValue {
		out := make([]*portablev1.MapValue, len(list))
		for i, r := range list {
			out[i] = props(t, r)
		}
		return out
	}
	for _, tc := range []struct {
		list bool
		rows []*portablev1.MapValue
		want string
	}{
		{false, rows(map[string]any{"v": 1}, map[string]any{"v": 2}), `collected:2`},
		{false, rows(map[string]any{"v": 1}, map[string]any{"v": -1}, map[string]any{"v": 2}), `error:"v -1 is negative" collected:1`},
		{false, rows(map[string]any{"v": -1, "retry": true}), `error:"v -1 is negative" retryable:true`},
		{true, rows(map[string]any{"v": 1}, map[string]any{"v": -3}), `error:"v -3 is negative"`},
		{true, rows(map[string]any{"v": 1}), `collected:1`},
	} {
		resp, err := c.Collect(ctx, &portablev1.CollectRequest{InstanceId: 3, List: tc.list, Rows: tc.rows})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(strings.Fields(fmt.Sprint(resp)), " "); got != tc.want {
			t.Errorf("collect (list %v) = %s, want %s", tc.list, got, tc.want)
		}
	}
}

func TestProvisionErrors(t *testing.T) {
	c := serve(t)
	ctx := testCtx(t)
	for _, tc := range []struct {
		req  *portablev1.ProvisionRequest
		want string
	}{
		{&portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SOURCE, Name: "nope", Instance: &portablev1.Instance{Id: 1}}, `unknown source "nope"`},
		{&portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SINK, Name: "tpush", Instance: &portablev1.Instance{Id: 1}}, `unknown sink "tpush"`},
		{&portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_FUNCTION, Name: "f", Instance: &portablev1.Instance{Id: 1}}, `provision: kind KIND_FUNCTION is not a source or a sink`},
		{&portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SOURCE, Name: "tpush", Instance: &portablev1.Instance{Id: 1}, Props: props(t, map[string]any{"rows": "x"})}, `property "rows": want an integer, got string`},
		{&portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SINK, Name: "tsink", Instance: &portablev1.Instance{Id: 1}, Props: props(t, map[string]any{"panic": true})}, `panic: provision went wrong`},
	} {
		_, err := c.Provision(ctx, tc.req)
		if got := status.Convert(err).Message(); got != tc.want {
			t.Errorf("provision %s %q: %q, want %q", tc.req.GetKind(), tc.req.GetName(), got, tc.want)
		}
	}
	ok := &portablev1.ProvisionRequest{Kind: portablev1.Kind_KIND_SINK, Name: "tsink", Instance: &portablev1.Instance{Id: 2}}
	if _, err := c.Provision(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Provision(ctx, ok); status.Convert(err).Message() != "instance 2 is already provisioned" {
		t.Errorf("provision twice: %v", err)
	}
	if _, err := c.Pull(ctx, &portablev1.PullRequest{InstanceId: 2}); status.Convert(err).Message() != `sink "tsink" is not a pull source` {
		t.Errorf("pull a sink: %v", err)
	}
}
