package api

import (
	"fmt"
	"net/http"

	"github.com/kgen-dev/kgen/engine/state"
)

// RuleState is the body of GET /rules/{id}/state: the extension state of
// each operator of the rule that has some.
type RuleState struct {
	Rule   string             `json:"rule"`
	Scopes []state.ScopeState `json:"scopes"`
}

func (s *server) ruleState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	scopes, err := s.e.RuleState(id)
	if err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeJSON(w, http.StatusOK, RuleState{Rule: id, Scopes: nonNil(scopes)})
}

func (s *server) resetRuleState(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.e.ResetRuleState(id); err != nil {
		s.fail(w, r, err, statusFor(err))
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("State of rule %s was reset.", id))
}
