package sql

// MetaKey is the hidden key under which a row carries its source's
// metadata (the MQTT topic, messageId, qos; the memory topic) when the
// program reads it with meta(). Keys that start with a NUL byte never reach
// the output: a star skips them.
const MetaKey = hiddenPrefix + "meta"

// meta compiles meta(key), meta(a.b.c) (nested metadata maps) and meta(*)
// (the whole map). The argument names a metadata key, not a column, so it
// is not compiled as an expression. A missing key is NULL.
func (c *compiler) meta(e *Call) (code, error) {
	if len(e.Args) != 1 {
		return code{}, errorf(e.pos, "function %q: %s", "meta", argCountError(1, 1, len(e.Args)))
	}
	var path []string
	switch a := e.Args[0].(type) {
	case *Star:
		if a.Stream != "" || len(a.Except) > 0 {
			return code{}, errorf(a.pos, "function %q: want a metadata key or *, got %s", "meta", a.String())
		}
	case *FieldRef:
		if a.Stream != "" && c.join != nil {
			path = append(path, a.Stream) // meta(s.key): the key of side s
		}
		path = append(path, a.Name)
	case *Member:
		for x := Expr(a); ; {
			m, ok := x.(*Member)
			if !ok {
				ref, ok := x.(*FieldRef)
				if !ok {
					return code{}, errorf(a.pos, "function %q: want a metadata key or *, got %s", "meta", a.String())
				}
				path = append(path, ref.Name)
				if ref.Stream != "" {
					path = append(path, ref.Stream)
				}
				break
			}
			path = append(path, m.Name)
			x = m.X
		}
		// Collected innermost last; reverse.
		for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
			path[i], path[j] = path[j], path[i]
		}
	default:
		return code{}, errorf(e.Args[0].Pos(), "function %q: want a metadata key or *, got %s", "meta", e.Args[0].String())
	}
	if c.join != nil {
		return c.joinMeta(path), nil
	}
	// meta(stream.key): the qualifier names this stream (the only one
	// without joins), so it is dropped.
	if len(path) > 1 && (path[0] == c.stream) {
		path = path[1:]
	}
	return code{eval: func(row map[string]any) (any, error) {
		var v any = row[MetaKey]
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, nil
			}
			v = m[k]
		}
		return v, nil
	}}, nil
}
