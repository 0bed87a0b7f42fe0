package service

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/internal/testutil/prototest"
)

// sharedProto is one schema that a gRPC and a REST interface of one
// service both use.
const sharedProto = `syntax = "proto3";
package shared;
import "google/api/annotations.proto";

service Vision {
  rpc Label(LabelRequest) returns (LabelReply) {
    option (google.api.http) = {post: "/v1/label" body: "*"};
  }
  rpc Tally(LabelRequest) returns (CountReply);
}

message LabelRequest { string image = 1; }
message Box { int32 x = 1; int32 y = 2; }
message LabelReply {
  string label = 1;
  double score = 2;
  repeated Box boxes = 3;
}
message CountReply { int64 n = 1 [json_name = "total"]; }
`

// sharedReplies are the replies of both servers, as protobuf JSON: the
// gRPC server sends them in binary, the REST server as written.
var sharedReplies = map[string]string{
	"Label": `{"label":"cat","boxes":[{"x":1}]}`,
	"Tally": `{"total":"3"}`,
}

// startSharedServers serves sharedProto's Vision over gRPC and over REST on
// 127.0.0.1 and returns their addresses.
func startSharedServers(t *testing.T) (grpcAddr, restURL string) {
	t.Helper()
	fd, err := prototest.Compile("", map[string]string{"shared.proto": sharedProto}, "shared.proto")
	if err != nil {
		t.Fatal(err)
	}
	methods := fd.Services().ByName("Vision").Methods()
	reply := func(name string) (*dynamicpb.Message, error) {
		m := methods.ByName(protoreflect.Name(name))
		if m == nil {
			return nil, status.Errorf(codes.Unimplemented, "no method %s", name)
		}
		out := dynamicpb.NewMessage(m.Output())
		return out, protojson.Unmarshal([]byte(sharedReplies[name]), out)
	}

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(stream)
		name := full[strings.LastIndexByte(full, '/')+1:]
		if m := methods.ByName(protoreflect.Name(name)); m != nil {
			if err := stream.RecvMsg(dynamicpb.NewMessage(m.Input())); err != nil {
				return err
			}
		}
		out, err := reply(name)
		if err != nil {
			return err
		}
		return stream.SendMsg(out)
	}))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)

	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		var name string
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/label":
			name = "Label"
		case r.Method == "POST" && r.URL.Path == "/Tally":
			name = "Tally"
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, sharedReplies[name])
	}))
	t.Cleanup(rest.Close)
	return lis.Addr().String(), rest.URL
}

// sharedDesc is a description with a gRPC and a REST interface on
// shared.proto, each with its own function renames.
func sharedDesc(grpcAddr, restURL, grpcFuncs, restFuncs string) string {
	return `{"interfaces": {
  "grpc": {"address": "tcp://` + grpcAddr + `", "protocol": "grpc", "schemaFile": "shared.proto", "functions": [` + grpcFuncs + `]},
  "rest": {"address": "` + restURL + `", "protocol": "rest", "schemaFile": "shared.proto", "functions": [` + restFuncs + `]}}}`
}

// callCtx is the FunctionContext of a call outside a rule.
type callCtx struct{ context.Context }

func (callCtx) GetLogger() *slog.Logger        { return slog.Default() }
func (callCtx) GetRuleId() string              { return "" }
func (callCtx) GetOpId() string                { return "" }
func (callCtx) GetInstanceId() int             { return 0 }
func (callCtx) GetRootPath() string            { return "" }
func (callCtx) PutState(string, any) error     { return nil }
func (callCtx) GetState(string) (any, error)   { return nil, nil }
func (callCtx) IncrCounter(string, int) error  { return nil }
func (callCtx) GetCounter(string) (int, error) { return 0, nil }
func (callCtx) DeleteState(string) error       { return nil }
func (callCtx) GetFuncId() int                 { return 0 }

// TestSharedSchemaTwoInterfaces: one .proto behind a gRPC and a REST
// interface is accepted when the renames keep the SQL names apart, and each
// function calls its own server. A REST reply keeps only the keys sent; a
// gRPC reply has every field.
func TestSharedSchemaTwoInterfaces(t *testing.T) {
	grpcAddr, restURL := startSharedServers(t)
	r, _ := newTestRegistry(t)
	schema := map[string][]byte{"shared.proto": []byte(sharedProto)}
	desc := sharedDesc(grpcAddr, restURL,
		`{"name": "label", "serviceName": "Label"}`,
		`{"name": "restLabel", "serviceName": "Label"}, {"name": "restTally", "serviceName": "Tally"}`)
	if err := r.Add("vision", []byte(desc), schema); err != nil {
		t.Fatal(err)
	}
	want := "Tally=vision/grpc/Tally label=vision/grpc/Label restLabel=vision/rest/Label restTally=vision/rest/Tally"
	if got := funcNames(r); got != want {
		t.Errorf("functions:\n got %s\nwant %s", got, want)
	}
	for _, tc := range []struct {
		fn   string
		want any
	}{
		{"label", map[string]any{"label": "cat", "score": 0.0, "boxes": []any{map[string]any{"x": int64(1), "y": int64(0)}}}},
		{"Tally", map[string]any{"n": int64(3)}},
		{"restLabel", map[string]any{"label": "cat", "boxes": []any{map[string]any{"x": int64(1)}}}},
		{"restTally", map[string]any{"n": int64(3)}},
	} {
		f, ok := r.Function(tc.fn)
		if !ok {
			t.Fatalf("no function %s", tc.fn)
		}
		got, ok := f.Exec(callCtx{t.Context()}, []any{"img.png"})
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, %v\nwant %#v", tc.fn, got, ok, tc.want)
		}
	}
}

// TestSharedSchemaCollisions: renames that leave two interfaces with one
// SQL name are refused, naming the function and both interfaces.
func TestSharedSchemaCollisions(t *testing.T) {
	r, _ := newTestRegistry(t)
	schema := map[string][]byte{"shared.proto": []byte(sharedProto)}
	for _, tc := range []struct {
		name, grpcFuncs, restFuncs, want string
	}{
		{"no renames", ``, ``,
			`add service "vision": function "Label" is defined by interfaces "grpc" and "rest"`},
		{"one rename each, to one name", `{"name": "label", "serviceName": "Label"}, {"name": "n", "serviceName": "Tally"}`,
			`{"name": "label", "serviceName": "Label"}, {"name": "restTally", "serviceName": "Tally"}`,
			`add service "vision": function "label" is defined by interfaces "grpc" and "rest"`},
		{"a rename onto an rpc left unrenamed", `{"name": "n", "serviceName": "Tally"}`,
			`{"name": "Label", "serviceName": "Tally"}, {"name": "restLabel", "serviceName": "Label"}`,
			`add service "vision": function "Label" is defined by interfaces "grpc" and "rest"`},
		{"an rpc left unrenamed onto a rename", `{"name": "Label", "serviceName": "Tally"}, {"name": "grpcLabel", "serviceName": "Label"}`,
			`{"name": "restTally", "serviceName": "Tally"}`,
			`add service "vision": function "Label" is defined by interfaces "grpc" and "rest"`},
	} {
		err := r.Add("vision", []byte(sharedDesc("127.0.0.1:1", "http://127.0.0.1:1", tc.grpcFuncs, tc.restFuncs)), schema)
		if got := errString(err); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if got := funcNames(r); got != "" {
		t.Errorf("functions after refused adds: %s", got)
	}
}
