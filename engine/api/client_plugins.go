package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/kgen-dev/kgen/sdk"
)

// InstallPlugin installs a plugin zip into the engine: body.File is a
// file:// URL or an absolute path on the engine's machine.
func (c *Client) InstallPlugin(ctx context.Context, kind sdk.Kind, body PluginBody) (string, error) {
	return c.text(ctx, http.MethodPost, "/plugins/"+kind.Dir(), jsonBody(body))
}

// Plugins lists the names of the engine's plugins of a kind.
func (c *Client) Plugins(ctx context.Context, kind sdk.Kind) ([]string, error) {
	var names []string
	return names, c.json(ctx, http.MethodGet, "/plugins/"+kind.Dir(), &names)
}

// Plugin describes one plugin.
func (c *Client) Plugin(ctx context.Context, kind sdk.Kind, name string) (*PluginInfo, error) {
	var info PluginInfo
	if err := c.json(ctx, http.MethodGet, "/plugins/"+kind.Dir()+"/"+url.PathEscape(name), &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// DeletePlugin deletes a plugin's files, keeping the configuration changed
// since the install. A plugin that streams or rules use is refused, naming
// them, unless force is set; rules already running keep its code until they
// stop.
func (c *Client) DeletePlugin(ctx context.Context, kind sdk.Kind, name string, force bool) (string, error) {
	path := "/plugins/" + kind.Dir() + "/" + url.PathEscape(name)
	if force {
		path += "?force=true"
	}
	return c.text(ctx, http.MethodDelete, path, nil)
}
