// Package layout is the one place that names the folders and files of an
// engine root. The engine, the plugin loader and installer, the service
// registry, generated service clients and the CLI all find their files
// through it:
//
//	<root>/
//	  etc/kgen.yaml                  engine settings
//	  etc/sources/<type>.yaml        source properties by CONF_KEY
//	  etc/<kind>s/<name>.json        plugin metadata
//	  etc/<kind>s/<name>/            a plugin's own files (sdk.PluginDir)
//	  plugins/<kind>s/<Name>.so      Go plugins
//	  data/kgen.db                   the embedded store
//	  data/services/<name>.json      external-service descriptions
//	  data/services/schemas/         their .proto files
//	  log/
//
// sdk.PluginDir spells etc/<kind>s/<name> itself, since the sdk imports the
// standard library only; a test holds the two together.
package layout

import (
	"path/filepath"

	"github.com/kgen-dev/kgen/sdk"
)

// Root is an engine root folder.
type Root string

func (r Root) join(elem ...string) string {
	return filepath.Join(append([]string{string(r)}, elem...)...)
}

// Etc is the settings folder.
func (r Root) Etc() string { return r.join("etc") }

// ConfigFile is the engine settings file.
func (r Root) ConfigFile() string { return r.join("etc", "kgen.yaml") }

// SourceConfs is the folder of source property files.
func (r Root) SourceConfs() string { return r.join("etc", "sources") }

// SourceConf is the property file of a source type.
func (r Root) SourceConf(typ string) string { return r.join("etc", "sources", typ+".yaml") }

// PluginMeta is the folder of plugin metadata files of a kind.
func (r Root) PluginMeta(k sdk.Kind) string { return r.join("etc", k.Dir()) }

// PluginMetaFile is the metadata file of a plugin.
func (r Root) PluginMetaFile(k sdk.Kind, name string) string {
	return r.join("etc", k.Dir(), name+".json")
}

// PluginDir is the folder of a plugin's own files (see sdk.PluginDir).
func (r Root) PluginDir(k sdk.Kind, name string) string { return r.join("etc", k.Dir(), name) }

// Plugins is the folder of Go plugin files of a kind.
func (r Root) Plugins(k sdk.Kind) string { return r.join(PluginsDir, k.Dir()) }

// Data is the data folder.
func (r Root) Data() string { return r.join("data") }

// StoreFile is the embedded store.
func (r Root) StoreFile() string { return r.join("data", "kgen.db") }

// StateFile is the embedded store of extension state and checkpoints.
func (r Root) StateFile() string { return r.join("data", "state.db") }

// Services is the folder of external-service descriptions.
func (r Root) Services() string { return r.join("data", "services") }

// ServiceFile is the description of an external service.
func (r Root) ServiceFile(name string) string { return r.join("data", "services", name+".json") }

// Schemas is the folder of the services' schema files.
func (r Root) Schemas() string { return r.join("data", "services", "schemas") }

// Log is the log folder.
func (r Root) Log() string { return r.join("log") }

// PluginsDir is the name of the plugins folder, under an engine root and
// under BuildDir.
const PluginsDir = "plugins"

// BuildDir is where kgen build puts plugins by default, relative to the
// current folder: build/plugins/<kind>s/.
var BuildDir = filepath.Join("build", PluginsDir)
