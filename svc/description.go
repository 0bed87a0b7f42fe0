package svc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Description is a service description file, <name>.json:
//
//	{"about": {...}, "interfaces": {"<iface>": {"address": "tcp://host:port",
//	 "protocol": "grpc", "schemaType": "protobuf", "schemaFile": "x.proto",
//	 "functions": [{"name": "sqlName", "serviceName": "rpcName"}],
//	 "options": {...}}}}
type Description struct {
	About      *About                `json:"about,omitempty"`
	Interfaces map[string]*Interface `json:"interfaces"`
}

// About describes the service for people.
type About struct {
	Author      *Author           `json:"author,omitempty"`
	HelpURL     map[string]string `json:"helpUrl,omitempty"`
	Description map[string]string `json:"description,omitempty"`
}

// Author of a service.
type Author struct {
	Name    string `json:"name,omitempty"`
	Email   string `json:"email,omitempty"`
	Company string `json:"company,omitempty"`
	Website string `json:"website,omitempty"`
}

// Protocols of an interface.
const (
	ProtocolGRPC = "grpc"
	ProtocolREST = "rest"
)

// Interface is one address and schema; every rpc of its schema's services
// (or of those Services names) becomes a SQL function.
type Interface struct {
	// Address is tcp://host:port for gRPC, http(s)://host:port[/base] for REST.
	Address  string `json:"address"`
	Protocol string `json:"protocol"`
	// SchemaType is "protobuf"; SchemaFile names a file under schemas/.
	SchemaType string `json:"schemaType,omitempty"`
	SchemaFile string `json:"schemaFile,omitempty"`
	// Services, when set, limits the interface to the rpcs of these proto
	// services of its schema file (by name, or full name with the
	// package), so one file's services can live at different addresses;
	// unset, every service of the file is the interface's, as in eKuiper.
	// (A kgen extension of eKuiper's format, which ignores it.)
	Services []string `json:"services,omitempty"`
	// Schemaless REST interfaces expose one function named after the
	// interface: fn(method, path, args...).
	Schemaless  bool              `json:"schemaless,omitempty"`
	Description map[string]string `json:"description,omitempty"`
	// Functions renames rpcs: ServiceName is the rpc, Name the SQL name.
	Functions []FunctionMapping `json:"functions,omitempty"`
	Options   *Options          `json:"options,omitempty"`
}

// FunctionMapping renames one rpc.
type FunctionMapping struct {
	Name        string            `json:"name"`
	ServiceName string            `json:"serviceName"`
	Description map[string]string `json:"description,omitempty"`
}

// Options tune calls to an interface.
type Options struct {
	Headers            map[string]string `json:"headers,omitempty"`
	InsecureSkipVerify bool              `json:"insecureSkipVerify,omitempty"`
	// TLS turns on TLS for gRPC (REST follows the address scheme).
	TLS bool `json:"tls,omitempty"`
	// Timeout bounds one call (default 5s).
	Timeout Duration `json:"timeout,omitempty"`
	// RetryCount retries failures that may pass on a second try (unavailable,
	// timed out, 5xx); RetryInterval apart (default 1s).
	RetryCount    int      `json:"retryCount,omitempty"`
	RetryInterval Duration `json:"retryInterval,omitempty"`
	// Credentials are the secrets of an openapi interface, keyed by
	// security scheme name (components.securitySchemes of its document):
	// a bearer, oauth2 or openIdConnect token, "user:password" for http
	// basic, an apiKey's key. Calls send those of the first security
	// requirement of the operation (or document) that they satisfy.
	Credentials map[string]string `json:"credentials,omitempty"`
}

// Duration is a time.Duration written as "1s" in JSON (a number is
// milliseconds).
type Duration time.Duration

// MarshalJSON writes d as a duration string, "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("want a duration like \"1s\", got %q", s)
		}
		*d = Duration(v)
		return nil
	}
	var ms int64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("want a duration like \"1s\" or milliseconds, got %s", b)
	}
	*d = Duration(time.Duration(ms) * time.Millisecond)
	return nil
}

// ParseDescription decodes a service description strictly: unknown keys are
// errors, so typos do not pass silently.
func ParseDescription(data []byte) (*Description, error) {
	var d Description
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	return &d, nil
}
