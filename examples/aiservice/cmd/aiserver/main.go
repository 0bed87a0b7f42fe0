// Command aiserver serves the example services of aiservice.proto over
// gRPC and REST, for kgen's external functions.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"

	"github.com/kgen-dev/kgen/examples/aiservice"
)

func main() {
	grpcAddr := flag.String("grpc", "127.0.0.1:50051", "gRPC listen `address` (empty: none)")
	httpAddr := flag.String("http", "127.0.0.1:8080", "REST listen `address` (empty: none)")
	ready := flag.String("ready", "", "write the gRPC address and the REST URL, a line each, to `file` once listening")
	flag.Parse()
	var l aiservice.Listeners
	var err error
	if *grpcAddr != "" {
		if l.GRPC, err = net.Listen("tcp", *grpcAddr); err != nil {
			log.Fatal(err)
		}
		fmt.Println("grpc", l.GRPC.Addr())
	}
	if *httpAddr != "" {
		if l.HTTP, err = net.Listen("tcp", *httpAddr); err != nil {
			log.Fatal(err)
		}
		fmt.Println("http", l.HTTP.Addr())
	}
	if *ready != "" {
		var lines string
		if l.GRPC != nil {
			lines += l.GRPC.Addr().String()
		}
		lines += "\n"
		if l.HTTP != nil {
			lines += "http://" + l.HTTP.Addr().String()
		}
		if err := os.WriteFile(*ready, []byte(lines+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := aiservice.NewServer().Serve(ctx, l); err != nil {
		log.Fatal(err)
	}
}
