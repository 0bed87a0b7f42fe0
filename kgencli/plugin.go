package kgencli

import (
	"flag"
	"path/filepath"
	"strings"

	"github.com/kgen-dev/kgen/engine/api"
	"github.com/kgen-dev/kgen/sdk"
)

// listFlag is a flag that may be repeated.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

var pluginCmd = &command{
	name: "plugin",
	args: `[-host URL] install [-param P]... <type> <name> <file.zip>
[-host URL] install [-replace] portable <name> <file.zip>
[-host URL] list <type> | show <type> <name> | delete [-force] <type> <name>`,
	summary: "install, list, show and delete the plugins (Go and portable) of a running engine",
	help: `
Plugin manages the Go plugins (.so) of a running engine; <type> is source,
sink or function (or sources, sinks, functions). install takes a zip made
by kgen pack (eKuiper's layout), checks it, runs its install.sh with the
-param values as arguments (only when plugins.allowInstallScripts is true in
the engine's etc/kgen.yaml: a zip with install.sh is refused otherwise),
puts its files in the engine root and loads the plugin: new rules can use it
at once. A failed install leaves nothing of its files behind (what
install.sh changed elsewhere stays). A plugin whose init panics is refused
with the panic message. The zip is read by the engine: a local path is sent as an absolute
path, so the engine must run on this machine (or give a file:// URL of the
engine's machine).

delete removes the plugin's .so and the files its install wrote that are
unchanged since: configuration you changed or added (a source's
etc/sources/<name>.yaml, files under etc/<type>/<name>/) stays, and a later
install keeps it. A plugin that a stream or rule uses is refused, naming
them, unless -force is given. Rules already running keep the plugin's code
until they stop, because Go cannot unload a plugin.

Installing a plugin again after a delete takes effect for rules started
afterwards when the running engine can load it: the same build, or a build
of another Go module. A new build of the plugin it has loaded is refused
(409): restart kgen to replace plugin "x": the running engine has its old
code loaded. Restart the engine, then install it.

With the type portable (or portables), the plugin is a portable plugin:
a zip made by kgen pack -portable, an executable the engine runs as a
process of its own. install checks the zip (its manifest <name>.json names
the plugin and an executable at the root, with its x bits) and swaps it in
whole: a failed install leaves the installed version as it was.
install -replace installs a new version over the installed one while rules
run: rules created or restarted afterwards use the new version, running
rules keep calling the old process until they restart, and the old process
stops when no rule uses it. show prints the manifest, the process (status
running, idle or down, its pid or last error) and the replaced versions
still in use. delete of a portable plugin that rules call is refused,
naming them, unless -force is given; running rules then keep its process
until they stop.` + hostHelp,
	example: `
kgen pack ./random && kgen plugin install source random random.zip
kgen plugin list sources
kgen plugin delete source random
kgen plugin delete -force sink alert
kgen pack -portable ./greet && kgen plugin install portable greet greet.zip
kgen plugin install -replace portable greet greet.zip
kgen plugin show portable greet`,
	setup: func(fs *flag.FlagSet) runFunc {
		var params listFlag
		fs.Var(&params, "param", "an argument `P` of the zip's install.sh (repeat for several)")
		force := fs.Bool("force", false, "delete: delete a plugin that streams or rules use")
		replace := fs.Bool("replace", false, "install portable: replace the installed version while rules run")
		return clientCommand([]subcommand{
			{"install", 3, "<type> <name> <file.zip>", func(c *cli, cl *api.Client, args []string) error {
				file := args[2]
				if !strings.Contains(file, "://") {
					var err error
					if file, err = filepath.Abs(file); err != nil {
						return err
					}
				}
				if isPortableArg(args[0]) {
					if len(params) > 0 {
						return usageErrorf("install: -param does not apply to portable plugins")
					}
					return c.println(cl.InstallPortable(c.ctx, api.PortableBody{Name: args[1], File: file}, *replace))
				}
				if *replace {
					return usageErrorf("install: -replace applies to portable plugins only; a Go plugin cannot be replaced while the engine runs")
				}
				kind, err := parseKindArg(args[0])
				if err != nil {
					return err
				}
				return c.println(cl.InstallPlugin(c.ctx, kind, api.PluginBody{Name: args[1], File: file, ShellParas: params}))
			}},
			{"list", 1, "<type>", func(c *cli, cl *api.Client, args []string) error {
				if isPortableArg(args[0]) {
					list, err := cl.Portables(c.ctx)
					names := make([]string, len(list))
					for i, m := range list {
						names[i] = m.Name
					}
					return c.printLines(names, err)
				}
				kind, err := parseKindArg(args[0])
				if err != nil {
					return err
				}
				return c.printLines(cl.Plugins(c.ctx, kind))
			}},
			{"show", 2, "<type> <name>", func(c *cli, cl *api.Client, args []string) error {
				if isPortableArg(args[0]) {
					return c.printJSON(cl.Portable(c.ctx, args[1]))
				}
				kind, err := parseKindArg(args[0])
				if err != nil {
					return err
				}
				return c.printJSON(cl.Plugin(c.ctx, kind, args[1]))
			}},
			{"delete", 2, "<type> <name>", func(c *cli, cl *api.Client, args []string) error {
				if isPortableArg(args[0]) {
					return c.println(cl.DeletePortable(c.ctx, args[1], *force))
				}
				kind, err := parseKindArg(args[0])
				if err != nil {
					return err
				}
				return c.println(cl.DeletePlugin(c.ctx, kind, args[1], *force))
			}},
		})(fs)
	},
}

func parseKindArg(s string) (sdk.Kind, error) {
	k, err := sdk.ParseKind(s)
	if err != nil {
		return 0, usageErrorf("%v, or portable", err)
	}
	return k, nil
}

// isPortableArg reports whether a <type> argument names portable plugins.
func isPortableArg(s string) bool { return s == "portable" || s == "portables" }
