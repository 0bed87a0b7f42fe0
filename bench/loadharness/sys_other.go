//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

// The harness measures CPU with getrusage and /proc: Linux only. Elsewhere
// it builds, so that go vet ./... passes, and says why it cannot run.

var errNotLinux = errors.New("the load harness measures CPU time on Linux only")

func sysProcAttr() *syscall.SysProcAttr { return nil }

func selfCPU() (time.Duration, error) { return 0, errNotLinux }

func processCPU(int) (time.Duration, error) { return 0, errNotLinux }
