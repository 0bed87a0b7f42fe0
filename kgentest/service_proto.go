package kgentest

import (
	"net"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/kgen-dev/kgen/engine/service"
)

// startProto serves every service of the .proto file on a free loopback
// port until the script ends, and returns its address.
func startProto(ts *testscript.TestScript, file string) string {
	fd, err := service.LoadSchema(filepath.Dir(file), filepath.Base(file))
	if err != nil {
		ts.Fatalf("service start: %v", err)
	}
	return startEcho(ts, fd)
}

// startEcho serves every service of fd on a free loopback port until the
// script ends: each rpc answers its output message with the request's
// fields of the same name copied in (through their JSON form), the others
// zero.
func startEcho(ts *testscript.TestScript, fd protoreflect.FileDescriptor) string {
	methods := map[string]protoreflect.MethodDescriptor{}
	for i := 0; i < fd.Services().Len(); i++ {
		sd := fd.Services().Get(i)
		for j := 0; j < sd.Methods().Len(); j++ {
			m := sd.Methods().Get(j)
			methods["/"+string(sd.FullName())+"/"+string(m.Name())] = m
		}
	}
	if len(methods) == 0 {
		ts.Fatalf("service start: %s has no services", fd.Path())
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		full, _ := grpc.MethodFromServerStream(stream)
		m, ok := methods[full]
		if !ok {
			return status.Errorf(codes.Unimplemented, "method %s is not in %s", full, fd.Path())
		}
		if m.IsStreamingClient() || m.IsStreamingServer() {
			return status.Errorf(codes.Unimplemented, "%s streams; the fixture answers unary rpcs only", full)
		}
		req := dynamicpb.NewMessage(m.Input())
		if err := stream.RecvMsg(req); err != nil {
			return err
		}
		return stream.SendMsg(echo(req, m.Output()))
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	go srv.Serve(l)
	ts.Defer(srv.Stop)
	return l.Addr().String()
}

// echo is an out message with the fields of req that fit copied in.
func echo(req *dynamicpb.Message, out protoreflect.MessageDescriptor) *dynamicpb.Message {
	resp := dynamicpb.NewMessage(out)
	data, err := protojson.Marshal(req)
	if err != nil {
		return resp
	}
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	if err := opts.Unmarshal(data, resp); err == nil {
		return resp
	}
	// Some field does not fit: copy field by field, what fits.
	resp = dynamicpb.NewMessage(out)
	fields := out.Fields()
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		one := dynamicpb.NewMessage(out)
		in := req.Descriptor().Fields().ByName(f.Name())
		if in == nil || !req.Has(in) {
			continue
		}
		single := dynamicpb.NewMessage(req.Descriptor())
		single.Set(in, req.Get(in))
		d, err := protojson.Marshal(single)
		if err != nil || opts.Unmarshal(d, one) != nil {
			continue
		}
		if one.Has(f) {
			resp.Set(f, one.Get(f))
		}
	}
	return resp
}
