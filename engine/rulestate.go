package engine

import (
	"errors"
	"fmt"

	"github.com/kgen-dev/kgen/engine/state"
)

// RuleState returns the extension state of rule id: one ScopeState per
// operator that has state (Op is "func:wordCount(text)", "source:demo",
// "sink:0:log" …), whether the rule runs or not.
func (e *Engine) RuleState(id string) ([]state.ScopeState, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.ruleLocked(id); err != nil {
		return nil, err
	}
	scopes, err := e.states.Inspect(id + "/")
	if err != nil {
		return nil, fmt.Errorf("rule %q: %w", id, err)
	}
	return scopes, nil
}

// ResetRuleState deletes the extension state of rule id. A running rule is
// stopped first and started again afterwards, with fresh extension
// instances, so no row is processed while its state goes; a rule that is
// not running is left as it is.
func (e *Engine) ResetRuleState(id string) error {
	e.opMu.Lock()
	defer e.opMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(id)
	if err != nil {
		return err
	}
	running := r.rule != nil && r.rule.Status().Status == "running"
	if running {
		e.stopOutside(r.rule)
	}
	var errs []error
	if err := e.states.DeleteScopes(id + "/"); err != nil {
		errs = append(errs, fmt.Errorf("rule %q: reset state: %w", id, err))
	}
	// The window and the sources' positions go too: the rule starts over.
	if err := e.dropCheckpoint(id); err != nil {
		errs = append(errs, fmt.Errorf("rule %q: reset checkpoint: %w", id, err))
	}
	// Start again even when the delete failed: a failed reset must not
	// leave a running rule stopped.
	if running {
		errs = append(errs, e.startLocked(r))
	}
	return errors.Join(errs...)
}
