package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/reporter"
	_ "google.golang.org/genproto/googleapis/api/annotations" // registers google/api/{annotations,http}.proto
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/kgen-dev/kgen/engine/pluginzip"
)

// LoadSchema compiles file, a path relative to dir (<root>/data/services/schemas),
// with its imports. google/protobuf/*.proto (the well-known types) and
// google/api/*.proto (annotations, http) are built in, so neither protoc nor
// copies of them are needed; built-in files win over copies under dir, so
// that google.api.http options are the linked extension. Errors carry
// file:line:col.
func LoadSchema(dir, file string) (protoreflect.FileDescriptor, error) {
	return compileSchema(dir, nil, file)
}

// CompileSchema is LoadSchema over files (slash-separated path → content)
// instead of a folder: for schemas that exist only in memory.
func CompileSchema(files map[string][]byte, file string) (protoreflect.FileDescriptor, error) {
	return compileSchema("", files, file)
}

// compileSchema is LoadSchema with overlay files (path → content) that
// shadow the files in dir: schemas that are being validated before they are
// written.
func compileSchema(dir string, overlay map[string][]byte, file string) (protoreflect.FileDescriptor, error) {
	if err := checkSchemaPath(file); err != nil {
		return nil, err
	}
	src := &protocompile.SourceResolver{Accessor: func(p string) (io.ReadCloser, error) {
		if b, ok := overlay[p]; ok {
			return io.NopCloser(bytes.NewReader(b)), nil
		}
		if why := schemaPathProblem(p); why != "" {
			// An import that leaves the folder: say so, rather than
			// that it is missing.
			return nil, errors.New(why)
		}
		if dir == "" {
			return nil, fs.ErrNotExist
		}
		return os.Open(filepath.Join(dir, filepath.FromSlash(p)))
	}}
	builtin := protocompile.ResolverFunc(func(p string) (protocompile.SearchResult, error) {
		if strings.HasPrefix(p, "google/api/") {
			if fd, err := protoregistry.GlobalFiles.FindFileByPath(p); err == nil {
				return protocompile.SearchResult{Desc: fd}, nil
			}
		}
		return protocompile.SearchResult{}, fs.ErrNotExist
	})
	// The standard imports (WKT) are consulted only when the inner resolver
	// fails, so the inner one must refuse google/protobuf/* for them to win.
	inner := protocompile.ResolverFunc(func(p string) (protocompile.SearchResult, error) {
		if strings.HasPrefix(p, "google/protobuf/") && p != file {
			return protocompile.SearchResult{}, fs.ErrNotExist
		}
		if r, err := builtin(p); err == nil {
			return r, nil
		}
		return src.FindFileByPath(p)
	})
	c := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(inner),
		SourceInfoMode: protocompile.SourceInfoStandard,
		Reporter:       reporter.NewReporter(nil, nil),
	}
	files, err := c.Compile(context.Background(), file)
	if err != nil {
		var pe reporter.ErrorWithPos
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("schema %s", pe.Error())
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("schema %q: file not found", file)
		}
		return nil, fmt.Errorf("schema %q: %w", file, err)
	}
	fd, err := canonical(files[0])
	if err != nil {
		return nil, fmt.Errorf("schema %q: %w", file, err)
	}
	return fd, nil
}

// canonical rebuilds fd and its imports with protodesc, the built-in files
// taken from protoregistry.GlobalFiles and options decoded with the linked
// extension types. protocompile leaves custom options as dynamic messages,
// on which proto.GetExtension(opts, annotations.E_Http) panics; rebuilt,
// it returns a *annotations.HttpRule.
func canonical(fd protoreflect.FileDescriptor) (protoreflect.FileDescriptor, error) {
	return canonicalIn(new(protoregistry.Files), fd)
}

// canonicalIn is canonical with the rebuilt files kept in local, so that
// files common to several calls are rebuilt once.
func canonicalIn(local *protoregistry.Files, fd protoreflect.FileDescriptor) (protoreflect.FileDescriptor, error) {
	var add func(fd protoreflect.FileDescriptor) (protoreflect.FileDescriptor, error)
	add = func(fd protoreflect.FileDescriptor) (protoreflect.FileDescriptor, error) {
		if g, err := protoregistry.GlobalFiles.FindFileByPath(fd.Path()); err == nil && isBuiltin(fd.Path()) {
			return g, nil
		}
		if d, err := local.FindFileByPath(fd.Path()); err == nil {
			return d, nil
		}
		imps := fd.Imports()
		for i := 0; i < imps.Len(); i++ {
			if _, err := add(imps.Get(i).FileDescriptor); err != nil {
				return nil, err
			}
		}
		b, err := proto.Marshal(protodesc.ToFileDescriptorProto(fd))
		if err != nil {
			return nil, err
		}
		fdp := new(descriptorpb.FileDescriptorProto)
		if err := (proto.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(b, fdp); err != nil {
			return nil, err
		}
		nfd, err := protodesc.NewFile(fdp, chainResolver{local, protoregistry.GlobalFiles})
		if err != nil {
			return nil, err
		}
		if err := local.RegisterFile(nfd); err != nil {
			return nil, err
		}
		return nfd, nil
	}
	return add(fd)
}

func isBuiltin(p string) bool {
	return strings.HasPrefix(p, "google/protobuf/") || strings.HasPrefix(p, "google/api/")
}

// chainResolver finds files and descriptors in the first registry that has
// them.
type chainResolver []*protoregistry.Files

func (c chainResolver) FindFileByPath(p string) (protoreflect.FileDescriptor, error) {
	for _, r := range c {
		if fd, err := r.FindFileByPath(p); err == nil {
			return fd, nil
		}
	}
	return nil, protoregistry.NotFound
}

func (c chainResolver) FindDescriptorByName(n protoreflect.FullName) (protoreflect.Descriptor, error) {
	for _, r := range c {
		if d, err := r.FindDescriptorByName(n); err == nil {
			return d, nil
		}
	}
	return nil, protoregistry.NotFound
}

// maxSchemaPath bounds the length of a schema path, so that with the root
// before it it stays well under PATH_MAX. Names and depth are bounded as
// in zips (pluginzip.MaxNameLen, pluginzip.MaxDepth).
const maxSchemaPath = 1024

// checkSchemaPath accepts a slash-separated relative path that stays inside
// the schema folder and that fits the limits above.
func checkSchemaPath(p string) error {
	if why := schemaPathProblem(p); why != "" {
		return fmt.Errorf("schema file %q: %s", pluginzip.Shorten(p), why)
	}
	return nil
}

// schemaPathProblem says what is wrong with schema path p, or "".
func schemaPathProblem(p string) string {
	if p == "" || strings.Contains(p, `\`) || path.IsAbs(p) || !fs.ValidPath(p) || strings.ContainsRune(p, 0) {
		return "want a relative path inside schemas/"
	}
	elems := strings.Split(p, "/")
	if len(elems) > pluginzip.MaxDepth {
		return fmt.Sprintf("nested %d deep, more than the limit of %d", len(elems), pluginzip.MaxDepth)
	}
	for _, e := range elems {
		if len(e) > pluginzip.MaxNameLen {
			return fmt.Sprintf("a file or folder name of %d bytes, more than the limit of %d", len(e), pluginzip.MaxNameLen)
		}
	}
	if len(p) > maxSchemaPath {
		return fmt.Sprintf("%d bytes long, more than the limit of %d", len(p), maxSchemaPath)
	}
	return ""
}
