package suggest

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"qos", "qos", 0}, {"qoss", "qos", 1}, {"", "abc", 3},
		{"kitten", "sitting", 3}, {"topc", "topic", 1}, {"sevrer", "server", 2}, {"ü", "u", 1},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := Distance(c.b, c.a); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.b, c.a, got, c.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"server", "topic", "qos", "clientId", "retained", "bufferLength", "bufferFullPolicy"}
	for _, c := range []struct {
		word, want string
	}{
		{"qoss", "qos"},
		{"topc", "topic"},
		{"clientID", "clientId"}, // case only
		{"CLIENTID", "clientId"},
		{"retain", "retained"},
		{"bufferLenght", "bufferLength"},
		{"zzz", ""},
		{"password", ""},
		{"q", ""}, // one letter from "qos" is 2 edits
	} {
		got, ok := Closest(c.word, known)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Closest(%q) = %q, %v; want %q", c.word, got, ok, c.want)
		}
	}
	if got := DidYouMean("qoss", known); got != `, did you mean "qos"?` {
		t.Errorf("DidYouMean = %q", got)
	}
	if got := DidYouMean("zzz", known); got != "" {
		t.Errorf("DidYouMean = %q", got)
	}
}
