// Command server serves the generated Bookstore server stub (package
// ../../server) over gRPC and REST on loopback, for gen/proto's tests. It calls
// one rpc through the generated typed client and one over HTTP, prints what
// came back, writes the two addresses to the -ready file, and serves until
// its standard input closes.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	features "github.com/kgen-dev/kgen/gen/proto/testdata/features/server"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func main() {
	ready := flag.String("ready", "", "write the gRPC and HTTP addresses to this `file` once serving")
	flag.Parse()
	if err := run(*ready); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// store implements features.BookstoreServer in memory; Reset is left to
// the embedded UnimplementedBookstoreServer.
type store struct {
	features.UnimplementedBookstoreServer
	mu     sync.Mutex
	shelf  int64                      // last shelf id
	shelfs map[int64][]*features.Book // books by shelf
}

func newStore() *store {
	return &store{shelf: 1, shelfs: map[int64][]*features.Book{1: {{
		Id:            1,
		Title:         "Dune",
		Authors:       []*features.Author{{Name: "Frank Herbert", Aliases: []string{"FH"}}},
		Genre:         features.Genre_FICTION,
		Cover:         []byte{0xca, 0xfe},
		Ratings:       map[string]int32{"alice": 5, "bob": 4},
		Published:     timestamppb.New(time.Date(1965, 8, 1, 0, 0, 0, 0, time.UTC)),
		Length:        &features.Book_Pages{Pages: 412},
		Notes:         []*features.Book_Note{{Page: 1, Text: "sand"}},
		ShelfPosition: &features.Point{X: 1.5, Y: 2},
		Subtitle:      wrapperspb.String("a novel"),
	}}}}
}

func (s *store) GetBook(_ context.Context, in *features.GetBookRequest) (*features.Book, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.shelfs[in.GetShelf()] {
		if b.GetId() == in.GetBook() {
			return b, nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "shelf %d has no book %d", in.GetShelf(), in.GetBook())
}

func (s *store) CreateBook(_ context.Context, in *features.CreateBookRequest) (*features.Book, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := proto.Clone(in.GetBook()).(*features.Book)
	if b == nil {
		b = &features.Book{}
	}
	b.Id = int64(len(s.shelfs[in.GetShelf()]) + 1)
	s.shelfs[in.GetShelf()] = append(s.shelfs[in.GetShelf()], b)
	return b, nil
}

func (s *store) CreateShelf(_ context.Context, in *features.Shelf) (*features.Shelf, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shelf++
	return &features.Shelf{Id: s.shelf, Theme: in.GetTheme()}, nil
}

func (s *store) ListBooks(_ context.Context, in *wrapperspb.Int64Value) (*features.ListBooksResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &features.ListBooksResponse{Books: s.shelfs[in.GetValue()]}, nil
}

func (s *store) Greet(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return wrapperspb.String("hello, " + in.GetValue()), nil
}

func run(ready string) error {
	srv := newStore()
	var mu sync.Mutex
	var seen []string // methods the interceptor saw
	intercept := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		mu.Lock()
		seen = append(seen, info.FullMethod)
		mu.Unlock()
		return h(ctx, req)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	gs := grpc.NewServer(grpc.UnaryInterceptor(intercept))
	features.RegisterBookstoreServer(gs, srv)
	go gs.Serve(gl)
	defer gs.Stop()

	h, err := features.NewBookstoreRESTHandler(srv)
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(hl)
	defer hs.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	c := features.NewBookstoreClient(cc)
	b, err := c.GetBook(ctx, &features.GetBookRequest{Shelf: 1, Book: 1})
	if err != nil {
		return err
	}
	fmt.Printf("grpc GetBook: %q by %s, %d pages\n", b.GetTitle(), b.GetAuthors()[0].GetName(), b.GetPages())
	_, err = c.Reset(ctx, &emptypb.Empty{})
	fmt.Printf("grpc Reset: %v\n", status.Code(err))
	mu.Lock()
	fmt.Printf("interceptor: %s\n", strings.Join(slices.Clone(seen), " "))
	mu.Unlock()

	resp, err := http.Get("http://" + hl.Addr().String() + "/v1/shelves/1/books/1")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	// protojson varies its spacing on purpose: print the JSON normalized.
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("GET /v1/shelves/1/books/1: %v: %s", err, body)
	}
	norm, _ := json.Marshal(v)
	fmt.Printf("http GET /v1/shelves/1/books/1: %d %s\n", resp.StatusCode, norm)

	tmp := ready + ".tmp"
	if err := os.WriteFile(tmp, []byte("grpc="+gl.Addr().String()+"\nhttp="+hl.Addr().String()+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, ready); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin)
	return nil
}
