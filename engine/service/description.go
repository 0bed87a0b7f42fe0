package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/internal/jsonpos"
	"github.com/kgen-dev/kgen/internal/suggest"
	"github.com/kgen-dev/kgen/svc"
)

// parseDescription is svc.ParseDescription after checkKeys: a key given
// twice, which encoding/json would settle silently by keeping the last,
// and an unknown key are errors with their position.
func parseDescription(data []byte) (*svc.Description, error) {
	if err := checkKeys(data, reflect.TypeFor[svc.Description]()); err != nil {
		return nil, err
	}
	return svc.ParseDescription(data)
}

// checkKeys walks the JSON document data along type t and refuses the
// first object key that repeats one before it in the same object, or that
// no field of the struct it fills is named (exactly: encoding/json would
// also take "Address" for "address"). Syntax errors end the walk without
// an error: decoding reports them.
func checkKeys(data []byte, t reflect.Type) error {
	w := &keyWalker{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	w.dec.UseNumber()
	var ke *keyError
	if err := w.value(t, ""); errors.As(err, &ke) {
		return ke
	}
	return nil
}

type keyWalker struct {
	data []byte
	dec  *json.Decoder
}

// keyError is a refused key; other errors of the walk are syntax errors.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

// value reads one value that fills type t (nil: anything) at path.
func (w *keyWalker) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := w.dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		return w.object(t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		_, err := w.dec.Token()
		return err
	}
	return nil
}

// object reads the keys and values of an object whose '{' was read.
func (w *keyWalker) object(t reflect.Type, path string) error {
	var fields map[string]reflect.Type // nil: any key
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for w.dec.More() {
		before := w.dec.InputOffset()
		tok, err := w.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		at := w.keyStart(before)
		if seen[key] {
			return w.refuse(at, path, fmt.Sprintf("duplicate key %q", key))
		}
		seen[key] = true
		vt := elem
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				known := slices.Sorted(maps.Keys(fields))
				if hint := suggest.DidYouMean(key, known); hint != "" {
					return w.refuse(at, path, fmt.Sprintf("unknown key %q%s", key, hint))
				}
				return w.refuse(at, path, fmt.Sprintf("unknown key %q (known: %s)", key, strings.Join(known, ", ")))
			}
			vt = ft
		}
		sub := key
		if path != "" {
			sub = path + "." + key
		}
		if err := w.value(vt, sub); err != nil {
			return err
		}
	}
	_, err := w.dec.Token()
	return err
}

// keyStart is the offset of the key that follows offset before: past the
// blanks and the comma between them.
func (w *keyWalker) keyStart(before int64) int64 {
	for before < int64(len(w.data)) && strings.IndexByte(" \t\r\n,", w.data[before]) >= 0 {
		before++
	}
	return before
}

func (w *keyWalker) refuse(at int64, path, msg string) error {
	if path != "" {
		msg = path + ": " + msg
	}
	return &keyError{msg: jsonpos.LineCol(w.data, at) + ": " + msg}
}

// jsonFields maps the JSON names of the fields of struct t to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
