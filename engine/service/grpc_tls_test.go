package service

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/kgen-dev/kgen/internal/testutil"
	"github.com/kgen-dev/kgen/internal/testutil/prototest"
	"github.com/kgen-dev/kgen/svc"
)

// selfSignedCert is a throwaway certificate for 127.0.0.1.
func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	cert, err := tls.X509KeyPair(testutil.SelfSignedCert(t))
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestGRPCTLS(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cert := selfSignedCert(t)
	srv := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&cert)),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			in := &wrapperspb.StringValue{}
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return stream.SendMsg(wrapperspb.String(strings.ToUpper(in.Value)))
		}))
	go srv.Serve(lis)
	defer srv.Stop()
	addr := lis.Addr().String()
	m := prototest.TransportMethod(t, "Upper")
	req := wrapperspb.String("secure")

	// The self-signed certificate is refused unless verification is off.
	inv := newTestGRPCInvoker(t, addr, &svc.Options{TLS: true, Timeout: svc.Duration(2 * time.Second)})
	if _, err := inv.Invoke(context.Background(), m, req); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("verified TLS to a self-signed server: %v", err)
	}
	inv = newTestGRPCInvoker(t, addr, &svc.Options{TLS: true, InsecureSkipVerify: true})
	resp, err := inv.Invoke(context.Background(), m, req)
	if err != nil {
		t.Fatal(err)
	}
	var got wrapperspb.StringValue
	b, _ := proto.Marshal(resp)
	if err := proto.Unmarshal(b, &got); err != nil || got.Value != "SECURE" {
		t.Errorf("response = %v, %v", &got, err)
	}
	// Plaintext to a TLS server fails, bounded.
	inv = newTestGRPCInvoker(t, addr, &svc.Options{Timeout: svc.Duration(time.Second)})
	if _, err := inv.Invoke(context.Background(), m, req); err == nil {
		t.Error("plaintext call to a TLS server: no error")
	}
}
