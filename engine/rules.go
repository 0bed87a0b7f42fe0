package engine

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/kgen-dev/kgen/engine/rule"
)

// RuleSummary is one line of the rule list.
type RuleSummary struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// CreateRule checks, saves and starts a rule from rule JSON. A rule that
// fails to plan is not saved. With "triggered": false (eKuiper's) it is
// checked and saved but not started.
func (e *Engine) CreateRule(data []byte) (*rule.Def, error) {
	def, err := rule.Parse(data)
	if err != nil {
		return nil, err
	}
	e.warnIgnored(def)
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.rules[def.ID]; ok {
		return nil, fmt.Errorf("rule %q: %w", def.ID, ErrExists)
	}
	entry := &ruleEntry{def: def, running: def.Triggered == nil || *def.Triggered}
	if entry.rule, err = rule.Plan(def, e.env); err != nil {
		return nil, err
	}
	if err := e.saveRule(entry); err != nil {
		entry.rule.Stop()
		return nil, fmt.Errorf("rule %q: save: %w", def.ID, err)
	}
	e.rules[def.ID] = entry
	if !entry.running {
		entry.rule.Stop()
		entry.rule = nil
		return def, nil
	}
	if err := entry.rule.Start(); err != nil {
		entry.err = err
	}
	return def, nil
}

// ValidateRule checks rule JSON as CreateRule does, parsing it and
// planning it (which provisions its sources and sinks), without saving or
// starting it; the id may be an existing rule's, which is left alone. It
// returns the eKuiper keys the rule carries that kgen ignores
// (rule.Def.Ignored).
func (e *Engine) ValidateRule(data []byte) ([]string, error) {
	def, err := rule.Parse(data)
	if err != nil {
		return nil, err
	}
	// Planned under a scratch id, so that nothing of a rule of that id
	// (its state hold, its checkpoint) is touched.
	scratch := *def
	e.mu.Lock()
	defer e.mu.Unlock()
	e.validations++
	scratch.ID = fmt.Sprintf("%s.validate-%d", def.ID, e.validations)
	planned, err := rule.Plan(&scratch, e.env)
	prefix := scratch.ID + "/"
	defer func() {
		e.states.Release(prefix)
		e.states.DeleteScopes(prefix)
		e.dropCheckpoint(scratch.ID)
	}()
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), strconv.Quote(scratch.ID), strconv.Quote(def.ID)))
	}
	planned.Stop()
	return def.Ignored(), nil
}

// warnIgnored logs the eKuiper keys of a rule that kgen does not implement.
func (e *Engine) warnIgnored(def *rule.Def) {
	if ignored := def.Ignored(); len(ignored) > 0 {
		e.logger.Warn("eKuiper rule keys kgen does not implement are ignored", "rule", def.ID, "keys", ignored)
	}
}

