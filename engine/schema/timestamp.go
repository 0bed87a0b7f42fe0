package schema

import (
	"fmt"
	"strings"
	"time"
)

// EventTime reads a row's event time from the value of its TIMESTAMP
// column: Unix milliseconds as a number, a time.Time (a DATETIME column), or
// a string in layout (a Go layout, see TimeLayout) or, without one, RFC
// 3339.
func EventTime(v any, layout string) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x, nil
	case string:
		if layout == "" {
			layout = time.RFC3339Nano
		}
		t, err := time.Parse(layout, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("event time %q: want the layout %q", x, layout)
		}
		return t, nil
	case nil:
		return time.Time{}, fmt.Errorf("event time: missing (NULL)")
	}
	if t, ok := epochMillis(v); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("event time: want Unix milliseconds, a datetime or a string, got %s", describe(v))
}

// timeTokens are the pattern letters of TIMESTAMP_FORMAT (eKuiper's, after
// Java's SimpleDateFormat) and their Go layout elements, longest first.
var timeTokens = []struct{ pattern, layout string }{
	{"YYYY", "2006"}, {"yyyy", "2006"}, {"YY", "06"}, {"yy", "06"},
	{"MMMM", "January"}, {"MMM", "Jan"}, {"MM", "01"}, {"M", "1"},
	{"dd", "02"}, {"d", "2"},
	{"EEEE", "Monday"}, {"EEE", "Mon"},
	{"HH", "15"}, {"hh", "03"}, {"h", "3"},
	{"mm", "04"}, {"m", "4"},
	{"ss", "05"}, {"s", "5"},
	{"SSSSSSSSS", "000000000"}, {"SSSSSS", "000000"}, {"SSS", "000"},
	{"a", "PM"},
	{"Z", "-0700"}, {"XXX", "Z07:00"}, {"X", "Z0700"},
}

// TimeLayout turns a TIMESTAMP_FORMAT pattern such as "YYYY-MM-dd
// HH:mm:ss.SSS" into a Go time layout. Text in single quotes is literal,
// as are characters that are not pattern letters. A pattern letter that has
// no Go equivalent is an error naming it.
func TimeLayout(pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			end := strings.IndexByte(pattern[i+1:], '\'')
			if end < 0 {
				return "", fmt.Errorf("time format %q: unclosed quote", pattern)
			}
			b.WriteString(pattern[i+1 : i+1+end])
			i += end + 2
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		matched := false
		for _, t := range timeTokens {
			if strings.HasPrefix(pattern[i:], t.pattern) {
				b.WriteString(t.layout)
				i += len(t.pattern)
				matched = true
				break
			}
		}
		if !matched {
			return "", fmt.Errorf("time format %q: unknown pattern letter %q at offset %d", pattern, c, i)
		}
	}
	return b.String(), nil
}
