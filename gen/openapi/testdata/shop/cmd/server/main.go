// Command server serves the generated shop server stub (../../server)
// with a small in-memory implementation on 127.0.0.1, under the path
// -prefix (the path of a server URL; none by default), writes
// "http=<host:port>" to -ready and runs until its standard input closes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"

	shop "github.com/kgen-dev/kgen/gen/openapi/testdata/shop/server"
)

type store struct {
	mu    sync.Mutex
	items map[int64]shop.Item
	next  int64
}

func notFound(id int64) error {
	return &shop.HTTPError{Status: http.StatusNotFound, Body: shop.Error{Code: 404, Message: fmt.Sprintf("no item %d", id)}}
}

func (s *store) CreateItem(_ context.Context, p *shop.CreateItemParams) (*shop.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	it := shop.Item{ID: s.next, Name: p.Item.Name, Price: p.Item.Price, Status: p.Item.Status, Tags: p.Item.Tags, Size: p.Item.Size}
	if p.XRequestID != nil {
		it.Tags = append(it.Tags, "req:"+*p.XRequestID)
	}
	s.items[it.ID] = it
	return &it, nil
}

func (s *store) DeleteItem(_ context.Context, p *shop.DeleteItemParams) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[p.ID]; !ok {
		return notFound(p.ID)
	}
	delete(s.items, p.ID)
	return nil
}

func (s *store) GetItem(_ context.Context, p *shop.GetItemParams) (*shop.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[p.ID]
	if !ok {
		return nil, notFound(p.ID)
	}
	return &it, nil
}

func (s *store) GetStock(_ context.Context, p *shop.GetStockParams) (*shop.Stock, error) {
	return &shop.Stock{SKU: p.SKU, Count: 7, ByWarehouse: map[string]int64{string(p.Warehouse): 7}}, nil
}

func (s *store) ListItems(_ context.Context, p *shop.ListItemsParams) ([]shop.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []shop.Item{}
	for id := int64(1); id <= s.next; id++ {
		it, ok := s.items[id]
		if !ok || (p.Status != nil && (it.Status == nil || *it.Status != *p.Status)) {
			continue
		}
		if slices.ContainsFunc(p.Tag, func(t string) bool { return !slices.Contains(it.Tags, t) }) {
			continue
		}
		if p.Limit != nil && len(out) == int(*p.Limit) {
			break
		}
		out = append(out, it)
	}
	return out, nil
}

func (s *store) UpdateItem(_ context.Context, p *shop.UpdateItemParams) (*shop.Item, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.items[p.ID]; !ok {
		return nil, notFound(p.ID)
	}
	it := shop.Item{ID: p.ID, Name: p.Body.Name, Price: p.Body.Price, Status: p.Body.Status, Tags: p.Body.Tags, Size: p.Body.Size}
	s.items[p.ID] = it
	return &it, nil
}

// Authenticate wants the bearer token "tok" and the API key "key".
func (s *store) Authenticate(r *http.Request, scheme string, _ []string) error {
	switch {
	case scheme == "bearer" && r.Header.Get("Authorization") == "Bearer tok":
		return nil
	case scheme == "apiKey" && r.Header.Get("X-API-Key") == "key":
		return nil
	}
	return fmt.Errorf("%s: bad credentials", scheme)
}

func main() {
	ready := flag.String("ready", "", "write the address to this file when serving")
	prefix := flag.String("prefix", "", "serve under this `path`, such as /api/v1")
	flag.Parse()
	var h http.Handler
	h, err := shop.NewHandler(&store{items: map[int64]shop.Item{}})
	if err != nil {
		log.Fatal(err)
	}
	if *prefix != "" {
		mux := http.NewServeMux()
		mux.Handle(*prefix+"/", http.StripPrefix(*prefix, h))
		h = mux
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(l, h)
	if err := os.WriteFile(*ready, []byte("http="+l.Addr().String()+"\n"), 0o644); err != nil {
		log.Fatal(err)
	}
	io.Copy(io.Discard, os.Stdin)
}
