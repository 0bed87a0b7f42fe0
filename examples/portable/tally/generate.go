package main

//go:generate go run github.com/kgen-dev/kgen/cmd/kgen-gen
