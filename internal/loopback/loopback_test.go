package loopback

import "testing"

func TestCheck(t *testing.T) {
	for _, tc := range []struct{ addr, err string }{
		{"127.0.0.1:6060", ""},
		{"127.1.2.3:0", ""},
		{"[::1]:6060", ""},
		{"localhost:6060", ""},
		{"[::ffff:127.0.0.1]:6060", ""},
		{"0.0.0.0:6060", "not a loopback address (want 127.0.0.0/8, ::1 or localhost)"},
		{":6060", "not a loopback address (want 127.0.0.0/8, ::1 or localhost)"},
		{"[::]:6060", "not a loopback address (want 127.0.0.0/8, ::1 or localhost)"},
		{"10.0.0.5:6060", "not a loopback address (want 127.0.0.0/8, ::1 or localhost)"},
		{"example.com:6060", "not a loopback address (want 127.0.0.0/8, ::1 or localhost)"},
		{"127.0.0.1", "want host:port on the loopback interface, such as 127.0.0.1:6060"},
	} {
		err := Check(tc.addr)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.err {
			t.Errorf("Check(%q) = %q, want %q", tc.addr, got, tc.err)
		}
	}
}