// UpdateRule replaces a rule's definition and restarts it if it was running.
func (e *Engine) UpdateRule(id string, data []byte) error {
	def, err := rule.Parse(data)
	if err != nil {
		return err
	}
	if def.ID != id {
		return fmt.Errorf("rule %q: the body is for rule %q", id, def.ID)
	}
	e.warnIgnored(def)
	e.opMu.Lock()
	defer e.opMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	entry, ok := e.rules[id]
	if !ok {
		return fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	planned, err := rule.Plan(def, e.env)
	if err != nil {
		return err
	}
	old := *entry
	if entry.rule != nil {
		e.stopOutside(entry.rule)
	}
	// The call sites that are still there keep their state (matched by
	// their text, see sql.CallSite); the state of those gone goes.
	if err := e.states.Prune(id+"/", planned.ScopeIDs()); err != nil {
		e.logger.Warn("rule update: the state of removed call sites stays", "rule", id, "err", err)
	}
	entry.def, entry.rule, entry.err = def, planned, nil
	if def.Triggered != nil && !*def.Triggered {
		entry.running = false
	}
	if err := e.saveRule(entry); err != nil {
		*entry = old
		planned.Stop()
		return fmt.Errorf("rule %q: save: %w", id, err)
	}
	if entry.running {
		entry.err = planned.Start()
	} else {
		planned.Stop()
		entry.rule = nil
	}
	return nil
}

// Rules lists the rules with their status.
func (e *Engine) Rules() []RuleSummary {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]RuleSummary, 0, len(e.rules))
	for id, r := range e.rules {
		out = append(out, RuleSummary{ID: id, Status: r.status().Status})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Rule returns a rule's definition.
func (e *Engine) Rule(id string) (*rule.Def, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.rules[id]
	if !ok {
		return nil, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	return r.def, nil
}

// RuleStatus returns a rule's state and metrics.
func (e *Engine) RuleStatus(id string) (rule.Status, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.rules[id]
	if !ok {
		return rule.Status{}, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	return r.status(), nil
}

// RuleTopo returns the topology of a rule as last planned. A rule that has
// not been planned since the engine started (it was stopped) has none.
func (e *Engine) RuleTopo(id string) (rule.Topo, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(id)
	if err != nil {
		return rule.Topo{}, err
	}
	if r.rule == nil {
		if r.err != nil {
			return rule.Topo{}, fmt.Errorf("rule %q has no topology: it failed to plan: %w", id, r.err)
		}
		return rule.Topo{}, fmt.Errorf("rule %q has no topology: it has not run since the engine started (start it first)", id)
	}
	return r.rule.Topo(), nil
}

func (r *ruleEntry) status() rule.Status {
	var st rule.Status
	if r.rule != nil {
		st = r.rule.Status()
	} else {
		st = rule.Status{ID: r.def.ID, Status: "stopped"}
	}
	if r.err != nil {
		st.Status = "failed"
		st.Message = r.err.Error()
	}
	return st
}

// ruleLocked returns the rule called id; e.mu is held.
func (e *Engine) ruleLocked(id string) (*ruleEntry, error) {
	r, ok := e.rules[id]
	if !ok {
		return nil, fmt.Errorf("rule %q: %w", id, ErrNotFound)
	}
	return r, nil
}

// StartRule starts a stopped rule. Starting a running rule is a no-op.
func (e *Engine) StartRule(id string) error { return e.setRunning(id, true, false) }

// StopRule stops a rule; it stays stopped across engine restarts.
func (e *Engine) StopRule(id string) error { return e.setRunning(id, false, false) }

// RestartRule stops and starts a rule, picking up changed streams, source
// conf keys and plugins.
func (e *Engine) RestartRule(id string) error { return e.setRunning(id, true, true) }

// setRunning records whether rule id is to run, which lasts across engine
// restarts, and starts or stops it. A running rule is planned and started
// again only when restart is set.
func (e *Engine) setRunning(id string, running, restart bool) error {
	e.opMu.Lock()
	defer e.opMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(id)
	if err != nil {
		return err
	}
	if running && !restart && r.rule != nil && r.rule.Status().Status == "running" {
		return nil
	}
	if !running {
		if r.rule != nil {
			e.stopOutside(r.rule)
		}
		r.err = nil
	}
	r.running = running
	if err := e.saveRule(r); err != nil {
		return fmt.Errorf("rule %q: save: %w", id, err)
	}
	if !running {
		return nil
	}
	return e.startLocked(r)
}

// startLocked plans and starts a rule; e.mu is held, and e.opMu when the
// rule may be running (it is stopped first, see stopOutside).
func (e *Engine) startLocked(r *ruleEntry) error {
	if r.rule != nil {
		e.stopOutside(r.rule)
		r.rule = nil
	}
	r.err = nil
	planned, err := rule.Plan(r.def, e.env)
	if err != nil {
		r.err = err
		return err
	}
	r.rule = planned
	if err := planned.Start(); err != nil {
		r.err = err
		return err
	}
	return nil
}

// DeleteRule stops a rule and removes it and its extension state.
func (e *Engine) DeleteRule(id string) error {
	e.opMu.Lock()
	defer e.opMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(id)
	if err != nil {
		return err
	}
	rl := r.rule
	if rl == nil {
		// A stopped rule is planned (not started) to reach its sources.
		if rl, err = rule.Plan(r.def, e.env); err != nil {
			e.logger.Warn("rule delete: its sources keep what they hold for it", "rule", id, "err", err)
		}
	}
	if rl != nil {
		e.mu.Unlock()
		rl.Forget() // outside e.mu, as stopOutside
		e.mu.Lock()
	}
	if err := e.kv.Delete(bucketRules, id); err != nil {
		return fmt.Errorf("rule %q: %w", id, err)
	}
	delete(e.rules, id)
	e.metrics.forgetRule(id)
	e.states.Release(id + "/")
	if err := e.states.DeleteScopes(id + "/"); err != nil {
		return fmt.Errorf("rule %q: delete state: %w", id, err)
	}
	if err := e.dropCheckpoint(id); err != nil {
		return fmt.Errorf("rule %q: delete checkpoint: %w", id, err)
	}
	return nil
}

// WaitRules blocks until every planned rule has stopped (for bounded
// sources: reached the end of its input) or done is closed.
func (e *Engine) WaitRules(done <-chan struct{}) {
	e.mu.Lock()
	var waits []<-chan struct{}
	for _, r := range e.rules {
		if r.rule != nil {
			waits = append(waits, r.rule.Done())
		}
	}
	e.mu.Unlock()
	for _, w := range waits {
		select {
		case <-w:
		case <-done:
			return
		}
	}
}

// stopOutside stops rl with e.mu released for the stop, and held again
// when it returns: a stop waits for the rows in flight (bounded, see
// rule.Rule.Stop), and reads of the engine (GET /rules, GET /streams) must
// not wait with it. The caller holds e.opMu, so no other change of streams
// or rules comes in meanwhile.
func (e *Engine) stopOutside(rl *rule.Rule) {
	e.mu.Unlock()
	defer e.mu.Lock()
	rl.Stop()
}
