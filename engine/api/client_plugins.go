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

// DeletePlugin deletes a plugin's files; rules already using it keep it
// until the engine restarts.
func (c *Client) DeletePlugin(ctx context.Context, kind sdk.Kind, name string) (string, error) {
	return c.text(ctx, http.MethodDelete, "/plugins/"+kind.Dir()+"/"+url.PathEscape(name), nil)
}
