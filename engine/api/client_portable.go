package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/kgen-dev/kgen/engine/portable"
)

// InstallPortable installs a portable plugin zip into the engine
// (POST /plugins/portables), or with replace installs it again
// (PUT /plugins/portables/{name}): rules planned afterwards use the new
// version, running rules keep the old one until they restart. body.File
// is a file:// URL or an absolute path on the engine's machine.
func (c *Client) InstallPortable(ctx context.Context, body PortableBody, replace bool) (string, error) {
	if replace {
		return c.text(ctx, http.MethodPut, "/plugins/portables/"+url.PathEscape(body.Name), jsonBody(body))
	}
	return c.text(ctx, http.MethodPost, "/plugins/portables", jsonBody(body))
}

// Portables lists the manifests of the installed portable plugins.
func (c *Client) Portables(ctx context.Context) ([]portable.Manifest, error) {
	var list []portable.Manifest
	return list, c.json(ctx, http.MethodGet, "/plugins/portables", &list)
}

// Portable describes one portable plugin: its manifest and process, and
// the replaced versions running rules still use.
func (c *Client) Portable(ctx context.Context, name string) (*PortableStatus, error) {
	var st PortableStatus
	if err := c.json(ctx, http.MethodGet, "/plugins/portables/"+url.PathEscape(name), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// DeletePortable uninstalls a portable plugin. One that rules call is
// refused, naming them, unless force is set; running rules then keep its
// process until they stop.
func (c *Client) DeletePortable(ctx context.Context, name string, force bool) (string, error) {
	path := "/plugins/portables/" + url.PathEscape(name)
	if force {
		path += "?force=true"
	}
	return c.text(ctx, http.MethodDelete, path, nil)
}
