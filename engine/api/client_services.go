package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/kgen-dev/kgen/engine/service"
	"github.com/kgen-dev/kgen/svc"
)

// CreateService registers the service in a zip (<name>.json plus
// schemas/**), sending the zip itself.
func (c *Client) CreateService(ctx context.Context, name string, zip []byte) (string, error) {
	data, err := c.doType(ctx, http.MethodPost, "/services?name="+url.QueryEscape(name), "application/zip", zip)
	return trimText(data), err
}

// UpdateService replaces a registered service with the one in a zip.
func (c *Client) UpdateService(ctx context.Context, name string, zip []byte) (string, error) {
	data, err := c.doType(ctx, http.MethodPut, "/services/"+url.PathEscape(name), "application/zip", zip)
	return trimText(data), err
}

// DeleteService removes a service; running rules keep it until restarted.
func (c *Client) DeleteService(ctx context.Context, name string) (string, error) {
	return c.text(ctx, http.MethodDelete, "/services/"+url.PathEscape(name), nil)
}

// Services lists the registered service names.
func (c *Client) Services(ctx context.Context) ([]string, error) {
	var names []string
	return names, c.json(ctx, http.MethodGet, "/services", &names)
}

// Service returns a service's description.
func (c *Client) Service(ctx context.Context, name string) (*svc.Description, error) {
	var d svc.Description
	if err := c.json(ctx, http.MethodGet, "/services/"+url.PathEscape(name), &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ServiceFunctions lists the SQL functions the services provide.
func (c *Client) ServiceFunctions(ctx context.Context) ([]service.FunctionInfo, error) {
	var fs []service.FunctionInfo
	return fs, c.json(ctx, http.MethodGet, "/services/functions", &fs)
}
