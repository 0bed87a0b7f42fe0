package engine

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kgen-dev/kgen/engine/store"
	"github.com/kgen-dev/kgen/internal/layout"
	"github.com/kgen-dev/kgen/internal/loopback"
	"github.com/kgen-dev/kgen/sdk"
)

// Config is etc/kgen.yaml.
type Config struct {
	MQTT struct {
		// Embedded is the address the embedded broker listens on when Server
		// is empty.
		Embedded string `yaml:"embedded"`
		// Server is an external broker URL (tcp://host:port). When set, the
		// embedded broker is not started and MQTT sources and sinks default to
		// this broker.
		Server string `yaml:"server"`
		// MaxPacketSize bounds an MQTT packet the embedded broker takes,
		// in bytes (default broker.DefaultMaxPacketSize, 16 MiB); a client
		// that sends a larger one is disconnected.
		MaxPacketSize uint32 `yaml:"maxPacketSize"`
	} `yaml:"mqtt"`
	// REST is where the management API listens and who may use it.
	REST RESTConfig `yaml:"rest"`
	// Name names this engine among those that share a state store (Redis);
	// rules keep their checkpoints under it. Default: "local" with the
	// embedded store, else the host name and a hash of the root folder.
	Name  string `yaml:"name"`
	Store struct {
		// FlushInterval is how often extension state of rules at qos 0 is
		// written to the store (rules at qos 1 and 2 write it with their
		// checkpoints).
		FlushInterval time.Duration `yaml:"flushInterval"`
		// Type and Redis choose where extension state and checkpoints
		// live: "bolt" (data/state.db) or "redis".
		store.Config `yaml:",inline"`
	} `yaml:"store"`
	Log struct {
		// Level is debug, info, warn or error.
		Level string `yaml:"level"`
		// MaxSize is the size in MiB at which log/kgen.log is rotated
		// (default 10); MaxBackups how many rotated files are kept
		// (default 5).
		MaxSize    int `yaml:"maxSize"`
		MaxBackups int `yaml:"maxBackups"`
	} `yaml:"log"`
	// Pprof is where the Go profiler's endpoints (/debug/pprof/) listen,
	// on a listener of their own; empty: off. Only a loopback address is
	// accepted, as profiles show the engine's memory.
	Pprof string `yaml:"pprof"`
	// Portable configures portable plugins (plugins/portable/); zero
	// values take engine/portable's defaults.
	Portable struct {
		// InitTimeout bounds a plugin's start.
		InitTimeout time.Duration `yaml:"initTimeout"`
		// CallTimeout bounds one call of a plugin.
		CallTimeout time.Duration `yaml:"callTimeout"`
		// RestartBackoff is the first wait before restarting a plugin that
		// exited; it doubles on every failure in a row.
		RestartBackoff time.Duration `yaml:"restartBackoff"`
		// PythonBin is the interpreter that runs Python plugins (default
		// python3 on PATH); it needs the grpc module (python3-grpcio).
		PythonBin string `yaml:"pythonBin"`
		// HealthInterval is how often running plugins are pinged; one
		// that does not answer is restarted, and so is a dead plugin with
		// rules' sources or sinks in it. Default 5s; negative: off.
		HealthInterval time.Duration `yaml:"healthInterval"`
	} `yaml:"portable"`
	// Plugins configures Go plugins (.so) installed from zips.
	Plugins struct {
		// AllowInstallScripts lets the install.sh of a plugin zip run on
		// install (as the engine's user: installing such a zip runs its
		// code). Off: a zip holding install.sh is refused.
		AllowInstallScripts bool `yaml:"allowInstallScripts"`
		// InstallScriptTimeout bounds one run of install.sh.
		InstallScriptTimeout time.Duration `yaml:"installScriptTimeout"`
	} `yaml:"plugins"`
	// Paths confines the files streams, rules and plugin definitions name
	// (internal/confine): the engine root, less its own files, and these.
	Paths struct {
		// Allow lists absolute folders outside the engine root that file
		// sources and sinks (and other path properties) may use.
		Allow []string `yaml:"allow"`
	} `yaml:"paths"`
}

