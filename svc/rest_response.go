package svc

import (
	"bytes"
	"fmt"
	"math"
	"mime"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// DecodeResponse fills out, a message of the rpc's output type, from the
// Content-Type and body of a 2xx response to the call:
//   - JSON (application/json, *+json) is protobuf JSON; both json_name and
//     proto names are accepted and unknown keys dropped;
//   - text/* fills a wrapper output (StringValue, Int64Value, ...), parsed
//     leniently, and is otherwise tried as JSON;
//   - any other content type is tried as JSON.
//
// An empty body leaves out empty, and a message without fields
// (google.protobuf.Empty) ignores any body that is not JSON.
func (c *HTTPCall) DecodeResponse(contentType string, body []byte, out protoreflect.Message) error {
	return decodeRESTResponse(contentType, body, c.ResponseBody, out)
}

// ResponseToSQL decodes a response into out as DecodeResponse does and
// returns out as a SQL value, mapped as ToSQL maps it, except that a reply
// decoded from JSON keeps only the keys the service sent, as eKuiper maps a
// REST reply: a field the JSON left out is absent from the map (ToSQL
// would give its zero value), a key sent as null is nil, and this holds in
// nested messages, in the messages of repeated fields and in the message
// values of maps. Values keep ToSQL's types, names and well-known types.
// Replies not decoded from JSON (an empty body, text into a wrapper, a
// non-JSON body ignored for google.protobuf.Empty) give ToSQL(out).
func (c *HTTPCall) ResponseToSQL(contentType string, body []byte, out protoreflect.Message) (any, error) {
	sent, err := decodeREST(contentType, body, c.ResponseBody, out)
	if err != nil {
		return nil, err
	}
	if sent == nil {
		return messageToSQL(out), nil
	}
	return sentToSQL(out, sent), nil
}

// decodeRESTResponse is HTTPCall.DecodeResponse with the response field
// given.
func decodeRESTResponse(contentType string, body []byte, responseField string, out protoreflect.Message) error {
	_, err := decodeREST(contentType, body, responseField, out)
	return err
}

// decodeREST decodes a response into out and returns the JSON it decoded
// out from, the body wrapped in the response field if there is one; nil
// when out did not come from JSON.
func decodeREST(contentType string, body []byte, responseField string, out protoreflect.Message) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	md := out.Descriptor()
	mt := restMediaType(contentType)
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		sent, err := decodeJSONInto(body, responseField, out)
		if err != nil {
			return nil, fmt.Errorf("decode %s response into %s: %w", mt, md.FullName(), err)
		}
		return sent, nil
	}
	if strings.HasPrefix(mt, "text/") && responseField == "" && isWrapperMessage(md) {
		if err := setWrapperFromText(out, string(body)); err != nil {
			return nil, fmt.Errorf("decode %s response into %s: %w", mt, md.FullName(), err)
		}
		return nil, nil
	}
	sent, err := decodeJSONInto(body, responseField, out)
	if err == nil {
		return sent, nil
	}
	if md.Fields().Len() == 0 {
		return nil, nil
	}
	if mt == "" {
		mt = "(none)"
	}
	return nil, fmt.Errorf("response content type %q: want JSON for %s, and the body is not: %w", mt, md.FullName(), err)
}

var restJSONDecode = protojson.UnmarshalOptions{DiscardUnknown: true}

// decodeJSONInto decodes body into out as protobuf JSON, wrapped in the
// response field if there is one, and returns the JSON it decoded.
func decodeJSONInto(body []byte, responseField string, out protoreflect.Message) ([]byte, error) {
	if responseField != "" {
		fds, err := resolveFieldPath(out.Descriptor(), responseField)
		if err != nil || len(fds) != 1 {
			return nil, fmt.Errorf("response_body %q: want a top-level field of %s", responseField, out.Descriptor().FullName())
		}
		wrapped := make([]byte, 0, len(body)+len(fds[0].JSONName())+4)
		wrapped = strconv.AppendQuote(append(wrapped, '{'), fds[0].JSONName())
		wrapped = append(append(append(wrapped, ':'), body...), '}')
		body = wrapped
	}
	// Unmarshal resets out first, so a failed attempt leaves nothing half set
	// for a later one.
	if err := restJSONDecode.Unmarshal(body, out.Interface()); err != nil {
		return nil, err
	}
	return body, nil
}

// setWrapperFromText sets a wrapper's value from a text body: strings are
// taken as they are, other kinds trimmed and parsed ("true", "42", "1.5").
func setWrapperFromText(out protoreflect.Message, text string) error {
	fd := out.Descriptor().Fields().ByName("value")
	if fd == nil {
		return fmt.Errorf("%s has no value field", out.Descriptor().FullName())
	}
	t := strings.TrimSpace(text)
	var v protoreflect.Value
	switch fd.Kind() {
	case protoreflect.StringKind:
		v = protoreflect.ValueOfString(text)
	case protoreflect.BytesKind:
		v = protoreflect.ValueOfBytes([]byte(text))
	case protoreflect.BoolKind:
		b, err := strconv.ParseBool(t)
		if err != nil {
			return fmt.Errorf("want a bool, got %q", clipText(t))
		}
		v = protoreflect.ValueOfBool(b)
	case protoreflect.Int32Kind, protoreflect.Int64Kind:
		bits := 64
		if fd.Kind() == protoreflect.Int32Kind {
			bits = 32
		}
		n, err := strconv.ParseInt(t, 10, bits)
		if err != nil {
			f, ferr := strconv.ParseFloat(t, 64)
			if ferr != nil || f != float64(int64(f)) {
				return fmt.Errorf("want an integer, got %q", clipText(t))
			}
			n = int64(f)
		}
		if bits == 32 {
			if n > math.MaxInt32 || n < math.MinInt32 {
				return fmt.Errorf("want a 32-bit integer, got %q", clipText(t))
			}
			v = protoreflect.ValueOfInt32(int32(n))
		} else {
			v = protoreflect.ValueOfInt64(n)
		}
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		bits := 64
		if fd.Kind() == protoreflect.Uint32Kind {
			bits = 32
		}
		n, err := strconv.ParseUint(t, 10, bits)
		if err != nil {
			return fmt.Errorf("want an unsigned integer, got %q", clipText(t))
		}
		if bits == 32 {
			v = protoreflect.ValueOfUint32(uint32(n))
		} else {
			v = protoreflect.ValueOfUint64(n)
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return fmt.Errorf("want a number, got %q", clipText(t))
		}
		if fd.Kind() == protoreflect.FloatKind {
			v = protoreflect.ValueOfFloat32(float32(f))
		} else {
			v = protoreflect.ValueOfFloat64(f)
		}
	default:
		return fmt.Errorf("unsupported wrapper kind %s", fd.Kind())
	}
	out.Set(fd, v)
	return nil
}

func clipText(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// restMediaType is the lower-case media type of a Content-Type header, ""
// if absent or unreadable.
func restMediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	}
	return mt
}
