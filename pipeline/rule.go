package pipeline

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"

	"github.com/mlgate/mlgate/finding"
)

// Rule is a pipeline rule: its registered metadata plus a Check over a
// built Graph. Each rule lives in its own rule_*.go file.
type Rule struct {
	*finding.Rule
	Check func(p *Pass)
}

var rules []*Rule

// Register records a pipeline rule and its metadata in the global finding
// registry. Adapter packages call it from package-level vars for rules that
// only apply to their format (their Check returns at once when
// Pass.Graph.Format is another).
func Register(meta finding.Rule, check func(*Pass)) *Rule { return register(meta, check) }

// register records a pipeline rule and its metadata in the global finding
// registry. Called from package-level vars in the rule files.
func register(meta finding.Rule, check func(*Pass)) *Rule {
	r := &Rule{Rule: finding.Register(&meta), Check: check}
	// Kept sorted by ID, so Analyze runs rules in a stable order without
	// sorting for every graph.
	i := sort.Search(len(rules), func(i int) bool { return rules[i].ID >= r.ID })
	rules = append(rules, nil)
	copy(rules[i+1:], rules[i:])
	rules[i] = r
	return r
}

// Rules returns the pipeline rules sorted by ID.
func Rules() []*Rule {
	return append([]*Rule(nil), rules...)
}

// Options controls which rules run and with which per-rule options. The
// zero value runs every rule that is not disabled by default.
type Options struct {
	// Enabled decides whether a rule runs; nil means "not DefaultDisabled".
	Enabled func(*finding.Rule) bool
	// RuleOptions returns the options configured for a rule ID; nil means none.
	RuleOptions func(id string) map[string]any
}

// Pass is what a rule's Check receives: the graph, its options, and a way to
// report.
type Pass struct {
	Graph   *Graph
	Rule    *Rule
	Options map[string]any
	out     *[]finding.Finding
}

// Report records a finding about stage s at pos (the stage's own position
// when pos is zero). Evidence must be stable across unrelated edits: it
// feeds the fingerprint.
func (p *Pass) Report(s *Stage, pos Pos, message, evidence string) *finding.Finding {
	if pos.Line == 0 {
		pos = s.Pos
	}
	return p.ReportAt(pos, "stage "+s.Name, message, evidence)
}

// ReportAt records a finding that is not about one stage (a workflow's
// triggers or permissions, a Dockerfile line). logical names what it is
// about ("workflow", "trigger pull_request_target"); pos.File, when set,
// overrides the graph's file.
func (p *Pass) ReportAt(pos Pos, logical, message, evidence string) *finding.Finding {
	file := p.Graph.File
	if pos.File != "" {
		file = pos.File
	}
	loc := finding.Location{File: file, Line: pos.Line, Column: pos.Column, Logical: logical}
	*p.out = append(*p.out, p.Rule.New(loc, message, evidence))
	return &(*p.out)[len(*p.out)-1]
}

// MustStringList is StringList for use inside an exported rule's Check: a
// wrong option type stops the analysis with an error.
func (p *Pass) MustStringList(name string) []string { return p.mustStringList(name) }

// Assumed returns a note for messages when a property could not be
// determined from the source, e.g. " (network access could not be
// determined from the source; assumed)", and "" otherwise.
func Assumed(t Tri, what string) string { return assumed(t, what) }

// StringList returns a list-of-strings option, or nil when unset. A value of
// the wrong type is reported as an error.
func (p *Pass) StringList(name string) ([]string, error) {
	v, ok := p.Options[name]
	if !ok || v == nil {
		return nil, nil
	}
	out, ok := StringListValue(v)
	if !ok {
		return nil, fmt.Errorf("rule %s: option %s must be a list of strings", p.Rule.ID, name)
	}
	return out, nil
}