const defaultConfig = `# kgen engine settings.
mqtt:
  # The embedded MQTT broker listens here, unless server is set.
  embedded: 127.0.0.1:1883
  # An external broker, for example tcp://10.0.0.5:1883. When set, the
  # embedded broker is off and MQTT sources and sinks default to this one.
  server: ""
  # The largest MQTT packet the embedded broker takes, in bytes (16 MiB);
  # a client that sends a larger one is disconnected.
  maxPacketSize: 16777216
rest:
  # The REST management API. Listening beyond loopback needs a token.
  listen: 127.0.0.1:9081
  # When set, every request but GET /ping needs the header
  # "Authorization: Bearer <token>". $KGEN_REST_TOKEN replaces it;
  # tokenFile (relative to the root) reads it from a file instead.
  token: ""
  tokenFile: ""
  # Serve HTTPS with this PEM certificate and key (relative to the root).
  tls:
    certFile: ""
    keyFile: ""
  # More Host names the API answers to (host or host:port), say behind a
  # proxy; and web origins (https://host:port) whose pages may call it.
  # Requests with any other Host or Origin are refused.
  allowedHosts: []
  allowedOrigins: []
# Names this engine among those sharing a Redis state store; rules keep
# their checkpoints under it. Empty: "local" with the embedded store, else
# the host name and a hash of the root folder.
name: ""
store:
  # Where extension state and rule checkpoints live: bolt (the embedded
  # file data/state.db) or redis (shared by the engines that point at it).
  type: bolt
  # How often extension state of rules at qos 0 is written to the store;
  # rules at qos 1 and 2 write theirs with each checkpoint.
  flushInterval: 1s
  redis:
    addr: 127.0.0.1:6379
    password: ""
    db: 0
    # Keys are <prefix>:<bucket> hashes.
    prefix: kgen
log:
  level: info
  # log/kgen.log is rotated at this size in MiB; maxBackups old files stay.
  maxSize: 10
  maxBackups: 5
# The Go profiler (/debug/pprof/) listens here, for example
# 127.0.0.1:6060; empty: off. Loopback addresses only (127.0.0.0/8, ::1,
# localhost): profiles show the engine's memory.
pprof: ""
plugins:
  # Run the install.sh of a Go plugin zip on install. It runs as the
  # engine's user (in the zip's folder, with only PATH, HOME and KGEN_ROOT
  # set), so installing such a zip runs its code; off, such zips are refused.
  allowInstallScripts: false
  # How long install.sh may run before it is killed and the install fails.
  installScriptTimeout: 2m
# Files that streams and rules name (file sources and sinks, TLS files)
# must be under the engine root, outside its etc/, plugins/, log/ and
# stores, or under one of these absolute folders, for example /var/log/app.
paths:
  allow: []
`

var defaultSourceConfs = map[string]string{
	"mqtt": `# Properties of the mqtt source. CONF_KEY picks a key; "default" is the base.
default:
  qos: 1
`,
	"file": `# Properties of the file source. path is the folder DATASOURCE names a file in.
default:
  fileType: lines
`,
}

// ResolveRoot picks the engine root: dir if given, else $KGEN_ROOT, else the
// current directory. The result is absolute.
func ResolveRoot(dir string) (string, error) {
	return filepath.Abs(cmp.Or(dir, os.Getenv("KGEN_ROOT"), "."))
}

// prepare creates the root folders and default settings files that are
// missing, then reads etc/kgen.yaml.
func prepare(l layout.Root) (*Config, error) {
	dirs := []string{l.Etc(), l.SourceConfs(), l.Data(), l.Log()}
	for _, k := range sdk.Kinds {
		dirs = append(dirs, l.Plugins(k))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("engine root: %w", err)
		}
	}
	if err := writeIfMissing(l.ConfigFile(), defaultConfig); err != nil {
		return nil, err
	}
	for typ, text := range defaultSourceConfs {
		if err := writeIfMissing(l.SourceConf(typ), text); err != nil {
			return nil, err
		}
	}
	return loadConfig(l.ConfigFile())
}

func writeIfMissing(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("engine root: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return fmt.Errorf("engine root: write %s: %w", path, err)
	}
	return f.Close()
}

func loadConfig(path string) (*Config, error) {
	var c Config
	if err := yaml.Unmarshal([]byte(defaultConfig), &c); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read settings: %w", err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	// An empty file means all defaults.
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.REST.resolve(filepath.Dir(filepath.Dir(path))); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.Pprof != "" {
		if err := loopback.Check(c.Pprof); err != nil {
			return nil, fmt.Errorf("%s: pprof %q: %w", path, c.Pprof, err)
		}
	}
	if c.Plugins.InstallScriptTimeout <= 0 {
		return nil, fmt.Errorf("%s: plugins.installScriptTimeout %v: want a positive duration such as 2m", path, c.Plugins.InstallScriptTimeout)
	}
	return &c, nil
}

// sourceProps reads etc/sources/<typ>.yaml and returns its "default" key
// overlaid by confKey (looked up as written, then lower-cased).
func sourceProps(l layout.Root, typ, confKey string) (map[string]any, error) {
	props := map[string]any{}
	path := l.SourceConf(typ)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if confKey != "" && !strings.EqualFold(confKey, "default") {
			return nil, fmt.Errorf("CONF_KEY %q: %s does not exist", confKey, path)
		}
		return props, nil
	}
	if err != nil {
		return nil, err
	}
	var keys map[string]map[string]any
	if err := yaml.Unmarshal(data, &keys); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for k, v := range keys["default"] {
		props[k] = v
	}
	if confKey == "" || strings.EqualFold(confKey, "default") {
		return props, nil
	}
	over, ok := keys[confKey]
	if !ok {
		over, ok = keys[strings.ToLower(confKey)]
	}
	if !ok {
		return nil, fmt.Errorf("CONF_KEY %q not found in %s", confKey, path)
	}
	for k, v := range over {
		props[k] = v
	}
	return props, nil
}
