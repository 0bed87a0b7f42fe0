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
[-host URL] list <type> | show <type> <name> | delete [-force] <type> <name>`,
	summary: "install, list, show and delete the plugins of a running engine",
	help: `
Plugin manages the Go plugins (.so) of a running engine; <type> is source,
sink or function (or sources, sinks, functions). install takes a zip made
by kgen pack (eKuiper's layout), checks it, runs its install.sh with the
-param values as arguments, puts its files in the engine root and loads the
plugin: new rules can use it at once. A failed install leaves nothing
behind. The zip is read by the engine: a local path is sent as an absolute
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
code loaded. Restart the engine, then install it.` + hostHelp,
	example: `
kgen pack ./random && kgen plugin install source random random.zip
kgen plugin list sources
kgen plugin delete source random
kgen plugin delete -force sink alert`,
	setup: func(fs *flag.FlagSet) runFunc {
		var params listFlag
		fs.Var(&params, "param", "an argument `P` of the zip's install.sh (repeat for several)")
		force := fs.Bool("force", false, "delete: delete a plugin that streams or rules use")
		return clientCommand([]subcommand{
			{"install", 3, "<type> <name> <file.zip>", func(c *cli, cl *api.Client, args []string) error {
				kind, err := parseKindArg(args[0])
				if err != nil {
					return err
				}
				file := args[2]
				if !strings.Contains(file, "://") {
					if file, err = filepath.Abs(file); err != nil {
						return err
					}
				}
				return c.println(cl.InstallPlugin(c.ctx, kind, api.PluginBody{Name: args[1], File: file, ShellParas: params}))
			}},
			{"list", 1, "<type>", func(c *cli, cl *api.Client, args []string) error {
				kind, err := parseKindArg(args[0])
				if err != nil {
					return err
				}
				return c.printLines(cl.Plugins(c.ctx, kind))
			}},
			{"show", 2, "<type> <name>", func(c *cli, cl *api.Client, args []string) error {
				kind, err := parseKindArg(args[0])
				if err != nil {
					return err
				}
				return c.printJSON(cl.Plugin(c.ctx, kind, args[1]))
			}},
			{"delete", 2, "<type> <name>", func(c *cli, cl *api.Client, args []string) error {
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
		return 0, usageErrorf("%v", err)
	}
	return k, nil
}
