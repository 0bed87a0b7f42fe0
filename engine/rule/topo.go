package rule

import (
	"fmt"
	"strconv"
)

// Topo is a rule's topology in eKuiper's shape (GET /rules/{id}/topo): the
// source nodes, where rows enter, and for each node the nodes it hands
// rows to.
type Topo struct {
	Sources []string            `json:"sources"`
	Edges   map[string][]string `json:"edges"`
}

// Topo describes the path rows take through the rule as planned. Nodes are
// named as eKuiper names them: "source_<stream>" for each stream the rule
// reads; "op_<n>_<kind>" for each step it runs, numbered after the sources
// in the order rows pass them; "sink_<type>_<i>" for the sink of actions[i].
//
// The steps are the rule's own, so their order is kgen's: a rule whose
// window holds rows in processing time and does not join runs WHERE
// (filter) before the window, so that the window holds only the rows it
// keeps; in event time or with a join, WHERE runs on the window's rows
// (after the join). A window's FILTER (windowFilter) shares the window's
// number, as in eKuiper. aggregate stands for grouping by GROUP BY keys
// and computing aggregate calls; having, order and project follow.
func (r *Rule) Topo() Topo {
	var ops []string
	n := len(r.sources)
	op := func(kind string) string { return "op_" + strconv.Itoa(n) + "_" + kind }
	add := func(kind string) {
		n++
		ops = append(ops, op(kind))
	}
	c := r.prog.Clauses()
	if g := r.grp; g == nil {
		if c.Where {
			add("filter")
		}
	} else {
		late := g.lateWhere()
		if c.Where && !late {
			add("filter")
		}
		if g.w != nil {
			n++
			if c.WindowFilter {
				ops = append(ops, op("windowFilter"))
			}
			ops = append(ops, op("window"))
		}
		if g.join {
			add("join")
		}
		if c.Where && late {
			add("filter")
		}
		if c.GroupBy || c.Aggregates {
			add("aggregate")
		}
		if c.Having {
			add("having")
		}
		if c.OrderBy {
			add("order")
		}
	}
	add("project")

	t := Topo{Sources: []string{}, Edges: map[string][]string{}}
	for _, s := range r.sources {
		name := "source_" + s.stream.Name
		t.Sources = append(t.Sources, name)
		t.Edges[name] = []string{ops[0]}
	}
	for i := 1; i < len(ops); i++ {
		t.Edges[ops[i-1]] = []string{ops[i]}
	}
	last := ops[len(ops)-1]
	t.Edges[last] = []string{}
	for i, s := range r.sinks {
		t.Edges[last] = append(t.Edges[last], fmt.Sprintf("sink_%s_%d", s.typ, i))
	}
	return t
}
