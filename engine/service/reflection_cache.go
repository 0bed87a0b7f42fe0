package service

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/kgen-dev/kgen/internal/atomicfile"
)

// The rpcs a reflection interface learned at registration are kept beside
// the description, in data/services/reflection/<service>/<interface>.binpb
// (a FileDescriptorSet of the files it learned, built-in files left out).
// When the engine loads its services while such a server is down, the
// interface's functions come from there, so that the service and the rules
// that call it survive a restart; their calls fail, and are retried as the
// rule's options say, until the server answers. Registering the service
// again asks the server anew.

// reflectionDir is the folder of a service's learned descriptors.
func (r *Registry) reflectionDir(service string) string {
	return filepath.Join(r.root.Services(), "reflection", service)
}

// reflectionFile is where interface ifName of service keeps what it learned.
func (r *Registry) reflectionFile(service, ifName string) string {
	return filepath.Join(r.reflectionDir(service), url.PathEscape(ifName)+".binpb")
}

// learnedSet is the FileDescriptorSet of the files that define svcs and of
// what they import, dependencies first, built-in files left out.
func learnedSet(svcs []protoreflect.ServiceDescriptor) ([]byte, error) {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] || isBuiltin(fd.Path()) {
			return
		}
		seen[fd.Path()] = true
		imps := fd.Imports()
		for i := 0; i < imps.Len(); i++ {
			add(imps.Get(i).FileDescriptor)
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
	}
	for _, sd := range svcs {
		add(sd.ParentFile())
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(set)
}

// learnedServices builds the services of a FileDescriptorSet that
// learnedSet wrote, sorted by full name, as ReflectServices returns them.
func learnedServices(data []byte) ([]protoreflect.ServiceDescriptor, error) {
	set := &descriptorpb.FileDescriptorSet{}
	if err := (proto.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(data, set); err != nil {
		return nil, err
	}
	local := new(protoregistry.Files)
	var svcs []protoreflect.ServiceDescriptor
	for _, fdp := range set.File {
		fd, err := protodesc.NewFile(fdp, chainResolver{local, protoregistry.GlobalFiles})
		if err != nil {
			return nil, err
		}
		if err := local.RegisterFile(fd); err != nil {
			return nil, err
		}
		svcs = append(svcs, fileServices(fd)...)
	}
	if len(svcs) == 0 {
		return nil, errors.New("no service")
	}
	slices.SortFunc(svcs, func(a, b protoreflect.ServiceDescriptor) int {
		return strings.Compare(string(a.FullName()), string(b.FullName()))
	})
	return svcs, nil
}

// learnedFallback is, at load, the services interface ifName of service
// learned at its registration, when the server cannot be asked now (err).
// Without them, err is returned.
func (r *Registry) learnedFallback(service, ifName string, err error) ([]protoreflect.ServiceDescriptor, error) {
	p := r.reflectionFile(service, ifName)
	data, rerr := os.ReadFile(p)
	if rerr != nil {
		if errors.Is(rerr, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w; and the rpcs learned at registration: %v", err, rerr)
	}
	svcs, lerr := learnedServices(data)
	if lerr != nil {
		return nil, fmt.Errorf("%w; and the rpcs learned at registration: %s: %v", err, p, lerr)
	}
	r.logger.Warn("the server of a reflection interface does not answer: its functions use the rpcs learned at registration, and calls fail until it answers",
		"service", service, "interface", ifName, "err", err)
	return svcs, nil
}

// writeLearned keeps what the reflection interfaces of service learned,
// replacing what they had learned before; interfaces that are gone lose
// theirs.
func (r *Registry) writeLearned(service string, learned map[string][]byte) error {
	dir := r.reflectionDir(service)
	if len(learned) == 0 {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove learned rpcs: %w", err)
		}
		return nil
	}
	keep := map[string]bool{}
	for ifName, data := range learned {
		p := r.reflectionFile(service, ifName)
		keep[filepath.Base(p)] = true
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := atomicfile.Write(p, data); err != nil {
			return fmt.Errorf("keep learned rpcs: %w", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("keep learned rpcs: %w", err)
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove learned rpcs: %w", err)
			}
		}
	}
	return nil
}
