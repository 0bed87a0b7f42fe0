"""Conversion between Python values and the protocol's Value."""

from kgen_portable.pb.kgen.portable.v1 import portable_pb2 as pb

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def to_value(v):
    """Returns the Value of a Python value: None, bool, int, float, str,
    bytes, a list or tuple of values, or a dict with str keys."""
    out = pb.Value()
    _fill(out, v)
    return out


def _fill(out, v):
    if v is None:
        return
    if isinstance(v, bool):
        out.bool_value = v
    elif isinstance(v, int):
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise ValueError("integer %d overflows int64" % v)
        out.int_value = v
    elif isinstance(v, float):
        out.float_value = v
    elif isinstance(v, str):
        out.string_value = v
    elif isinstance(v, (bytes, bytearray)):
        out.bytes_value = bytes(v)
    elif isinstance(v, (list, tuple)):
        out.list_value.SetInParent()
        for i, e in enumerate(v):
            try:
                _fill(out.list_value.values.add(), e)
            except (TypeError, ValueError) as err:
                raise type(err)("element %d: %s" % (i, err)) from None
    elif isinstance(v, dict):
        out.map_value.SetInParent()
        for k in sorted(v):
            if not isinstance(k, str):
                raise TypeError("key %r: want a str key, got %s" % (k, type(k).__name__))
            try:
                _fill(out.map_value.fields[k], v[k])
            except (TypeError, ValueError) as err:
                raise type(err)("key %r: %s" % (k, err)) from None
    else:
        raise TypeError("unsupported value of type %s" % type(v).__name__)


def from_value(v):
    """Returns the Python value of a Value: NULL is None, lists are lists
    and maps are dicts."""
    kind = v.WhichOneof("kind")
    if kind is None:
        return None
    if kind == "list_value":
        return [from_value(e) for e in v.list_value.values]
    if kind == "map_value":
        return from_map(v.map_value)
    return getattr(v, kind)


def from_map(m):
    """Returns the dict of a MapValue."""
    return {k: from_value(e) for k, e in m.fields.items()}


def to_map(d):
    """Returns the MapValue of a dict (a row)."""
    if not isinstance(d, dict):
        raise TypeError("want a dict row, got %s" % type(d).__name__)
    return to_value(d).map_value
