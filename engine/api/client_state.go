package api

import (
	"context"
	"net/http"
	"net/url"
)

// RuleState returns the extension state of a rule's operators.
func (c *Client) RuleState(ctx context.Context, id string) (*RuleState, error) {
	var st RuleState
	if err := c.json(ctx, http.MethodGet, "/rules/"+url.PathEscape(id)+"/state", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// ResetRuleState deletes a rule's extension state; a running rule is
// restarted around the reset.
func (c *Client) ResetRuleState(ctx context.Context, id string) (string, error) {
	return c.text(ctx, http.MethodDelete, "/rules/"+url.PathEscape(id)+"/state", nil)
}
