// Package pluginzip packs, installs and deletes native plugin zips in
// eKuiper's layout.
//
// A plugin zip has a flat root:
//
//	Random.so            the plugin: <name>.so, <Name>.so or <Name>@<version>.so
//	random.json          metadata (optional)
//	random.yaml          source configuration (required for sources)
//	etc/...              runtime files the plugin reads (optional)
//	install.sh           run before the plugin is put in place (optional)
//
// Anything else is extracted for install.sh to use and then discarded.
// Install places the files under the engine root:
//
//	Random.so     → plugins/<type>/Random.so
//	random.json   → etc/<type>/random.json
//	random.yaml   → etc/sources/random.yaml
//	etc/**        → etc/<type>/random/**   (see sdk.PluginDir)
//
// where <type> is sources, sinks or functions. Nothing else is recorded:
// the engine finds installed plugins by scanning plugins/ at startup.
//
// Install is all or nothing. It extracts into a staging folder inside
// <root>/plugins, refuses unsafe or malformed zips (absolute paths, "..",
// symbolic links, too many or too large entries — counting the bytes
// actually decompressed, not the sizes the headers claim), runs install.sh,
// moves the files into place, and then loads the plugin; when any step
// fails, everything it wrote is undone.
//
// # install.sh
//
// Running install.sh runs the zip's code as the engine's user, so Install
// refuses a zip holding one unless Options.AllowScripts is set (the
// engine's plugins.allowInstallScripts), with an error naming that setting.
// Allowed, the script runs in the staging folder (the zip's files, its
// working folder and HOME) with ScriptEnv as its whole environment (PATH,
// HOME, KGEN_ROOT), in a process group of its own that is killed when
// Options.ScriptTimeout passes; its output is logged. A failure after the
// script ran removes the install's files and says that the script's own
// changes elsewhere are not undone.
//
// # Quarantine
//
// Quarantine moves an installed plugin file that fails to load (the engine
// does so at startup) to plugins/.quarantine/<type>/<name>-<time>/ with its
// manifest, metadata and a reason.txt; ListQuarantined lists those folders,
// and Delete removes them with the plugin.
package pluginzip
