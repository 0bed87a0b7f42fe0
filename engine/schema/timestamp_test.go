package schema

import (
	"testing"
	"time"
)

func TestTimeLayout(t *testing.T) {
	for pattern, want := range map[string]string{
		"YYYY-MM-dd HH:mm:ss":          "2006-01-02 15:04:05",
		"yyyy-MM-dd'T'HH:mm:ss.SSSXXX": "2006-01-02T15:04:05.000Z07:00",
		"dd/MM/yy hh:mm a":             "02/01/06 03:04 PM",
	} {
		got, err := TimeLayout(pattern)
		if err != nil || got != want {
			t.Errorf("TimeLayout(%q) = %q, %v; want %q", pattern, got, err, want)
		}
	}
	for pattern, want := range map[string]string{
		"YYYY-MM-dd Q": `time format "YYYY-MM-dd Q": unknown pattern letter 'Q' at offset 11`,
		"HH 'o''clock": `time format "HH 'o''clock": unclosed quote`,
	} {
		if _, err := TimeLayout(pattern); err == nil || err.Error() != want {
			t.Errorf("TimeLayout(%q) error = %v, want %s", pattern, err, want)
		}
	}
}

func TestEventTime(t *testing.T) {
	want := time.UnixMilli(1541152486013).UTC()
	layout, _ := TimeLayout("yyyy-MM-dd HH:mm:ss.SSS")
	for _, c := range []struct {
		v      any
		layout string
	}{
		{int64(1541152486013), ""},
		{float64(1541152486013), ""},
		{want, ""},
		{"2018-11-02T09:54:46.013Z", ""},
		{"2018-11-02 09:54:46.013", layout},
	} {
		got, err := EventTime(c.v, c.layout)
		if err != nil || !got.Equal(want) {
			t.Errorf("EventTime(%v, %q) = %v, %v; want %v", c.v, c.layout, got, err, want)
		}
	}
	for v, msg := range map[any]string{
		nil:     "event time: missing (NULL)",
		true:    "event time: want Unix milliseconds, a datetime or a string, got bool true",
		"later": `event time "later": want the layout "2006-01-02T15:04:05.999999999Z07:00"`,
	} {
		if _, err := EventTime(v, ""); err == nil || err.Error() != msg {
			t.Errorf("EventTime(%v) error = %v, want %s", v, err, msg)
		}
	}
}
