package aiservice

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Server implements both services of aiservice.proto: the feature
// extractor and a bookstore kept in memory.
type Server struct {
	UnimplementedFeaturesServer
	UnimplementedBookstoreServer

	calls atomic.Int64

	mu      sync.Mutex
	shelves map[int64]*Shelf
	books   map[int64][]*Book
}

// NewServer returns a server whose bookstore has two shelves.
func NewServer() *Server {
	return &Server{
		shelves: map[int64]*Shelf{
			1: {Id: 1, Theme: "fiction", Books: 1},
			2: {Id: 2, Theme: "science", Books: 1},
		},
		books: map[int64][]*Book{
			1: {{Shelf: 1, Title: "The Left Hand of Darkness", Author: "Ursula K. Le Guin", Tags: []string{"classic"}}},
			2: {{Shelf: 2, Title: "A Brief History of Time", Author: "Stephen Hawking"}},
		},
	}
}

// Calls is the number of rpcs served since the last Reset.
func (s *Server) Calls() int64 { return s.calls.Load() }

func (s *Server) GetFeature(_ context.Context, in *wrapperspb.BytesValue) (*FeatureResult, error) {
	s.calls.Add(1)
	data := in.GetValue()
	sum := sha256.Sum256(data)
	var counts [256]int64
	for _, b := range data {
		counts[b]++
	}
	var entropy float64
	var top []*ByteCount
	for v, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / float64(len(data))
		entropy -= p * math.Log2(p)
		top = append(top, &ByteCount{Value: uint32(v), Count: c})
	}
	slices.SortStableFunc(top, func(a, b *ByteCount) int { return cmp.Compare(b.Count, a.Count) })
	return &FeatureResult{
		Size:    int64(len(data)),
		Sha256:  hex.EncodeToString(sum[:]),
		Entropy: math.Round(entropy*1000) / 1000,
		Top:     top[:min(3, len(top))],
		Head:    data[:min(4, len(data))],
	}, nil
}

func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func (s *Server) Label(_ context.Context, in *LabelRequest) (*LabelResult, error) {
	s.calls.Add(1)
	if len(in.GetLabels()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "labels: want at least one label")
	}
	ws := words(in.GetText())
	hits := make(map[string]int64, len(in.GetLabels()))
	for _, l := range in.GetLabels() {
		hits[l] = 0
		for _, w := range ws {
			if w == strings.ToLower(l) {
				hits[l]++
			}
		}
	}
	best := in.GetLabels()[0]
	for _, l := range in.GetLabels() {
		if hits[l] > hits[best] {
			best = l
		}
	}
	res := &LabelResult{Label: best, Hits: hits}
	if len(ws) > 0 {
		res.Confidence = math.Round(float64(hits[best])/float64(len(ws))*1000) / 1000
	}
	return res, nil
}

func isVowel(r rune) bool { return strings.ContainsRune("aeiouAEIOU", r) }

func (s *Server) Tokenize(_ context.Context, in *wrapperspb.StringValue) (*TokenList, error) {
	s.calls.Add(1)
	text := in.GetValue()
	out := &TokenList{}
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		tok := &Token{Text: text[start:end], Start: int32(start)}
		vs := -1
		for i, r := range tok.Text + " " {
			switch {
			case isVowel(r) && vs < 0:
				vs = i
			case !isVowel(r) && vs >= 0:
				tok.Vowels = append(tok.Vowels, &Span{Start: int32(vs), End: int32(i)})
				vs = -1
			}
		}
		out.Tokens = append(out.Tokens, tok)
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
		} else {
			flush(i)
		}
	}
	flush(len(text))
	out.Count = int32(len(out.Tokens))
	return out, nil
}

func (s *Server) Score(_ context.Context, in *ScoreRequest) (*wrapperspb.DoubleValue, error) {
	s.calls.Add(1)
	if in.GetValue() == nil {
		return nil, status.Error(codes.InvalidArgument, "value: required")
	}
	return wrapperspb.Double(in.GetValue().GetValue() * in.GetWeight()), nil
}

func (s *Server) Reset(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.calls.Store(0)
	return &emptypb.Empty{}, nil
}

func (s *Server) GetShelf(_ context.Context, in *GetShelfRequest) (*Shelf, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shelves[in.GetShelf()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "shelf %d: not found", in.GetShelf())
	}
	return proto.Clone(sh).(*Shelf), nil
}

func (s *Server) CreateBook(_ context.Context, in *CreateBookRequest) (*Book, error) {
	s.calls.Add(1)
	if in.GetBook().GetTitle() == "" {
		return nil, status.Error(codes.InvalidArgument, "book.title: required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sh, ok := s.shelves[in.GetShelf()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "shelf %d: not found", in.GetShelf())
	}
	b := proto.Clone(in.GetBook()).(*Book)
	b.Shelf = sh.Id
	s.books[sh.Id] = append(s.books[sh.Id], b)
	sh.Books++
	return proto.Clone(b).(*Book), nil
}

func (s *Server) ListBooks(_ context.Context, in *ListBooksRequest) (*ListBooksResponse, error) {
	s.calls.Add(1)
	idText, ok := strings.CutPrefix(in.GetParent(), "shelves/")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "parent %q: want shelves/<id>", in.GetParent())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.shelves[id]; !ok {
		return nil, status.Errorf(codes.NotFound, "shelf %d: not found", id)
	}
	books := s.books[id]
	if n := int(in.GetPageSize()); n > 0 && n < len(books) {
		books = books[:n]
	}
	out := &ListBooksResponse{}
	for _, b := range books {
		out.Books = append(out.Books, proto.Clone(b).(*Book))
	}
	return out, nil
}

func (s *Server) FindBook(_ context.Context, in *FindBookRequest) (*Book, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.books))
	for id := range s.books {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		for _, b := range s.books[id] {
			if strings.EqualFold(b.Title, in.GetTitle()) {
				return proto.Clone(b).(*Book), nil
			}
		}
	}
	return nil, status.Errorf(codes.NotFound, "book %q: not found", in.GetTitle())
}

// Listeners are the addresses a Server is served on.
type Listeners struct {
	GRPC net.Listener
	HTTP net.Listener
}

// Handler serves both services over REST: the bookstore at its
// google.api.http paths, the features at POST /features/<rpc>.
func (s *Server) Handler() (http.Handler, error) {
	features, err := NewFeaturesRESTHandler(s)
	if err != nil {
		return nil, err
	}
	books, err := NewBookstoreRESTHandler(s)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/features/", http.StripPrefix("/features", features))
	mux.Handle("/", books)
	return mux, nil
}

// Serve serves s on l until ctx ends: gRPC on l.GRPC and REST on l.HTTP
// (either may be nil).
func (s *Server) Serve(ctx context.Context, l Listeners) error {
	gs := grpc.NewServer()
	RegisterFeaturesServer(gs, s)
	RegisterBookstoreServer(gs, s)
	h, err := s.Handler()
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h}
	errs := make(chan error, 2)
	n := 0
	if l.GRPC != nil {
		n++
		go func() { errs <- gs.Serve(l.GRPC) }()
	}
	if l.HTTP != nil {
		n++
		go func() {
			if err := hs.Serve(l.HTTP); err != http.ErrServerClosed {
				errs <- err
				return
			}
			errs <- nil
		}()
	}
	var first error
	select {
	case <-ctx.Done():
	case first = <-errs:
		n--
	}
	gs.Stop()
	hs.Close()
	for range n {
		if err := <-errs; first == nil {
			first = err
		}
	}
	if first != nil {
		return fmt.Errorf("aiservice: %w", first)
	}
	return nil
}
