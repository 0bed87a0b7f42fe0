// Command server serves the generated petstore server stub (../../server)
// on 127.0.0.1, implementing addPet and getPetById (the other methods are
// not called), writes "http=<host:port>" to -ready and runs until its
// standard input closes.
package main

import (
	"context"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"

	petstore "github.com/kgen-dev/kgen/gen/openapi/testdata/petstore/server"
)

type pets struct {
	petstore.Handler // nil: the methods the test does not call
	mu               sync.Mutex
	byID             map[int64]petstore.Pet
}

func (p *pets) AddPet(_ context.Context, params *petstore.AddPetParams) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := int64(len(p.byID) + 1)
	name := params.Body.Name
	p.byID[id] = petstore.Pet{ID: &id, Name: &name, PhotoUrls: params.Body.PhotoUrls}
	return nil
}

func (p *pets) GetPetByID(_ context.Context, params *petstore.GetPetByIDParams) (*petstore.Pet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pet, ok := p.byID[params.PetID]
	if !ok {
		return nil, &petstore.HTTPError{Status: http.StatusNotFound}
	}
	return &pet, nil
}

func main() {
	ready := flag.String("ready", "", "write the address to this file when serving")
	flag.Parse()
	h, err := petstore.NewHandler(&pets{byID: map[int64]petstore.Pet{}})
	if err != nil {
		log.Fatal(err)
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