// StringListValue returns an option value (as decoded from YAML) as a list
// of strings, and false when it is not one.
func StringListValue(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// Analyze runs the enabled rules over a built graph and returns their
// findings in a deterministic order. An invalid rule option is an error.
func Analyze(g *Graph, opts Options) ([]finding.Finding, error) {
	if !g.built {
		if err := g.Build(); err != nil {
			return nil, err
		}
	}
	var out []finding.Finding
	for _, r := range rules {
		enabled := !r.DefaultDisabled
		if opts.Enabled != nil {
			enabled = opts.Enabled(r.Rule)
		}
		if !enabled {
			continue
		}
		p := &Pass{Graph: g, Rule: r, out: &out}
		if opts.RuleOptions != nil {
			p.Options = opts.RuleOptions(r.ID)
		}
		if err := runCheck(r, p); err != nil {
			return nil, err
		}
	}
	finding.Sort(out)
	return out, nil
}

// CheckOptions runs every enabled rule once over an empty graph, so an
// option of the wrong type is reported when the configuration is loaded,
// not only when a pipeline happens to exercise the rule.
func CheckOptions(opts Options) error {
	g := &Graph{}
	if err := g.Build(); err != nil {
		return err
	}
	_, err := Analyze(g, opts)
	return err
}

// optionError is panicked by rules on a bad option and recovered by runCheck,
// so rule bodies stay linear.
type optionError struct{ err error }

func runCheck(r *Rule, p *Pass) (err error) {
	defer func() {
		if e := recover(); e != nil {
			oe, ok := e.(optionError)
			if !ok {
				panic(e)
			}
			err = oe.err
		}
	}()
	r.Check(p)
	return nil
}

// mustStringList is StringList for use inside Check.
func (p *Pass) mustStringList(name string) []string {
	v, err := p.StringList(name)
	if err != nil {
		panic(optionError{err})
	}
	return v
}

// assumed returns a note for messages when a property was not declared.
func assumed(t Tri, what string) string {
	if t == Unknown {
		return fmt.Sprintf(" (%s could not be determined from the source; assumed)", what)
	}
	return ""
}

// maxListed is how many names a message lists before "and N more".
const maxListed = 10

// nameList joins names for a message, listing at most maxListed.
func nameList(xs []string) string {
	if len(xs) <= maxListed {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(xs)-maxListed)
}

// evidenceList joins names for evidence (and so the fingerprint); a list
// longer than 1 KiB is replaced by its count and a digest so findings stay
// small whatever the input.
func evidenceList(xs []string) string {
	j := strings.Join(xs, ",")
	if len(j) <= 1024 {
		return j
	}
	sum := sha256.Sum256([]byte(j))
	return fmt.Sprintf("%d names, sha256:%x", len(xs), sum[:8])
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = "'" + x + "'"
	}
	return strings.Join(q, ", ")
}

// assumedStages collects the stages a rule applies to only because whether
// they run untrusted code could not be determined (Kubeflow and Argo
// files cannot say; some CI jobs depend on expressions). Rather than one
// alarm per stage, report emits one finding per graph at a lower severity
// that names them and says what was assumed: conservative, but a format
// that cannot express a property does not drown real findings.
type assumedStages struct {
	stages []*Stage
}

func (a *assumedStages) add(s *Stage) { a.stages = append(a.stages, s) }

// report emits the aggregate finding at the first stage's position:
// "<n> stage(s) (<names>) <what>; whether they run untrusted code could
// not be determined from the source, so it is assumed."
func (a *assumedStages) report(p *Pass, what string, sev finding.Severity) {
	a.reportAs(p, what, "whether they run untrusted code", sev)
}

// reportAs is report with another unknown property named.
func (a *assumedStages) reportAs(p *Pass, what, unknown string, sev finding.Severity) {
	if len(a.stages) == 0 {
		return
	}
	names := make([]string, len(a.stages))
	for i, s := range a.stages {
		names[i] = s.Name
	}
	msg := fmt.Sprintf("%d stage(s) (%s) %s; %s could not be determined from the source, so it is assumed.",
		len(a.stages), nameList(names), what, unknown)
	f := p.ReportAt(a.stages[0].Pos, "pipeline", msg, "assumed-untrusted stages="+evidenceList(names))
	f.Severity = sev
}
