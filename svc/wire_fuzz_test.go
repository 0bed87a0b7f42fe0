package svc

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"
)

var wireFuzzMessages = append([]string{"P2", "P3", "Ed", "Leaf", "Sub"}, fuzzMessages...)

// FuzzEncodeRequest feeds arbitrary SQL values (JSON, integral numbers
// made int64 when asked) to EncodeRequest and to BuildRequest and
// Marshal: the bytes, or the errors, must be the same.
func FuzzEncodeRequest(f *testing.F) {
	for i, name := range wireFuzzMessages {
		for _, tc := range encodeCases {
			if tc.msg != name {
				continue
			}
			if js, err := json.Marshal(tc.args); err == nil {
				f.Add(uint8(i), js, true)
				f.Add(uint8(i), js, false)
			}
		}
	}
	f.Add(uint8(0), []byte(`{"id":1,"subs":{"a":{"code":"x"},"b":{}},"tight":[1,-1],"box":{"w":1}}`), true)
	f.Add(uint8(1), []byte(`{"by_bool":{"true":"a","t":"b"},"by_u64":{"1":1,"01":2},"leaf":{"kids":[{"a":1}]},"num":0}`), true)
	f.Fuzz(func(t *testing.T, which uint8, data []byte, ints bool) {
		md := wireMsg(t, wireFuzzMessages[int(which)%len(wireFuzzMessages)])
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		if ints {
			v = intify(v)
		}
		args, ok := v.([]any)
		if !ok {
			args = []any{v}
		}
		checkEncode(t, md, args)
	})
}

// FuzzDecodeToSQL decodes arbitrary bytes as each test message with
// DecodeToSQL and with Unmarshal and ToSQL: the SQL values must be the
// same, or both fail.
func FuzzDecodeToSQL(f *testing.F) {
	for i, name := range wireFuzzMessages {
		for _, tc := range encodeCases {
			if tc.msg != name {
				continue
			}
			md := wireMsg(f, name)
			if m, err := BuildRequest("f", md, tc.args); err == nil {
				if b, err := (proto.MarshalOptions{AllowPartial: true}).Marshal(m); err == nil {
					f.Add(uint8(i), b)
				}
			}
		}
	}
	f.Add(uint8(0), wire(1, vt, 5, 6, sg, string(wire(7, vt, 1)), 9, sg, "", 4, bt, string([]byte{1, 2}), 13, bt, wire(1, bt, "k", 2, bt, wire(1, bt, "c"))))
	f.Add(uint8(1), wire(15, bt, wire(1, vt, 1), 16, vt, 2, 15, bt, wire(2, bt, "b"), 12, bt, wire(1, vt, 3, 2, bt, wire(1, vt, 1), 2, bt, wire(3, bt, ""))))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		checkDecode(t, wireMsg(t, wireFuzzMessages[int(which)%len(wireFuzzMessages)]), data)
	})
}
