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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := aiservice.NewServer().Serve(ctx, l); err != nil {
		log.Fatal(err)
	}
}
