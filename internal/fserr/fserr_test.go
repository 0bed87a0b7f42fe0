package fserr

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestStates(t *testing.T) {
	for _, c := range []struct {
		err       error
		text      string
		is, isNot error
	}{
		{fmt.Errorf("rule %q: %w", "r", NotFound), `rule "r": not found`, fs.ErrNotExist, fs.ErrExist},
		{fmt.Errorf("stream %q: %w", "s", Exists), `stream "s": already exists`, fs.ErrExist, fs.ErrNotExist},
		{Errorf(NotFound, "sinks plugin %q is not installed", "x"), `sinks plugin "x" is not installed`, fs.ErrNotExist, fs.ErrExist},
		{Errorf(Exists, "plugin %q is already installed", "x"), `plugin "x" is already installed`, Exists, NotFound},
	} {
		if c.err.Error() != c.text {
			t.Errorf("text %q, want %q", c.err, c.text)
		}
		if !errors.Is(c.err, c.is) {
			t.Errorf("%q does not match %v", c.err, c.is)
		}
		if errors.Is(c.err, c.isNot) {
			t.Errorf("%q matches %v", c.err, c.isNot)
		}
	}
}
