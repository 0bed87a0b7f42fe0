// Package aiservice is the example of kgen's external functions: the
// services of aiservice.proto, served over gRPC and REST by one
// implementation of the generated server stubs.
package aiservice

//go:generate go run ../../cmd/kgen gen server aiservice.proto
//go:generate go run ../../cmd/kgen gen service aiservice.proto --out service
