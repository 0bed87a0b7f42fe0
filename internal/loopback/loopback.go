// Package loopback tells whether a listen address stays on this machine.
package loopback

import (
	"errors"
	"net"
	"net/netip"
)

// Check returns an error unless addr, host:port, names a loopback host:
// an address in 127.0.0.0/8, ::1 or "localhost". Host names other than
// localhost are refused rather than resolved, and so is an empty host
// (every interface).
func Check(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port on the loopback interface, such as 127.0.0.1:6060")
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return nil
	}
	return errors.New("not a loopback address (want 127.0.0.0/8, ::1 or localhost)")
}
